"""Product relation contract (ImportRelations): accessories, spare parts, alternatives between SKUs."""

from __future__ import annotations

from typing import ClassVar

from .common import ContractModel


class RelationCulture(ContractModel):
    contract_name: ClassVar[str] = "Product.Models.RelationCulture"

    CultureCode: str
    Name: str | None = None
    SubHeader: str | None = None
    SubDescription: str | None = None
    DescriptionHeader: str | None = None
    Description: str | None = None


class Relation(ContractModel):
    """One relation: PartNo → RelatedPartNo of type RelationTypeCode is its key in Norce."""

    contract_name: ClassVar[str] = "Product.Models.Relation"

    PartNo: str
    RelatedPartNo: str
    RelationTypeCode: str
    IsActive: bool | None = None
    IsVariantUnique: bool | None = None
    IsRelatedVariantUnique: bool | None = None
    SortOrder: int | None = None
    DefaultName: str | None = None
    DefaultSubHeader: str | None = None
    DefaultSubDescription: str | None = None
    DefaultDescriptionHeader: str | None = None
    DefaultDescription: str | None = None
    Cultures: list[RelationCulture] | None = None
