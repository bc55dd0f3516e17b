"""Job and export events (see :mod:`norcekit.norce.events`)."""

from __future__ import annotations

from typing import ClassVar

from norcekit.norce.event_base import Int32, NorceEvent


class JobCompletedEvent(NorceEvent):
    """``StatusId`` is normally 2 (Succeeded), 3 (Failed) or 4 (Validation failed)."""

    entity: ClassVar[str] = "job"

    ClientId: Int32
    JobId: Int32
    StatusId: Int32

    def entity_key(self) -> str:
        return str(self.JobId)


class ExportDeliveredEvent(NorceEvent):
    """Accepted by Norce's compatibility kit, payload unpublished: not looked up, the payload itself
    is delivered (keyed by a hash of the body)."""

    entity: ClassVar[str] = "export"
