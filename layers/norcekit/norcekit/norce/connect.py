"""Norce Connect imports: one streamed POST per job (norce-api.md §1, DESIGN rule 1).

The body is the JSON array of items, produced by a generator and sent with chunked transfer
encoding (as Norce's own .NET helper does), so memory stays flat whatever the item count: a full
import of a million SKUs is one job, never split (``FullFile=true`` deactivates what is missing).

**Retry rule.** An import POST is *not* idempotent: once Norce has read the body it creates a job,
and sending it again would create a second job (at best duplicate work, at worst an older payload
landing after a newer one). So an import is resent only when it provably did not reach Norce:

- a connection failure (``httpx.ConnectError``, connect or pool timeout): no byte was sent;
- a 429 or 503 answer: Norce refused the request before processing it;
- a 401: refused before processing; the token is refreshed once and the request resent once.

A read timeout, a dropped connection after sending or a 500/502/504 is *not* retried: whether a
job was created is unknown, so the caller gets :class:`NorceUnavailable`/:class:`NorceHTTPError`
and decides (the job tracker can look for the job; a full import can simply run again).

Resending needs the items again. ``items`` may be a re-iterable collection (list, tuple, …) or a
zero-argument callable returning a fresh iterable: both are re-created per attempt. A one-shot
iterator (generator) can be resent only while nothing of it was consumed yet; otherwise the retry
raises :class:`NorceUnavailable` saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import orjson
from aws_lambda_powertools import Logger
from pydantic import BaseModel

from norcekit.deadline import Deadline
from norcekit.norce.auth import TokenProvider, authorized_request
from norcekit.norce.contracts import IMPORT_KINDS, ImportKind
from norcekit.norce.contracts.customer import Company, Customer
from norcekit.norce.contracts.headers import (
    CustomerHeader,
    Header,
    PriceListHeader,
    ProductHeader,
    RelationHeader,
    SkuOnhandHeader,
    SkuPriceListHeader,
    SupplierProductHeader,
)
from norcekit.norce.contracts.onhand import SkuOnhand
from norcekit.norce.contracts.price import PriceList, SkuPriceList
from norcekit.norce.contracts.product import Product
from norcekit.norce.contracts.relation import Relation
from norcekit.norce.contracts.responses import JobResponse
from norcekit.norce.contracts.serialize import dump_header, dump_item
from norcekit.norce.contracts.supplier import SupplierProduct
from norcekit.norce.contracts.wire import WireItem
from norcekit.norce.http import NorceHttp, NorceUnavailable

logger = Logger(service="norcekit", child=True)

#: Longest a streamed import request may take: a full import's body is produced while the source is
#: read, so it gets the Lambda's longest run (15 min) instead of the per-call limit; the caller's
#: deadline still ends it sooner.
UPLOAD_TIMEOUT_S = 900.0
#: Bytes gathered before a chunk is handed to the socket (few syscalls, bounded memory).
CHUNK_BYTES = 64 * 1024

#: An item already serialized (bytes), a validated wire item, a contract model, or a plain JSON-able dict.
Item: TypeAlias = WireItem | BaseModel | bytes | dict[str, Any]
#: What an import accepts: a collection, a factory of fresh iterables, or a one-shot iterator.
Items: TypeAlias = Iterable[Any] | Callable[[], Iterable[Any]]
_T = TypeVar("_T")
#: Typed variant for the per-kind methods.
ItemsOf: TypeAlias = Iterable[_T] | Callable[[], Iterable[_T]]


@dataclass(frozen=True)
class ImportResult:
    """What an import call produced: Norce's answer and how many items the accepted request carried."""

    kind: str
    job: JobResponse
    items_sent: int

    @property
    def job_id(self) -> int | None:
        return self.job.job_id


def _serialize(item: Item) -> bytes:
    if type(item) is WireItem:  # the import stream's items: checked first
        return item.to_json()
    if isinstance(item, bytes):
        return item
    if isinstance(item, BaseModel):
        return dump_item(item)
    return orjson.dumps(item)


class _Body:
    """Produces the streamed JSON array per attempt and counts the items of the last attempt."""

    def __init__(self, items: Items, on_item: Callable[[Any], None] | None) -> None:
        self._items = items
        self._on_item = on_item
        self._one_shot: Iterator[Any] | None = None
        if not callable(items) and iter(items) is items:  # an iterator: can be read once
            self._one_shot = items  # type: ignore[assignment]
        self._consumed = False
        self.attempts = 0
        self.count = 0

    def __call__(self) -> Iterator[bytes]:
        self.attempts += 1
        if self._one_shot is not None:
            if self._consumed:
                raise NorceUnavailable(
                    "import cannot be retried: its items came from a one-shot iterator that was already "
                    "streamed; pass a list or a callable returning fresh items to allow retries"
                )
            source: Iterable[Any] = self._one_shot
        elif callable(self._items):
            source = self._items()
        else:
            source = self._items
        return self._stream(source)

    def _stream(self, source: Iterable[Any]) -> Iterator[bytes]:
        self.count = 0
        buffer = bytearray(b"[")
        for item in source:
            self._consumed = True
            if self.count:
                buffer += b","
            buffer += _serialize(item)
            self.count += 1
            if self._on_item is not None:
                self._on_item(item)
            if len(buffer) >= CHUNK_BYTES:
                yield bytes(buffer)
                buffer.clear()
        buffer += b"]"
        yield bytes(buffer)


class ConnectClient:
    """Connect import calls, authenticated with the shared :class:`TokenProvider`."""

    def __init__(
        self,
        http: NorceHttp,
        tokens: TokenProvider,
        *,
        connect_base_url: str,
        application_id: int,
        upload_timeout_s: float = UPLOAD_TIMEOUT_S,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.base_url = connect_base_url.rstrip("/")
        self.application_id = application_id
        self.upload_timeout_s = upload_timeout_s

    def import_items(
        self,
        kind: ImportKind[Any] | str,
        header: Header | str,
        items: Items,
        *,
        deadline: Deadline | None = None,
        on_item: Callable[[Any], None] | None = None,
    ) -> ImportResult:
        """POST ``items`` as one import job of ``kind`` (an ``ImportKind`` or its name, e.g. "products").

        ``header`` is a header model (serialized with ``dump_header``) or an already serialized
        single-line string. ``on_item`` is called for each item as it is streamed (again for each
        item if the request is resent, so keep it idempotent). Retry rules: see the module docstring.
        """
        path, name = _kind_path(kind)
        header_line = header if isinstance(header, str) else dump_header(header)
        if "\n" in header_line or "\r" in header_line:
            raise ValueError("X-StormConnect-Header must be a single line")
        body = _Body(items, on_item)
        response = authorized_request(
            self.http,
            self.tokens,
            "POST",
            f"{self.base_url}/{path}",
            deadline=deadline or Deadline.none(),
            idempotent=False,
            headers={
                "application-id": str(self.application_id),
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-StormConnect-Header": header_line,
            },
            content_factory=body,
            attempt_timeout=self.upload_timeout_s,
        )
        job = JobResponse.model_validate_json(response.content) if response.content else JobResponse()
        logger.info(
            "norce import accepted",
            extra={"entity": name, "job_id": job.JobId, "items_sent": body.count, "attempts": body.attempts},
        )
        return ImportResult(kind=name, job=job, items_sent=body.count)

    # One typed method per import (norce-api.md §1.3).

    def import_products(
        self,
        header: ProductHeader,
        items: ItemsOf[Product],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("products", header, items, deadline=deadline)

    def import_sku_price_lists(
        self,
        header: SkuPriceListHeader,
        items: ItemsOf[SkuPriceList],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("sku_prices", header, items, deadline=deadline)

    def import_price_lists(
        self,
        header: PriceListHeader,
        items: ItemsOf[PriceList],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("price_lists", header, items, deadline=deadline)

    def import_onhands(
        self,
        header: SkuOnhandHeader,
        items: ItemsOf[SkuOnhand],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("onhand", header, items, deadline=deadline)

    def import_customers(
        self,
        header: CustomerHeader,
        items: ItemsOf[Customer],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("customers", header, items, deadline=deadline)

    def import_companies(
        self,
        header: CustomerHeader,
        items: ItemsOf[Company],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("companies", header, items, deadline=deadline)

    def import_supplier_products(
        self,
        header: SupplierProductHeader,
        items: ItemsOf[SupplierProduct],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("supplier_products", header, items, deadline=deadline)

    def import_relations(
        self,
        header: RelationHeader,
        items: ItemsOf[Relation],
        *,
        deadline: Deadline | None = None,
    ) -> ImportResult:
        return self.import_items("relations", header, items, deadline=deadline)


def _kind_path(kind: ImportKind[Any] | str) -> tuple[str, str]:
    """(relative path, name) of an import kind given as an ``ImportKind`` or its name."""
    if isinstance(kind, str):
        try:
            kind = IMPORT_KINDS[kind]
        except KeyError:
            raise ValueError(f"unknown import kind {kind!r}; known: {sorted(IMPORT_KINDS)}") from None
    return kind.path.strip("/"), kind.name
