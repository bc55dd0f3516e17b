"""``--import NAME`` beside ``--entity KIND`` on the commands that select an import."""

from __future__ import annotations

import pytest

from norcekit.cli.main import build_parser


def test_import_run_takes_a_named_import_or_an_entity_but_not_both() -> None:
    parser = build_parser()

    named = parser.parse_args(["import", "run", "--import", "pim_products", "--mode", "full"])
    kind = parser.parse_args(["import", "run", "--entity", "products", "--mode", "full"])

    assert (named.entity, kind.entity) == ("pim_products", "products")
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "run", "--import", "a", "--entity", "products", "--mode", "full"])
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "run", "--mode", "full"])


def test_jobs_list_filters_by_import_name() -> None:
    args = build_parser().parse_args(["jobs", "list", "--import", "erp_products"])

    assert args.entity == "erp_products"
