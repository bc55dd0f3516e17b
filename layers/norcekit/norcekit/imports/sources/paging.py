"""Walking a REST API's pages so that a read is complete or fails: never a silent partial read.

A full import sends ``FullFile=true``, and Norce deactivates whatever is missing from it, so a read
that stops early is a mass deactivation. The rules (issue: "complete reads or none"):

- A read ends only on an empty page, on the absence of a next link, or when the total the API
  announced (``total_pointer``) is reached (a next link is followed until a page is empty: rows
  changing during the read can outgrow a count announced once). A page shorter than
  ``page_size`` is *not* the end: many APIs cap their page size below what was asked.
- A 200 answer without the items pointer (an error page, a login page, a changed API) fails the
  read; it is never taken for an empty page.
- An announced total that the pages do not reach fails the read.
- Next links are followed only on the configured origin (scheme, host, port) and only over https
  (plain http only on loopback): the source's ``Authorization`` header goes with every request.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urljoin

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from norcekit.imports.sources.base import SourceError

#: Fetches one page: (url, query params or None) -> (parsed JSON body, the URL as shown in messages).
PageGetter = Callable[[str, Mapping[str, str] | None], tuple[Any, str]]


class RestPaging(BaseModel):
    """How to walk pages. ``items_pointer``/``next_pointer``/``total_pointer`` are JSON pointers."""

    model_config = ConfigDict(extra="forbid")

    style: Literal["nextlink", "page", "offset", "none"] = "nextlink"
    items_pointer: str = Field(default="/value", description="'' when the body itself is the list.")
    next_pointer: str = "/@odata.nextLink"
    total_pointer: str | None = Field(
        default=None, description="Where the API states the total row count (e.g. /@odata.count)."
    )
    page_param: str = "page"
    size_param: str = "size"
    first_page: int = 1
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = Field(default=100, ge=1, le=100_000)

    @field_validator("items_pointer", "next_pointer", "total_pointer")
    @classmethod
    def _pointer(cls, value: str | None) -> str | None:
        if value and not value.startswith("/"):
            raise ValueError("a JSON pointer starts with '/' (or is '' for the whole body)")
        return value


def json_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901 look-up; ``None`` when a step is missing."""
    if pointer == "":
        return document
    current = document
    for raw_token in pointer[1:].split("/"):
        token = raw_token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict):
            current = current.get(token)
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
        if current is None:
            return None
    return current


# --- Where credentials may go -------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (the only hosts plain http is allowed for)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_transport(url: str, what: str) -> None:
    """Raise unless ``url`` is https, or plain http on loopback (credentials travel with it)."""
    parsed = httpx.URL(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback(parsed.host)):
        return
    raise SourceError(
        f"{what} {_shown(parsed)} is not https; credentials are only sent over https "
        "(plain http only to localhost)"
    )


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parsed = httpx.URL(url)
    default = {"https": 443, "http": 80}.get(parsed.scheme)
    return parsed.scheme, parsed.host.lower(), parsed.port or default


def check_next_link(link: str, first_url: str, shown: str) -> None:
    """Raise unless ``link`` stays on ``first_url``'s origin over an allowed transport."""
    if origin_of(link) != origin_of(first_url):
        raise SourceError(
            f"{shown}: next link points to {_shown(httpx.URL(link))}, outside the configured origin "
            f"{_shown(httpx.URL(first_url))}; not followed (it would receive the source's credentials)"
        )
    check_transport(link, f"{shown}: next link")


def _shown(url: httpx.URL) -> str:
    """Origin only: a foreign link's path and query are none of the log's business."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


# --- The walk -------------------------------------------------------------------------------------


def page_items(body: Any, pointer: str, shown: str) -> list[Any]:
    """The page's items; a body without them (an error page, a changed API) fails the read."""
    items = json_pointer(body, pointer)
    if items is None:
        where = f"{pointer!r}" if pointer else "the body"
        raise SourceError(
            f"{shown}: the answer has no items at {where}; refusing to treat it as an empty page "
            f"(answer starts: {_excerpt(body)})"
        )
    if not isinstance(items, list):
        raise SourceError(f"{shown}: {pointer or 'the body'} is not a list")
    return items


def _excerpt(body: Any) -> str:
    text = repr(body)
    return text[:200] + ("…" if len(text) > 200 else "")


class _Total:
    """The announced total (if any) and the rows read so far."""

    def __init__(self, pointer: str | None) -> None:
        self.pointer = pointer
        self.expected: int | None = None
        self.read = 0

    def see(self, body: Any, count: int, shown: str) -> None:
        self.read += count
        if self.pointer is None:
            return
        value = json_pointer(body, self.pointer)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise SourceError(f"{shown}: {self.pointer} is not a row count ({value!r})")
        self.expected = int(value)

    @property
    def reached(self) -> bool:
        return self.expected is not None and self.read >= self.expected

    def check_complete(self, shown: str) -> None:
        if self.expected is not None and self.read < self.expected:
            raise SourceError(
                f"{shown}: paging ended after {self.read} of the {self.expected} rows the API announced; "
                "the read is incomplete"
            )


def iter_pages(
    get: PageGetter, url: str, params: Mapping[str, str], paging: RestPaging
) -> Iterator[tuple[str, list[Any]]]:
    """(shown URL, items) per page, until the read is provably complete (module docstring)."""
    total = _Total(paging.total_pointer)
    if paging.style == "nextlink":
        yield from _nextlink_pages(get, url, params, paging, total)
    elif paging.style == "none":
        body, shown = get(url, params)
        items = page_items(body, paging.items_pointer, shown)
        total.see(body, len(items), shown)
        yield shown, items
        total.check_complete(shown)
    else:
        yield from _numbered_pages(get, url, params, paging, total)


def _nextlink_pages(
    get: PageGetter, url: str, params: Mapping[str, str], paging: RestPaging, total: _Total
) -> Iterator[tuple[str, list[Any]]]:
    next_url: str | None = url
    query: Mapping[str, str] | None = params
    seen: set[str] = set()
    shown = url
    while next_url:
        body, shown = get(next_url, query)
        query = None  # a next link carries its own query
        items = page_items(body, paging.items_pointer, shown)
        total.see(body, len(items), shown)
        yield shown, items
        # A count announced once can be outgrown by rows changing during the read: while the API
        # still links a next page with items on this one, the total does not end the read.
        if total.reached and not items:
            return
        link = json_pointer(body, paging.next_pointer)
        if link is not None and not isinstance(link, str):
            raise SourceError(f"{shown}: {paging.next_pointer} is not a URL")
        next_url = urljoin(next_url, link) if link else None
        if next_url is None:
            break
        check_next_link(next_url, url, shown)
        if next_url in seen:
            raise SourceError(f"{shown}: next link repeats {next_url}; stopping to avoid a loop")
        seen.add(next_url)
    total.check_complete(shown)


def _numbered_pages(
    get: PageGetter, url: str, params: Mapping[str, str], paging: RestPaging, total: _Total
) -> Iterator[tuple[str, list[Any]]]:
    position = paging.first_page if paging.style == "page" else 0
    previous: bytes | None = None
    shown = url
    while True:
        if paging.style == "page":
            page_params = {paging.page_param: str(position), paging.size_param: str(paging.page_size)}
        else:
            page_params = {paging.offset_param: str(position), paging.limit_param: str(paging.page_size)}
        body, shown = get(url, {**params, **page_params})
        items = page_items(body, paging.items_pointer, shown)
        total.see(body, len(items), shown)
        if not items:
            break
        # An API that ignores the paging parameter answers the same page forever.
        fingerprint = hashlib.sha256(repr(items).encode()).digest()
        if fingerprint == previous:
            param = paging.page_param if paging.style == "page" else paging.offset_param
            raise SourceError(
                f"{shown}: the same page came back for the next {paging.style}; "
                f"does the API honour {param!r}?"
            )
        previous = fingerprint
        yield shown, items
        if total.reached:
            return
        position += 1 if paging.style == "page" else len(items)
    total.check_complete(shown)
