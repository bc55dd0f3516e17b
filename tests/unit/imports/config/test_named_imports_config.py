"""``imports:``: named imports beside the ``entities:`` form, and who owns which field (DESIGN rule 6)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from norcekit.configfile import ConfigError
from norcekit.imports.config import load_config
from norcekit.norce.contracts.enums import ProductCultureField, SkuField

PRODUCT_SOURCE = {"entities": {"products": {"key_fields": ["code"]}}}
PIM_PRODUCTS: dict[str, Any] = {
    "kind": "products",
    "source": "pim",
    "mapping": "sample",
    "account_id": 101,
    "fields_that_are_set": {
        "ProductFieldsThatAreSet": ["Cultures"],
        "ProductCultureFieldsThatAreSet": ["Name", "Description"],
    },
    "full": {"full_file": False},
}
ERP_PRODUCTS: dict[str, Any] = {
    "kind": "products",
    "source": "erp",
    "mapping": "sample",
    "account_id": 102,
    "fields_that_are_set": {"ProductFieldsThatAreSet": ["Variants"], "SkuFieldsThatAreSet": ["Status"]},
}


def document(**imports: dict[str, Any]) -> dict[str, Any]:
    return {
        "sources": {
            "pim": {"type": "filedrop", "root": "/pim", **PRODUCT_SOURCE},
            "erp": {"type": "filedrop", "root": "/erp", **PRODUCT_SOURCE},
        },
        "imports": imports or {"pim_products": PIM_PRODUCTS, "erp_products": ERP_PRODUCTS},
    }


def with_changes(name: str, **changes: Any) -> dict[str, Any]:
    imports = {"pim_products": copy.deepcopy(PIM_PRODUCTS), "erp_products": copy.deepcopy(ERP_PRODUCTS)}
    imports[name].update(changes)
    return document(**imports)


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(data, environ={})
    return str(caught.value)


def test_two_imports_of_one_kind_with_disjoint_fields_load_with_their_own_headers() -> None:
    config = load_config(document(), environ={})

    assert config.enabled_entities() == ["pim_products", "erp_products"]
    assert config.kind_of("pim_products") == config.kind_of("erp_products") == "products"
    pim = config.build_header("pim_products", account_id=101, full_file=True)
    erp = config.build_header("erp_products", account_id=102, full_file=True)
    assert pim.ProductCultureFieldsThatAreSet == [ProductCultureField.Name, ProductCultureField.Description]
    assert pim.SkuFieldsThatAreSet is None and erp.SkuFieldsThatAreSet == [SkuField.Status]
    assert (pim.FullFile, erp.FullFile) == (False, True)  # the PIM's full run is a plain upsert


def test_the_import_account_id_wins_over_the_account_source_lookup() -> None:
    config = load_config(document(), environ={})

    assert config.account_id_for("pim_products", lambda source: 7) == 101
    data = with_changes("pim_products", account_id=None)
    assert load_config(data, environ={}).account_id_for("pim_products", lambda source: 7) == 7


def test_two_imports_setting_the_same_field_are_refused_naming_both_and_the_field() -> None:
    fields = {"ProductCultureFieldsThatAreSet": ["Name"], "SkuFieldsThatAreSet": ["Status"]}
    message = error_of(with_changes("erp_products", fields_that_are_set=fields))

    assert "imports.erp_products.fields_that_are_set.ProductCultureFieldsThatAreSet" in message
    assert "Name is set by both imports 'pim_products' and 'erp_products'" in message


def test_a_create_only_variant_of_an_owned_field_is_the_same_field() -> None:
    fields = {"ProductCultureFieldsThatAreSet": ["NameCreateOnly"]}
    message = error_of(with_changes("erp_products", fields_that_are_set=fields))

    assert "NameCreateOnly is set by both imports 'pim_products' and 'erp_products'" in message


def test_a_field_both_imports_list_as_shared_is_allowed_but_one_side_is_not_enough() -> None:
    fields = {"ProductCultureFieldsThatAreSet": ["Name"], "SkuFieldsThatAreSet": ["Status"]}
    one_side = with_changes("erp_products", fields_that_are_set=fields, shared_fields=["Name"])
    assert "Name is set by both imports" in error_of(one_side)

    both = copy.deepcopy(one_side)
    both["imports"]["pim_products"]["shared_fields"] = ["ProductCultureFieldsThatAreSet.Name"]
    assert load_config(both, environ={}).kind_of("erp_products") == "products"


def test_structural_fields_every_nested_list_needs_are_not_owned() -> None:
    pim_fields = {"ProductFieldsThatAreSet": ["Variants", "Cultures"], "VariantFieldsThatAreSet": ["Skus"]}
    erp_fields = {"ProductFieldsThatAreSet": ["Variants"], "VariantFieldsThatAreSet": ["Skus"]}
    data = with_changes("pim_products", fields_that_are_set=pim_fields)
    data["imports"]["erp_products"]["fields_that_are_set"] = erp_fields

    assert set(load_config(data, environ={}).all_imports()) == {"pim_products", "erp_products"}


def test_an_import_without_field_lists_beside_another_of_its_kind_is_refused() -> None:
    message = error_of(with_changes("erp_products", fields_that_are_set={}))

    assert "imports.erp_products.fields_that_are_set: import 'erp_products' lists no fields" in message
    assert "'pim_products' writes products too" in message


def test_two_fullfile_imports_of_the_same_scope_are_refused() -> None:
    message = error_of(with_changes("pim_products", full={"full_file": True}))

    assert "imports 'pim_products' and 'erp_products' both send FullFile products imports" in message
    assert "same scope (everything / everything)" in message


def test_fullfile_imports_of_disjoint_warehouses_or_suppliers_are_allowed_overlapping_ones_not() -> None:
    onhand_source = {"entities": {"onhand": {"key_fields": ["part_no"]}}}
    wms = {"kind": "onhand", "source": "wms", "mapping": "sample", "account_id": 301}

    def onhand(first: list[str], second: list[str]) -> dict[str, Any]:
        return {
            "sources": {"wms": {"type": "filedrop", "root": "/wms", **onhand_source}},
            "imports": {
                "north": {
                    **wms,
                    "scope": {"warehouses": first},
                    "fields_that_are_set": {"SkuOnhandFieldsThatAreSet": ["OnhandValue"]},
                },
                "south": {
                    **wms,
                    "scope": {"warehouses": second},
                    "fields_that_are_set": {"SkuOnhandFieldsThatAreSet": ["IncomingValue"]},
                },
            },
        }

    assert set(load_config(onhand(["N1"], ["S1"]), environ={}).all_imports()) == {"north", "south"}
    message = error_of(onhand(["N1", "X"], ["S1", "X"]))
    assert "imports 'north' and 'south' both send FullFile onhand imports" in message
    assert "(warehouses N1, X / warehouses S1, X)" in message


def test_scope_settings_apply_to_their_kinds_only_and_names_are_checked() -> None:
    wrong_scope = with_changes("erp_products", scope={"warehouses": ["W1"]})
    assert "imports.erp_products.scope.warehouses: applies to onhand imports only" in error_of(wrong_scope)

    data = document(**{"ERP Products": ERP_PRODUCTS})
    assert "imports.ERP Products: import names are 1-48 of a-z" in error_of(data)

    data = document(erp_products={**ERP_PRODUCTS, "kind": "product"})
    assert "imports.erp_products.kind: unknown entity 'product'" in error_of(data)


def test_an_import_name_taken_by_the_entities_form_is_refused() -> None:
    data = document(products=ERP_PRODUCTS)
    data["entities"] = {"products": {"source": "pim", "mapping": "sample"}}

    assert "imports.products: the name is taken by entities.products" in error_of(data)


def test_the_entities_form_is_one_import_per_kind_named_after_it() -> None:
    data = {
        "sources": {"pim": {"type": "filedrop", "root": "/pim", **PRODUCT_SOURCE}},
        "entities": {"products": {"source": "pim", "mapping": "sample"}},
    }
    config = load_config(data, environ={})

    assert config.enabled_entities() == ["products"]
    assert config.kind_of("products") == "products"
    assert config.path_of("products") == "entities.products"
