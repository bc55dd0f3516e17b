"""EventBridge target: ``PutEvents`` with ≤ 10 entries and ≤ 256 KB per call.

Each document becomes one event: source ``norcekit`` (configurable), detail-type
``norce.<entity>.changed`` or ``norce.<entity>.not_found``, detail = the document. ``PutEvents``
can fail per entry (``FailedEntryCount``); failed entries with a transient error code are resent
(a few times, within the deadline), the rest are reported per document.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from norcekit.deadline import Deadline
from norcekit.events.config import EventBridgeTargetConfig
from norcekit.events.targets.base import DeliveryResult, TargetDocument, detail_type

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = 256 * 1024
#: Entry error codes that will not go away by resending the same entry.
PERMANENT_ERROR_CODES = frozenset(
    {"MalformedDetail", "InvalidArgument", "ValidationException", "NotAuthorized"}
)


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """EventBridge's size rule: UTF-8 bytes of Source, DetailType, Detail, Resources, 14 for Time."""
    size = 14 if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode())
    size += sum(len(r.encode()) for r in entry.get("Resources", []))
    return size


def chunk_entries(sizes: Sequence[int]) -> list[list[int]]:
    """Indexes grouped into calls of ≤ 10 entries and ≤ 256 KB (oversized entries excluded)."""
    chunks: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for index, size in enumerate(sizes):
        if size > MAX_BYTES_PER_CALL:
            continue
        if current and (len(current) >= MAX_ENTRIES_PER_CALL or current_bytes + size > MAX_BYTES_PER_CALL):
            chunks.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        chunks.append(current)
    return chunks


class EventBridgeTarget:
    def __init__(
        self,
        name: str,
        config: EventBridgeTargetConfig,
        *,
        client: EventBridgeClient,
        max_resends: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.config = config
        self.client = client
        self.max_resends = max_resends
        self._sleep = sleep

    def _entry(self, doc: TargetDocument) -> PutEventsRequestEntryTypeDef:
        return {
            "Source": self.config.source,
            "DetailType": detail_type(doc),
            "Detail": doc.to_json().decode(),
            "EventBusName": self.config.bus_name,
        }

    def deliver(
        self, docs: Sequence[TargetDocument], *, deadline: Deadline | None = None
    ) -> list[DeliveryResult]:
        deadline = deadline or Deadline.none()
        entries = [self._entry(doc) for doc in docs]
        sizes = [entry_size(e) for e in entries]
        results: list[DeliveryResult | None] = [None] * len(docs)
        for index, size in enumerate(sizes):
            if size > MAX_BYTES_PER_CALL:
                results[index] = DeliveryResult.permanent(f"event of {size} bytes exceeds 256 KB")
        for chunk in chunk_entries(sizes):
            self._put(chunk, entries, results, deadline)
        return [r or DeliveryResult.retryable("not sent") for r in results]

    def _put(
        self,
        pending: list[int],
        entries: list[PutEventsRequestEntryTypeDef],
        results: list[DeliveryResult | None],
        deadline: Deadline,
    ) -> None:
        for attempt in range(self.max_resends + 1):
            try:
                response: Any = self.client.put_events(Entries=[entries[i] for i in pending])
            except Exception as exc:  # botocore ClientError / endpoint errors: whole call failed
                failed = {i: type(exc).__name__ for i in pending}
            else:
                failed = {}
                for index, answer in zip(pending, response.get("Entries", []), strict=False):
                    code = answer.get("ErrorCode")
                    if code:
                        if code in PERMANENT_ERROR_CODES:
                            results[index] = DeliveryResult.permanent(
                                f"{code}: {answer.get('ErrorMessage', '')}"
                            )
                        else:
                            failed[index] = code
                    else:
                        results[index] = DeliveryResult.success(answer.get("EventId", ""))
            if not failed:
                return
            pending = list(failed)
            wait = 0.1 * 2**attempt
            if attempt == self.max_resends or wait >= deadline.remaining():
                for index, code in failed.items():
                    results[index] = DeliveryResult.retryable(code)
                return
            self._sleep(wait)
