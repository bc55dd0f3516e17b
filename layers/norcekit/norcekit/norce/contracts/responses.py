"""Connect import response (``JobResponse``).

Parsed leniently: the StatusCode values and any extra properties are undocumented, and a
response we cannot fully model must still yield its JobId.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ValidationSummary(BaseModel):
    model_config = ConfigDict(extra="allow")

    NrOfItemsInTotal: int | None = None
    NrOfValidationFailures: int | None = None
    Messages: list[str] = Field(default_factory=list)


# JobResponse has a property named like the class; the alias keeps the annotation resolvable.
_ValidationSummary = ValidationSummary


class JobResponse(BaseModel):
    """Body of a 200 answer to an import: the JobId to track (a string holding an int)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    StatusCode: str | None = None
    Description: str | None = None
    JobId: str | None = None
    ValidationSummary: _ValidationSummary | None = None

    @property
    def job_id(self) -> int | None:
        """JobId as int; None when absent or not numeric (Norce did not create a job)."""
        text = (self.JobId or "").strip()
        return int(text) if text.isdigit() else None
