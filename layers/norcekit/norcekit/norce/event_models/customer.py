"""Customer and company events (see :mod:`norcekit.norce.events`)."""

from __future__ import annotations

from typing import ClassVar

from norcekit.norce.event_base import Int32, NorceEvent


class CustomerChangedNotification(NorceEvent):
    """``EntityChanged`` names the table that fired, e.g. tClientCustomerAddress."""

    entity: ClassVar[str] = "customer"

    ClientId: Int32
    CustomerId: Int32
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CustomerId)


class CompanyChangedNotification(NorceEvent):
    entity: ClassVar[str] = "company"

    ClientId: Int32
    CompanyId: Int32
    EntityChanged: str

    def entity_key(self) -> str:
        return str(self.CompanyId)
