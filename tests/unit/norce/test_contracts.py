"""Connect contracts: conformance with Norce's official contracts, headers, wire format, registry."""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from norcekit.norce.contracts import (
    IMPORT_KINDS,
    Company,
    ContractModel,
    Customer,
    CustomerHeader,
    Header,
    JobResponse,
    PriceList,
    PriceListHeader,
    Product,
    ProductHeader,
    Relation,
    RelationHeader,
    Sku,
    SkuOnhand,
    SkuOnhandHeader,
    SkuPriceList,
    SkuPriceListHeader,
    SupplierProduct,
    SupplierProductHeader,
    dump_header,
    dump_item,
)
from norcekit.norce.contracts.enums import CONTRACT_ENUM_NAMES, ContractEnum, ProductField, SkuStatus

CONTRACTS = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "norce-connect-contracts.json").read_text()
)
CLASSES: dict[str, Any] = CONTRACTS["classes"]
ENUMS: dict[str, Any] = CONTRACTS["enums"]

# Contract properties deliberately not modelled (none today; add "Class.Property" with a reason).
NOT_MODELLED: set[str] = set()

HEADER_CONTRACTS: dict[type[Header], str] = {
    Header: "Header",
    ProductHeader: "Product.ProductHeader",
    SkuPriceListHeader: "Product.SkuPriceListHeader",
    PriceListHeader: "Product.PriceListHeader",
    SkuOnhandHeader: "Product.SkuOnhandHeader",
    CustomerHeader: "Customer.CustomerHeader",
    SupplierProductHeader: "Supplier.SupplierProductHeader",
}

PRIMITIVES: dict[str, type] = {
    "string": str,
    "int": int,
    "long": int,
    "decimal": float,
    "double": float,
    "bool": bool,
    "DateTime": datetime,
    "Guid": UUID,
}
ENUM_BY_SIMPLE_NAME = {full.rsplit(".", 1)[-1]: enum for full, enum in CONTRACT_ENUM_NAMES.items()}


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _declared(model: type) -> bool:
    """An import contract model its module declares; the Connect order bodies (``contracts.order``,
    imported only by the order code, so present or not depending on test order) have their own tests."""
    module = sys.modules.get(model.__module__)
    return (
        model.__module__.startswith("norcekit.norce.contracts")
        and model.__module__ != "norcekit.norce.contracts.order"
        and getattr(module, model.__name__, None) is model
    )


CONTRACT_MODELS = sorted(
    {m for m in _all_subclasses(ContractModel) if _declared(m)},
    key=lambda m: m.contract_name,
)


def _properties(contract: str) -> dict[str, str]:
    """Properties of a contract class including those of a modelled base class (Header)."""
    spec = CLASSES[contract]
    props = dict(spec["properties"])
    if spec["base"] in CLASSES:
        props.update(_properties(spec["base"]))
    return props


def _resolve_class(simple: str, owner: str) -> str:
    """Contract full name for a type used by ``owner``: same namespace first, as C# resolves it."""
    candidates = [name for name in CLASSES if name.rsplit(".", 1)[-1] == simple]
    if len(candidates) == 1:
        return candidates[0]
    namespace = owner.rsplit(".", 1)[0]
    same = [c for c in candidates if c.rsplit(".", 1)[0] == namespace]
    assert len(same) == 1, f"ambiguous contract type {simple} used by {owner}: {candidates}"
    return same[0]


def _expected(cs_type: str, owner: str) -> Any:
    cs_type = cs_type.strip().removesuffix("?")
    generic = re.fullmatch(r"(?:List|IList|IEnumerable)<(.+)>", cs_type)
    if generic:
        return ("list", _expected(generic.group(1), owner))
    if cs_type in PRIMITIVES:
        return PRIMITIVES[cs_type]
    if cs_type in ENUM_BY_SIMPLE_NAME:
        return ENUM_BY_SIMPLE_NAME[cs_type]
    return ("model", _resolve_class(cs_type, owner))


def _actual(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _actual(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(args) == 1, annotation
        return _actual(args[0])
    if origin is list:
        return ("list", _actual(typing.get_args(annotation)[0]))
    if isinstance(annotation, type) and issubclass(annotation, ContractModel):
        return ("model", annotation.contract_name)
    return annotation


def _assert_conforms(model: type[BaseModel], contract: str) -> None:
    props = _properties(contract)
    for name, field in model.model_fields.items():
        assert name in props, f"{model.__name__}.{name} is not a property of contract {contract}"
        assert _actual(field.annotation) == _expected(props[name], contract), (
            f"{model.__name__}.{name}: {field.annotation} does not match C# {props[name]}"
        )
    missing = {p for p in props if p not in model.model_fields} - {
        n.split(".", 1)[1] for n in NOT_MODELLED if n.split(".", 1)[0] == contract
    }
    assert not missing, f"{model.__name__} lacks contract properties {sorted(missing)}"


# --- Conformance with the official contracts ----------------------------------------------------


def test_every_requested_contract_class_is_modelled() -> None:
    modelled = {m.contract_name for m in CONTRACT_MODELS}
    requested = {
        "Product.Models.Product",
        "Product.Models.ProductCulture",
        "Product.Models.ProductCategory",
        "Product.Models.Variant",
        "Product.Models.VariantCulture",
        "Product.Models.Sku",
        "Product.Models.SkuCulture",
        "Product.Models.VatRate",
        "Product.Models.SkuPriceList",
        "Product.Models.PriceList",
        "Product.Models.Warehouse",
        "Product.Models.WarehouseLocation",
        "Product.Models.SkuOnhand",
        "Product.Models.Info",
        "Customer.Models.Customer",
        "Customer.Models.Company",
        "Customer.Models.Address",
        "Customer.Models.Account",
        "Customer.Models.AccountRole",
        "Customer.Models.Info",
        "Customer.Models.Flag",
        "Supplier.Models.SupplierProduct",
    }
    assert requested <= modelled
    assert len(modelled) == len(CONTRACT_MODELS), "two Python models claim the same contract class"


@pytest.mark.parametrize("model", CONTRACT_MODELS, ids=lambda m: m.contract_name)
def test_body_model_matches_official_contract(model: type[ContractModel]) -> None:
    assert model.contract_name in CLASSES
    _assert_conforms(model, model.contract_name)


def test_nested_types_are_all_modelled() -> None:
    # Every contract class referenced by a modelled property is itself a modelled class.
    modelled = {m.contract_name for m in CONTRACT_MODELS}
    for model in CONTRACT_MODELS:
        for cs_type in CLASSES[model.contract_name]["properties"].values():
            expected = _expected(cs_type, model.contract_name)
            while isinstance(expected, tuple) and expected[0] == "list":
                expected = expected[1]
            if isinstance(expected, tuple):
                assert expected[1] in modelled, f"{model.contract_name} uses unmodelled {expected[1]}"


@pytest.mark.parametrize("header", list(HEADER_CONTRACTS), ids=lambda h: h.__name__)
def test_header_model_matches_official_contract(header: type[Header]) -> None:
    _assert_conforms(header, HEADER_CONTRACTS[header])


def test_enums_match_official_contract_names_and_integers() -> None:
    assert set(CONTRACT_ENUM_NAMES) == set(ENUMS)
    for full_name, spec in ENUMS.items():
        enum = CONTRACT_ENUM_NAMES[full_name]
        assert enum.__name__ == full_name.rsplit(".", 1)[-1]
        assert {m.name: m.value for m in enum} == spec["members"], full_name


def test_enum_named_like_a_python_keyword_keeps_contract_name_on_lookup() -> None:
    rule = CONTRACT_ENUM_NAMES["Product.Models.InheritStructureCalculationRule"]
    assert rule["None"] == 0
    assert rule.coerce("none") is rule["None"]
    assert PriceList(Code="P", InheritStructureCalculationRule="None").InheritStructureCalculationRule == 0


# --- Headers -------------------------------------------------------------------------------------


def test_field_lists_accept_names_any_case_ints_and_numeric_text() -> None:
    header = SkuPriceListHeader(AccountId=7, SkuPriceListFieldsThatAreSet=["isactive", "PriceSale", 6, "3"])
    assert dump_header(header) == (
        '{"AccountId":7,"FullFile":false,"SkuPriceListFieldsThatAreSet":[3,6,10],"SerializationType":0}'
    )


def test_doc_capitalisation_cleanup_resolves_to_contract_member() -> None:
    # Norce's docs write "AdditionalImagesCleanUp"; the contract says "...Cleanup" (17).
    header = ProductHeader(AccountId=1, ProductFieldsThatAreSet=["AdditionalImagesCleanUp"])
    assert header.ProductFieldsThatAreSet == [ProductField.AdditionalImagesCleanup]


def test_unknown_field_name_is_rejected_with_valid_names() -> None:
    with pytest.raises(ValidationError) as caught:
        ProductHeader(AccountId=1, SkuFieldsThatAreSet=["Status", "PriceSale"])
    message = str(caught.value)
    assert "SkuFieldsThatAreSet" in message
    assert "'PriceSale' is not a valid SkuField" in message
    assert "EanCode(5)" in message


def test_integer_outside_enum_is_rejected() -> None:
    # SkuField has a gap at 17; sending it would be silently ignored by Norce.
    with pytest.raises(ValidationError, match="17 is not a valid SkuField"):
        ProductHeader(AccountId=1, SkuFieldsThatAreSet=[16, 17])


def test_member_of_another_field_enum_is_rejected() -> None:
    with pytest.raises(ValidationError, match="it is a ProductField, not a VariantField"):
        ProductHeader(AccountId=1, VariantFieldsThatAreSet=[ProductField.Code])


@pytest.mark.parametrize("bad", ["PriceSale", True, [True], {"PriceSale": 1}])
def test_field_list_must_be_a_list_of_names_or_ints(bad: Any) -> None:
    with pytest.raises(ValidationError):
        SkuPriceListHeader(AccountId=1, SkuPriceListFieldsThatAreSet=bad)


def test_header_dump_is_single_line_ascii_and_omits_nulls_and_job_id() -> None:
    header = SkuOnhandHeader(AccountId=5, JobId="4711", StorageName="lager/2025/\u00e5\u00e4\u00f6\nx.json")
    text = dump_header(header)
    assert "\n" not in text
    assert " " not in text
    assert text.isascii()
    parsed = json.loads(text)
    assert parsed == {
        "AccountId": 5,
        "FullFile": False,
        "StorageName": "lager/2025/\u00e5\u00e4\u00f6\nx.json",
        "SerializationType": 0,
    }


def test_account_id_is_required() -> None:
    with pytest.raises(ValidationError, match="AccountId"):
        SkuOnhandHeader()  # type: ignore[call-arg]


def test_customer_and_price_list_headers_have_no_full_file() -> None:
    for header in (CustomerHeader, PriceListHeader):
        with pytest.raises(ValidationError, match="FullFile"):
            header(AccountId=1, FullFile=True)


def test_product_header_adds_variants_and_cultures_when_their_lists_are_set() -> None:
    header = ProductHeader(
        AccountId=1,
        ProductFieldsThatAreSet=["ManufacturerCode"],
        ProductCultureFieldsThatAreSet=["Name"],
        VariantFieldsThatAreSet=["ManufacturerPartNo"],
    )
    assert json.loads(dump_header(header))["ProductFieldsThatAreSet"] == [0, 4, 5]

    header.ProductFieldsThatAreSet = ["Code"]  # assignment keeps the rule
    assert header.ProductFieldsThatAreSet == [ProductField.Code, ProductField.Variants, ProductField.Cultures]


def test_product_header_variant_culture_list_also_needs_variants() -> None:
    header = ProductHeader(AccountId=1, ProductFieldsThatAreSet=[3], VariantCultureFieldsThatAreSet=["Name"])
    assert header.ProductFieldsThatAreSet == [ProductField.Code, ProductField.Variants]


def test_product_header_leaves_omitted_product_field_list_alone() -> None:
    # Omitted means Norce's default; inventing a list would restrict what Norce writes.
    header = ProductHeader(AccountId=1, VariantFieldsThatAreSet=[0])
    assert "ProductFieldsThatAreSet" not in json.loads(dump_header(header))


@pytest.mark.parametrize(
    ("header_model", "doc_header"),
    [
        (
            ProductHeader,
            '{"AccountId":123,"FullFile":false,"ProductFieldsThatAreSet":[0,1,3,4,5,6],'
            '"ProductCultureFieldsThatAreSet":[0,5],"VariantFieldsThatAreSet":[0,4,5],'
            '"VariantCultureFieldsThatAreSet":[0,1],"SkuFieldsThatAreSet":[1,2,5,20,21],'
            '"SkuPriceListFieldsThatAreSet":[3,10],"SerializationType":0}',
        ),
        (
            SkuPriceListHeader,
            '{"AccountId":123,"FullFile":false,"SkuPriceListFieldsThatAreSet":[3,6,10],"SerializationType":0}',
        ),
        (
            SkuOnhandHeader,
            '{"AccountId":123,"FullFile":false,"SkuOnhandFieldsThatAreSet":[3,4,5,10],"SerializationType":0}',
        ),
        (
            CustomerHeader,
            '{"AccountId":123,"CustomerFieldsThatAreSet":[2,3,6,8,9,11,12,14],'
            '"AccountFieldsThatAreSet":[1,3],"SerializationType":0}',
        ),
    ],
    ids=["product", "sku_prices", "onhand", "customers"],
)
def test_documented_headers_round_trip_exactly(header_model: type[Header], doc_header: str) -> None:
    assert dump_header(header_model.model_validate_json(doc_header)) == doc_header


def test_documented_header_built_from_names_matches_doc() -> None:
    header = SkuOnhandHeader(
        AccountId=123,
        SkuOnhandFieldsThatAreSet=["IsActive", "NextDeliveryDate", "IncomingValue", "OnhandValue"],
    )
    assert dump_header(header) == (
        '{"AccountId":123,"FullFile":false,"SkuOnhandFieldsThatAreSet":[3,4,5,10],"SerializationType":0}'
    )


# --- Bodies --------------------------------------------------------------------------------------

DOC_PRODUCT = """[{
  "ManufacturerCode": "ACME", "ManufacturerName": "Acme AB", "Code": "TS-100",
  "Categories": [{"Code": "apparel-tshirts", "SortOrder": 0}],
  "Cultures": [{"CultureCode": "sv-SE", "Name": "Basic T-shirt", "Description": "100 % bomull"}],
  "Variants": [{
    "ManufacturerPartNo": "ACME-TS-100-M",
    "Cultures": [{"CultureCode": "sv-SE", "Name": "Basic T-shirt M"}],
    "Skus": [{
      "PartNo": "TS-100-M", "Status": 1, "Type": 1, "EanCode": "7312345678901",
      "StandardPrice": {"PartNo": "TS-100-M", "PriceListCode": "SE-B2C", "PriceSale": 159.2,
                        "CurrencyCode": "SEK", "IsActive": true},
      "VatRates": [{"SalesArea": 1, "Rate": 25.0}]
    }]
  }]
}]"""
DOC_PRICE = """[{"PartNo": "TS-100-M", "PriceListCode": "SE-B2C", "QuantityBreak": 1, "CurrencyCode": "SEK",
  "PriceSale": 143.2, "PriceRecommended": 159.2, "IsActive": true}]"""
DOC_ONHAND = """[{"PartNo": "TS-100-M", "WarehouseCode": "MAIN", "LocationCode": "STO", "OnhandValue": 42,
  "IncomingValue": 100, "NextDeliveryDate": "2025-09-01T00:00:00", "IsActive": true}]"""
DOC_CUSTOMER = """[{"Type": 1, "Code": "C-10001", "EmailAddress": "anna@example.com", "FirstName": "Anna",
  "LastName": "Andersson", "PhoneNumber": "+46701234567", "IsActive": true,
  "InvoiceAddress": {"AddressLine1": "Storgatan 1", "ZipCode": "11122", "City": "Stockholm",
                     "CountryCode": "SE"},
  "Accounts": [{"ApplicationKey": "15d62d1f-3a4e-4111-845a-4db40bf08e87", "LoginName": "anna@example.com",
                "Status": 1, "Roles": [{"Code": "User", "IsActive": true}]}]}]"""


@pytest.mark.parametrize(
    ("model", "doc_body"),
    [(Product, DOC_PRODUCT), (SkuPriceList, DOC_PRICE), (SkuOnhand, DOC_ONHAND), (Customer, DOC_CUSTOMER)],
    ids=["product", "sku_prices", "onhand", "customers"],
)
def test_documented_bodies_reserialize_unchanged(model: type[ContractModel], doc_body: str) -> None:
    for raw in json.loads(doc_body):
        assert json.loads(dump_item(model.model_validate(raw))) == raw


def test_item_dump_is_compact_bytes_without_nulls_at_any_depth() -> None:
    product = Product(
        Code="P1",
        Alias=None,
        Variants=[{"ManufacturerPartNo": None, "Skus": [{"PartNo": "A", "EanCode": None, "VatRates": [{}]}]}],
    )
    out = dump_item(product)
    assert isinstance(out, bytes)
    assert b"null" not in out
    assert b" " not in out
    assert json.loads(out) == {"Code": "P1", "Variants": [{"Skus": [{"PartNo": "A", "VatRates": [{}]}]}]}


def test_enum_names_in_bodies_go_out_as_integers() -> None:
    sku = Sku(PartNo="A", Status="active", Type="ErpStandard", UnitOfMeasurementType="Pieces")
    assert json.loads(dump_item(sku)) == {"PartNo": "A", "Status": 1, "Type": 1, "UnitOfMeasurementType": 1}
    assert sku.Status is SkuStatus.Active


def test_unknown_enum_value_in_body_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Status"):
        Sku(PartNo="A", Status=99)


def test_datetimes_go_out_naive_whole_seconds_keeping_wall_clock() -> None:
    stockholm = timezone(timedelta(hours=2))
    row = SkuOnhand(
        PartNo="A",
        WarehouseCode="W",
        LocationCode="L",
        NextDeliveryDate=datetime(2025, 9, 1, 0, 0, 0, 123456, tzinfo=stockholm),
    )
    assert json.loads(dump_item(row))["NextDeliveryDate"] == "2025-09-01T00:00:00"
    row = SkuOnhand.model_validate(
        {"PartNo": "A", "WarehouseCode": "W", "LocationCode": "L", "NextDeliveryDate": "2025-09-01"}
    )
    assert json.loads(dump_item(row))["NextDeliveryDate"] == "2025-09-01T00:00:00"
    flagged = Product(
        Code="P", ProductFlags=[{"Code": "new", "StopDate": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)}]
    )
    assert json.loads(dump_item(flagged))["ProductFlags"][0]["StopDate"] == "2026-01-02T03:04:05"


def test_guid_goes_out_as_string_and_bad_guid_is_rejected() -> None:
    key = "15d62d1f-3a4e-4111-845a-4db40bf08e87"
    company = Company(Code="C", ApplicationKey=UUID(key))
    assert json.loads(dump_item(company))["ApplicationKey"] == key
    with pytest.raises(ValidationError, match="ApplicationKey"):
        Company(Code="C", ApplicationKey="not-a-guid")


def test_prices_keep_four_decimals_and_reject_nan() -> None:
    price = SkuPriceList(PartNo="A", PriceListCode="SE", PriceSale="143.2125", CostPurchase=0.1 + 0.2)
    assert json.loads(dump_item(price))["PriceSale"] == 143.2125
    assert round(json.loads(dump_item(price))["CostPurchase"], 4) == 0.3
    with pytest.raises(ValidationError, match="PriceSale"):
        SkuPriceList(PartNo="A", PriceListCode="SE", PriceSale=float("nan"))


def test_numeric_codes_from_erp_are_accepted_as_text() -> None:
    sku = Sku(PartNo=100011, EanCode=7312345678901)
    assert json.loads(dump_item(sku)) == {"PartNo": "100011", "EanCode": "7312345678901"}


def test_misspelt_property_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="PriceSales"):
        SkuPriceList.model_validate({"PartNo": "A", "PriceListCode": "SE", "PriceSales": 1})


@pytest.mark.parametrize(
    ("model", "data", "missing"),
    [
        (SkuOnhand, {"PartNo": "A", "WarehouseCode": "W"}, "LocationCode"),
        (SkuPriceList, {"PartNo": "A"}, "PriceListCode"),
        (Sku, {"EanCode": "1"}, "PartNo"),
        (SupplierProduct, {"ProductName": "x"}, "SupplierPartNo"),
        (PriceList, {"Name": "x"}, "Code"),
    ],
)
def test_documented_keys_are_required(model: type[ContractModel], data: dict[str, Any], missing: str) -> None:
    with pytest.raises(ValidationError, match=missing):
        model.model_validate(data)


@pytest.mark.parametrize(
    ("model", "data", "hint"),
    [
        (Customer, {"FirstName": "Anna"}, "Code, Id or EmailAddress"),
        (Company, {"Name": "Acme"}, "Code, Id or OrganizationNo"),
        (Product, {"ManufacturerCode": "ACME", "Variants": [{}]}, "Code, a SKU PartNo"),
    ],
)
def test_entities_without_any_identifier_are_rejected(
    model: type[ContractModel], data: dict[str, Any], hint: str
) -> None:
    with pytest.raises(ValidationError, match=hint):
        model.model_validate(data)


def test_standard_price_inherits_the_sku_part_no() -> None:
    sku = Sku.model_validate({"PartNo": "A", "StandardPrice": {"PriceListCode": "SE", "PriceSale": 10}})
    assert json.loads(dump_item(sku))["StandardPrice"] == {
        "PartNo": "A",
        "PriceListCode": "SE",
        "PriceSale": 10.0,
    }


# --- Registry and response -----------------------------------------------------------------------


def test_import_registry_paths_and_models() -> None:
    assert {name: (k.path, k.header_model, k.item_model) for name, k in IMPORT_KINDS.items()} == {
        "products": ("Product/ImportProducts", ProductHeader, Product),
        "sku_prices": ("Product/ImportSkuPriceLists", SkuPriceListHeader, SkuPriceList),
        "price_lists": ("Product/ImportPriceLists", PriceListHeader, PriceList),
        "onhand": ("Product/ImportOnhands", SkuOnhandHeader, SkuOnhand),
        "customers": ("Customer/ImportCustomers", CustomerHeader, Customer),
        "companies": ("Customer/ImportCompanies", CustomerHeader, Company),
        "supplier_products": ("Supplier/ImportProducts", SupplierProductHeader, SupplierProduct),
        "relations": ("Product/ImportRelations", RelationHeader, Relation),
    }


@pytest.mark.parametrize("kind", list(IMPORT_KINDS.values()), ids=lambda k: k.name)
def test_full_file_flag_agrees_with_header_contract(kind: Any) -> None:
    assert kind.has_full_file == ("FullFile" in kind.header_model.model_fields)


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("products", {"Code": "TS-100", "Variants": [{"Skus": [{"PartNo": "X"}]}]}, "TS-100"),
        ("products", {"Variants": [{"Skus": []}, {"Skus": [{"PartNo": "TS-100-M"}]}]}, "TS-100-M"),
        ("products", {"ManufacturerCode": "ACME", "Variants": [{"ManufacturerPartNo": "A-1"}]}, "ACME|A-1"),
        ("sku_prices", {"PartNo": "A", "PriceListCode": "SE", "QuantityBreak": 10}, "A|SE|10"),
        ("sku_prices", {"PartNo": "A", "PriceListCode": "SE"}, "A|SE|"),
        ("price_lists", {"Code": "SE-B2C"}, "SE-B2C"),
        ("onhand", {"PartNo": "A", "WarehouseCode": "MAIN", "LocationCode": "STO"}, "A|MAIN|STO"),
        ("customers", {"Code": "C-1", "EmailAddress": "a@x.se"}, "C-1"),
        ("customers", {"EmailAddress": "a@x.se"}, "a@x.se"),
        ("customers", {"Id": 42}, "id:42"),
        ("companies", {"OrganizationNo": "556000-0000"}, "556000-0000"),
        ("supplier_products", {"SupplierPartNo": "S-1"}, "S-1"),
    ],
)
def test_import_item_keys(name: str, data: dict[str, Any], key: str) -> None:
    kind = IMPORT_KINDS[name]
    assert kind.key(kind.parse_item(data)) == key


def test_job_response_from_doc_gives_int_job_id_and_tolerates_extras() -> None:
    response = JobResponse.model_validate_json(
        '{"StatusCode": "OK", "Description": "Job accepted", "JobId": "4711", "Extra": {"a": 1},'
        ' "ValidationSummary": {"NrOfItemsInTotal": 1, "NrOfValidationFailures": 0, "Messages": []}}'
    )
    assert response.job_id == 4711
    assert response.ValidationSummary is not None
    assert response.ValidationSummary.NrOfItemsInTotal == 1
    assert JobResponse.model_validate({"JobId": 12}).job_id == 12
    assert JobResponse.model_validate({"StatusCode": "Failed"}).job_id is None


def test_contract_enum_coerce_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="Pending"):
        SkuStatus.coerce("Pending")
    assert issubclass(SkuStatus, ContractEnum)
