"""Norce Commerce Query (OData v4, read-only) client (norce-api.md §4).

- Lists follow ``@odata.nextLink`` until exhausted; a page never asks for more than 500 rows (Norce
  clamps ``$top`` at 500 silently).
- :meth:`QueryClient.keyset` pages big sets by key (``$orderby=Key``, ``Key gt last``), which Norce
  serves reliably where deep ``$skip`` and heavy ``$expand`` time out.
- :meth:`QueryClient.get_many` looks up many keys in as few calls as the URL length allows, with
  one key filter for events and imports alike: ``Key in (...)`` (OData 4.01) or ``Key eq a or Key
  eq b`` chains (OData 4.0). Whether Norce's server accepts ``in`` is not published, so
  ``key_filter="auto"`` (the default) tries ``in`` once, falls back to ``or`` chains on a 400 and
  remembers the answer for the client's life. A key too long for any URL fails alone: it is left
  out (and reported through ``unfit``), its neighbours are still looked up.
Every call is an idempotent GET, retried on 429/5xx/transport errors by :class:`NorceHttp`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
import orjson

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider, authorized_request
from norcekit.norce.errors import NorceHTTPError
from norcekit.norce.http import NorceHttp

#: Norce serves at most this many rows per page.
MAX_PAGE_SIZE = 500
#: Characters left unescaped in query values: OData syntax that is legal in a query string.
_SAFE_QUERY_CHARS = "$'(),:/@*"

ODataValue = str | int | float | bool | datetime | date | None
KeyFilterMode = Literal["in", "or", "auto"]
KEY_FILTER_MODES: tuple[KeyFilterMode, ...] = ("in", "or", "auto")


def odata_literal(value: ODataValue) -> str:
    """A Python value as an OData v4 literal (for ``$filter`` and keys).

    Strings are single-quoted with ``'`` doubled; datetimes are unquoted UTC
    ``YYYY-MM-DDTHH:MM:SSZ`` (naive datetimes are taken as UTC); dates are ``YYYY-MM-DD``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {type(value).__name__}")


def _join(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ",".join(value)


def _encode_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=_SAFE_QUERY_CHARS)}" for k, v in params.items())


def _encoded_len(text: str) -> int:
    return len(quote(text, safe=_SAFE_QUERY_CHARS))


class QueryClient:
    """OData look-ups against ``{query_base_url}/{Namespace}/{EntitySet}``."""

    def __init__(
        self,
        http: NorceHttp,
        tokens: TokenProvider,
        *,
        query_base_url: str,
        application_id: int,
        max_url_length: int = 4000,
        key_filter: KeyFilterMode = "auto",
    ) -> None:
        if key_filter not in KEY_FILTER_MODES:
            raise ValueError(f"key_filter must be one of {', '.join(KEY_FILTER_MODES)}, not {key_filter!r}")
        self.http = http
        self.tokens = tokens
        self.base_url = query_base_url.rstrip("/")
        self.application_id = application_id
        self.max_url_length = max_url_length
        #: HTTP calls made (pages, gets), for metrics and benchmarks.
        self.calls = 0
        self.key_filter: KeyFilterMode = key_filter
        #: What ``auto`` learned: ``None`` until the first batched look-up with ``in`` answered.
        self.in_supported: bool | None = {"in": True, "or": False}.get(key_filter)

    # --- public API -----------------------------------------------------------------------------

    def query(
        self,
        entity_set: str,
        *,
        filter: str | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        orderby: str | None = None,
        top: int | None = None,
        extra_params: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``entity_set`` (e.g. ``"Products/ProductSkus"``), page after page.

        ``top`` limits the total number of rows; each page asks for at most 500. Without ``top``
        the server's paging (``@odata.nextLink``) decides.
        """
        params = self._params(
            filter=filter, select=select, expand=expand, orderby=orderby, extra=extra_params
        )
        deadline = deadline or Deadline.none()
        remaining = top
        skip = int(params.pop("$skip", "0"))
        url: str | None = None
        while True:
            page_top: int | None = None
            if url is None:  # a page we build ourselves (first one, or $skip paging past 500)
                page_params = dict(params)
                if remaining is not None:
                    page_top = min(MAX_PAGE_SIZE, remaining)
                    page_params["$top"] = str(page_top)
                if skip:
                    page_params["$skip"] = str(skip)
                url = self._url(entity_set, page_params)
            body = self._get_json(url, deadline)
            rows: list[dict[str, Any]] = body.get("value", [])
            if remaining is not None:
                rows = rows[:remaining]
                remaining -= len(rows)
            yield from rows
            next_link = body.get("@odata.nextLink")
            if remaining is not None and remaining <= 0:
                return
            if next_link:
                url = str(httpx.URL(url).join(next_link))  # absolute in Norce; join tolerates relative
            elif page_top is not None and len(rows) == page_top:
                # A full page and no nextLink: Norce clamps $top, so ask for the next slice ourselves.
                skip += len(rows)
                url = None
            else:
                return

    def get(
        self,
        entity_set: str,
        key: str | int,
        *,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        deadline: Deadline | None = None,
    ) -> dict[str, Any] | None:
        """One entity by key (``ProductSkus('X')``), or ``None`` when Norce answers 404."""
        key_segment = quote(odata_literal(key), safe="'")
        params = self._params(select=select, expand=expand)
        url = self._url(f"{entity_set}({key_segment})", params)
        response = self._send(url, deadline or Deadline.none(), accept_status=(404,))
        if response.status_code == 404:
            return None
        payload: dict[str, Any] = orjson.loads(response.content)
        return payload

    def keyset(
        self,
        entity_set: str,
        key_field: str,
        *,
        filter: str | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        start_after: ODataValue = None,
        deadline: Deadline | None = None,
    ) -> Iterator[dict[str, Any]]:
        """All rows ordered by ``key_field``, paged by key (``key gt last``) instead of ``$skip``."""
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        if select is not None:  # the key is needed to find the next page
            fields = select.split(",") if isinstance(select, str) else list(select)
            if key_field not in fields:
                select = [*fields, key_field]
        last = start_after
        while True:
            key_filter = None if last is None else f"{key_field} gt {odata_literal(last)}"
            page_filter = " and ".join(f"({f})" for f in (filter, key_filter) if f) or None
            count = 0
            for row in self.query(
                entity_set,
                filter=page_filter,
                select=select,
                expand=expand,
                orderby=key_field,
                top=page_size,
                deadline=deadline,
            ):
                count += 1
                last = row[key_field]
                yield row
            if count < page_size:
                return

    def get_many(
        self,
        entity_set: str,
        key_field: str,
        values: Iterable[str | int],
        *,
        filter: str | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        use_in: bool | None = None,
        deadline: Deadline | None = None,
        unfit: set[str | int] | None = None,
    ) -> dict[str | int, dict[str, Any]]:
        """Rows for many keys, keyed by ``row[key_field]``; missing keys are simply absent.

        Keys are packed into ``Key in ('a','b',…)`` filters or ``Key eq 'a' or Key eq 'b'`` chains
        (``use_in``; ``None``: the client's ``key_filter`` setting), as many per call as fit
        ``max_url_length`` after URL encoding and at most 500. A key that alone makes the URL too
        long is left out and added to ``unfit``. For unique keys: with several rows per key the
        last one wins.
        """
        probing = use_in is None and self.in_supported is None
        if use_in is None:
            use_in = self.in_supported is not False
        if select is not None:
            fields = select.split(",") if isinstance(select, str) else list(select)
            if key_field not in fields:
                select = [*fields, key_field]
        deadline = deadline or Deadline.none()
        found: dict[str | int, dict[str, Any]] = {}
        unique = list(dict.fromkeys(values))
        # "$filter=" counted even when the key-less filter is empty (an or-chain without a scope).
        key_filter = self._key_filter(key_field, [], filter, use_in)
        empty = self._url(entity_set, {**self._params(select=select, expand=expand), "$filter": key_filter})
        skipped: set[str | int] = set() if unfit is None else unfit
        chunks = self._key_chunks(
            unique, key_field=key_field, fixed_len=len(empty), use_in=use_in, unfit=skipped
        )
        done: set[str | int] = set()
        for chunk in chunks:
            try:
                rows = list(
                    self.query(
                        entity_set,
                        filter=self._key_filter(key_field, chunk, filter, use_in),
                        select=select,
                        expand=expand,
                        deadline=deadline,
                    )
                )
            except NorceHTTPError as exc:
                if not (probing and use_in and exc.status == 400):
                    raise
                # The server does not take OData 4.01 `in`: or-chains from now on, this batch included.
                self.in_supported = False
                rest = [v for v in unique if v not in done and v not in skipped]
                found.update(
                    self.get_many(
                        entity_set, key_field, rest, filter=filter, select=select, expand=expand,
                        use_in=False, deadline=deadline, unfit=skipped,
                    )
                )  # fmt: skip
                return found
            if probing and use_in:
                self.in_supported, probing = True, False
            done.update(chunk)
            for row in rows:
                found[row[key_field]] = row
        return found

    # --- internals ------------------------------------------------------------------------------

    @staticmethod
    def _key_filter(key_field: str, chunk: Sequence[str | int], extra: str | None, use_in: bool) -> str:
        literals = [odata_literal(v) for v in chunk]
        if use_in:
            keys = f"{key_field} in ({','.join(literals)})"
        else:
            keys = " or ".join(f"{key_field} eq {lit}" for lit in literals)
        return f"({extra}) and ({keys})" if extra else keys

    def _key_chunks(
        self,
        values: Sequence[str | int],
        *,
        key_field: str,
        fixed_len: int,
        use_in: bool,
        unfit: set[str | int],
    ) -> Iterator[list[str | int]]:
        """Greedy chunks whose whole request URL stays within ``max_url_length``.

        URL length = ``fixed_len`` (the URL with an empty key list) + one encoded piece per key. A
        key that does not fit on its own goes to ``unfit``.
        """
        if not values:
            return
        separator = "," if use_in else " or "
        chunk: list[str | int] = []
        length = fixed_len
        for value in values:
            piece = odata_literal(value) if use_in else f"{key_field} eq {odata_literal(value)}"
            added = _encoded_len(piece) + (_encoded_len(separator) if chunk else 0)
            if chunk and (length + added > self.max_url_length or len(chunk) >= MAX_PAGE_SIZE):
                yield chunk
                chunk, length = [], fixed_len
                added = _encoded_len(piece)
            if not chunk and length + added > self.max_url_length:
                unfit.add(value)
                continue
            chunk.append(value)
            length += added
        if chunk:
            yield chunk

    def _params(
        self,
        *,
        filter: str | None = None,
        select: str | Sequence[str] | None = None,
        expand: str | None = None,
        orderby: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        params = {"$filter": filter, "$select": _join(select), "$expand": expand, "$orderby": orderby}
        result = {k: v for k, v in params.items() if v}
        result.update(extra or {})
        return result

    def _url(self, path: str, params: Mapping[str, str]) -> str:
        # The query string is encoded here, once, so the length checked is the length sent.
        url = f"{self.base_url}/{path.strip('/')}"
        return f"{url}?{_encode_query(params)}" if params else url

    def _get_json(self, url: str, deadline: Deadline) -> dict[str, Any]:
        payload: dict[str, Any] = orjson.loads(self._send(url, deadline).content)
        return payload

    def _send(self, url: str, deadline: Deadline, accept_status: tuple[int, ...] = ()) -> httpx.Response:
        self.calls += 1
        return authorized_request(
            self.http,
            self.tokens,
            "GET",
            url,
            deadline=deadline,
            idempotent=True,
            headers={"applicationId": str(self.application_id), "Accept": "application/json"},
            accept_status=accept_status,
        )


__all__ = ["KEY_FILTER_MODES", "MAX_PAGE_SIZE", "KeyFilterMode", "QueryClient", "odata_literal"]
