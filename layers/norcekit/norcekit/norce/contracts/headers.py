"""``X-StormConnect-Header`` models (one per import method).

``...FieldsThatAreSet`` lists decide which body fields Norce writes, which is how several sources
own different fields of one entity. They accept enum members, integers or member names (any
case: the docs and the contracts disagree on e.g. "CleanUp"/"Cleanup"); a value that is not in
the list's own enum is rejected with the valid names, because Norce would otherwise ignore it
silently. Lists are kept sorted and de-duplicated and go on the wire as integers, which is what
Norce recommends and what XML requires.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from . import enums as en

_LIST_TYPES = (list, tuple, set, frozenset)
_E = TypeVar("_E", bound=en.ContractEnum)


def _coerce_fields(enum_cls: type[_E], value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, _LIST_TYPES):
        raise ValueError(f"expected a list of {enum_cls.__name__} names or integers, got {value!r}")
    members: set[_E] = set()
    for item in value:
        members.add(_coerce_one(enum_cls, item))
    return sorted(members)


def _coerce_one(enum_cls: type[_E], item: Any) -> _E:
    if isinstance(item, enum_cls):
        return item
    problem = ""
    if isinstance(item, en.ContractEnum):
        problem = f" (it is a {type(item).__name__}, not a {enum_cls.__name__})"
    elif isinstance(item, (int, str)) and not isinstance(item, bool):
        try:
            return enum_cls.coerce(item)
        except ValueError:
            pass
    raise ValueError(f"{item!r} is not a valid {enum_cls.__name__}{problem}; valid: {enum_cls.valid_names()}")


def _fields(enum_cls: type[en.ContractEnum]) -> BeforeValidator:
    func: Callable[[Any], Any] = partial(_coerce_fields, enum_cls)
    return BeforeValidator(func)


ProductFields = Annotated[list[en.ProductField] | None, _fields(en.ProductField)]
ProductCultureFields = Annotated[list[en.ProductCultureField] | None, _fields(en.ProductCultureField)]
VariantFields = Annotated[list[en.VariantField] | None, _fields(en.VariantField)]
VariantCultureFields = Annotated[list[en.VariantCultureField] | None, _fields(en.VariantCultureField)]
SkuFields = Annotated[list[en.SkuField] | None, _fields(en.SkuField)]
SkuCultureFields = Annotated[list[en.SkuCultureField] | None, _fields(en.SkuCultureField)]
SkuPriceListFields = Annotated[list[en.SkuPriceListField] | None, _fields(en.SkuPriceListField)]
SkuStructureItemFields = Annotated[list[en.SkuStructureItemField] | None, _fields(en.SkuStructureItemField)]
ImageCultureFields = Annotated[list[en.ImageCultureField] | None, _fields(en.ImageCultureField)]
RelationFields = Annotated[list[en.RelationField] | None, _fields(en.RelationField)]
RelationCultureFields = Annotated[list[en.RelationCultureField] | None, _fields(en.RelationCultureField)]
SkuOnhandFields = Annotated[list[en.SkuOnhandField] | None, _fields(en.SkuOnhandField)]
PriceListFields = Annotated[list[en.PriceListField] | None, _fields(en.PriceListField)]
WarehouseFields = Annotated[list[en.WarehouseField] | None, _fields(en.WarehouseField)]
WarehouseLocationFields = Annotated[
    list[en.WarehouseLocationField] | None, _fields(en.WarehouseLocationField)
]
PriceListPriceRuleFields = Annotated[
    list[en.PriceListPriceRuleField] | None, _fields(en.PriceListPriceRuleField)
]
CustomerFields = Annotated[list[en.CustomerField] | None, _fields(en.CustomerField)]
CompanyFields = Annotated[list[en.CompanyField] | None, _fields(en.CompanyField)]
AccountFields = Annotated[list[en.AccountField] | None, _fields(en.AccountField)]
SupplierProductFields = Annotated[list[en.SupplierProductField] | None, _fields(en.SupplierProductField)]
SupplierOnHandFields = Annotated[list[en.SupplierOnHandField] | None, _fields(en.SupplierOnHandField)]
SupplierPriceFields = Annotated[list[en.SupplierPriceField] | None, _fields(en.SupplierPriceField)]
SupplierProductInfoFields = Annotated[
    list[en.SupplierProductInfoField] | None, _fields(en.SupplierProductInfoField)
]


class Header(BaseModel):
    """Common header properties.

    ``AccountId`` is the Norce account the import is logged under (one per source system, so the
    audit trail shows who wrote what). ``JobId`` is filled by Norce only and never sent.
    ``SerializationType`` stays Json: the bodies this package produces are JSON.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=True)

    AccountId: int
    SerializationType: en.SerializationType = en.SerializationType.Json
    SupplierId: int | None = None
    StorageName: str | None = None
    JobId: str | None = Field(default=None, exclude=True)


class ProductHeader(Header):
    """Header for Product/ImportProducts.

    Norce ignores variant and product-culture field lists unless ProductFieldsThatAreSet also
    names ``Variants`` / ``Cultures``; forgetting that silently drops the data. When
    ProductFieldsThatAreSet is given, those two are therefore added automatically whenever
    VariantFieldsThatAreSet or VariantCultureFieldsThatAreSet (-> Variants) or
    ProductCultureFieldsThatAreSet (-> Cultures) is non-empty. An omitted (None)
    ProductFieldsThatAreSet is left alone.
    """

    FullFile: bool = False
    ProductFieldsThatAreSet: ProductFields = None
    ProductCultureFieldsThatAreSet: ProductCultureFields = None
    VariantFieldsThatAreSet: VariantFields = None
    VariantCultureFieldsThatAreSet: VariantCultureFields = None
    SkuFieldsThatAreSet: SkuFields = None
    SkuCultureFieldsThatAreSet: SkuCultureFields = None
    SkuPriceListFieldsThatAreSet: SkuPriceListFields = None
    IgnoreSkuPriceListFieldsWhenEmpty: SkuPriceListFields = None
    SkuStructureItemFieldsThatAreSet: SkuStructureItemFields = None
    ImageCultureFieldsThatAreSet: ImageCultureFields = None

    @model_validator(mode="after")
    def _required_parent_fields(self) -> ProductHeader:
        current = self.ProductFieldsThatAreSet
        if current is None:
            return self
        needed = set(current)
        if self.VariantFieldsThatAreSet or self.VariantCultureFieldsThatAreSet:
            needed.add(en.ProductField.Variants)
        if self.ProductCultureFieldsThatAreSet:
            needed.add(en.ProductField.Cultures)
        if len(needed) != len(current):
            # Assigning re-runs validation (validate_assignment); the second pass adds nothing.
            self.ProductFieldsThatAreSet = sorted(needed)
        return self


class SkuPriceListHeader(Header):
    """Header for Product/ImportSkuPriceLists."""

    FullFile: bool = False
    SkuPriceListFieldsThatAreSet: SkuPriceListFields = None
    IgnoreSkuPriceListFieldsWhenEmpty: SkuPriceListFields = None


class PriceListHeader(Header):
    """Header for Product/ImportPriceLists (no FullFile in the contract)."""

    PriceListFieldsThatAreSet: PriceListFields = None
    WarehouseFieldsThatAreSet: WarehouseFields = None
    WarehouseLocationFieldsThatAreSet: WarehouseLocationFields = None
    PriceListPriceRuleFieldsThatAreSet: PriceListPriceRuleFields = None


class SkuOnhandHeader(Header):
    """Header for Product/ImportOnhands."""

    FullFile: bool = False
    SkuOnhandFieldsThatAreSet: SkuOnhandFields = None


class RelationHeader(Header):
    """Header for Product/ImportRelations (path INFERRED in norce-api.md §1.3)."""

    FullFile: bool = False
    RelationFieldsThatAreSet: RelationFields = None
    RelationCultureFieldsThatAreSet: RelationCultureFields = None


class CustomerHeader(Header):
    """Header for Customer/ImportCustomers and Customer/ImportCompanies (no FullFile)."""

    CustomerFieldsThatAreSet: CustomerFields = None
    CompanyFieldsThatAreSet: CompanyFields = None
    AccountFieldsThatAreSet: AccountFields = None


class SupplierProductHeader(Header):
    """Header for Supplier/ImportProducts; ContentFieldsThatAreSet uses ProductCultureField."""

    FullFile: bool = False
    FieldsThatAreSet: SupplierProductFields = None
    OnhandFieldsThatAreSet: SupplierOnHandFields = None
    PriceFieldsThatAreSet: SupplierPriceFields = None
    ContentFieldsThatAreSet: ProductCultureFields = None
    ProductInfoFieldsThatAreSet: SupplierProductInfoFields = None
