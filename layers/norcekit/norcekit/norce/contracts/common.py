"""Shared base and types for the Connect body contracts.

Attribute names are the contract's PascalCase names, so a model dumps straight to the wire
shape without aliases. Every field is optional unless a model documents a key: Norce treats an
omitted property as "not sent", which is what ``exclude_none`` produces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict


def _norce_datetime(value: datetime) -> datetime:
    # Norce's samples use naive "YYYY-MM-DDTHH:MM:SS". A source-supplied offset is dropped but the
    # wall-clock time is kept: dates such as NextDeliveryDate must not shift a day by a UTC convert.
    return value.replace(tzinfo=None, microsecond=0)


NorceDateTime = Annotated[datetime, AfterValidator(_norce_datetime)]
"""C# ``DateTime``: naive, whole seconds, so it serializes as ``YYYY-MM-DDTHH:MM:SS``."""


class ContractModel(BaseModel):
    """Base of every Connect body contract.

    ``extra="forbid"`` turns a misspelt property into an error at mapping time instead of a field
    Norce silently ignores. Numbers given for string properties (ERP codes often arrive as JSON
    numbers) are accepted as their text; NaN/inf are rejected because they cannot go on the wire.
    """

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        frozen=False,
        allow_inf_nan=False,
        coerce_numbers_to_str=True,
    )

    contract_name: ClassVar[str]
    """Full name of the official contract class (``Namespace.Class``) this model mirrors."""


class ImageCulture(ContractModel):
    contract_name: ClassVar[str] = "Common.ImageCulture"

    AltText: str | None = None
    CultureCode: str | None = None
    Description: str | None = None
    Name: str | None = None


class Image(ContractModel):
    contract_name: ClassVar[str] = "Common.Image"

    ExternalCode: str | None = None
    FileTypeName: str | None = None
    Url: str | None = None
    Filename: str | None = None
    LastModified: NorceDateTime | None = None
    Cultures: list[ImageCulture] | None = None


class Info(ContractModel):
    """Code/value pair used by on-hand rows and SKU structure items."""

    contract_name: ClassVar[str] = "Product.Models.Info"

    Code: str | None = None
    Value: str | None = None
