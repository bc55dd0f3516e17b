"""The base of every Norce Event payload model and the documented field types (see
:mod:`norcekit.norce.events`). pydantic + stdlib only: the webhook receiver loads it on cold start."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

#: Norce's documented integer widths.
Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: A documented "double" that is a quantity or amount: exact, and a plain JSON number again on output.
DecimalNumber = Annotated[
    Decimal, Field(allow_inf_nan=False), PlainSerializer(float, return_type=float, when_used="json")
]


class NorceEvent(BaseModel):
    """Base of every event payload; subclasses set ``entity`` and get ``event_type`` = class name."""

    # Built on first use, not at import: a cold start validates one event type, not all 24.
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, defer_build=True)

    event_type: ClassVar[str] = ""
    entity: ClassVar[str] = ""

    ClientId: Int32 | None = None
    ApplicationId: Int32 | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.event_type = cls.__name__

    def entity_key(self) -> str:
        """Identity of the changed entity; a body hash when the payload lacks its key field."""
        return self._body_hash()

    def _field(self, name: str) -> Any:
        # Key fields may arrive as undeclared extras (e.g. an OrderId on an event documented
        # without one), so look in both places.
        value = getattr(self, name, None)
        if value is None and self.model_extra:
            value = self.model_extra.get(name)
        return value

    def _key_or_hash(self, *names: str) -> str:
        for name in names:
            value = self._field(name)
            if value is not None and value != "":
                return str(value)
        return self._body_hash()

    def _body_hash(self) -> str:
        # Stable across key order and re-deliveries of the same body, so duplicates coalesce.
        canonical = json.dumps(
            self.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":")
        )
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
