"""Issue 14's done-when on the local stack: a PIM and an ERP import of products, two system accounts.

`norcekit config validate` accepts the local configuration and refuses a copy where both imports set
``Name``; each import runs to success under its own AccountId; Norce ends up with the PIM's names and
the ERP's statuses; `jobs list` shows both imports' jobs; `schedules sync` creates one schedule per
configured expression in the stack's schedule group.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import orjson
import pytest
import yaml

from norcekit.cli import main
from norcekit.imports.config import load_config
from norcekit_local import LocalStack
from norcekit_local.sample_data.generate import read_jsonl
from norcekit_local.stack import LOCAL_ACCOUNT_ID

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
LOCAL_CONFIG = ROOT / "local" / "norcekit_local" / "config" / "local.yaml"
PIM, ERP = "pim_products", "products"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(
        tmp_path_factory.mktemp("named-imports"), emulator_overrides={"job_delay": 0.01}
    ) as running:
        yield running


def cli(stack: LocalStack, *argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["--local-root", str(stack.root), *argv], stdin=io.StringIO(), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_config_validate_accepts_two_product_imports_and_refuses_two_owners_of_name(
    stack: LocalStack, tmp_path: Path
) -> None:
    code, out, err = cli(stack, "config", "validate", "--local", "--json")
    assert code == 0, err
    data = yaml.safe_load(LOCAL_CONFIG.read_text(encoding="utf-8"))
    assert {name: cfg["kind"] for name, cfg in data["imports"].items()} == {ERP: "products", PIM: "products"}

    erp_fields = data["imports"][ERP]["fields_that_are_set"]
    erp_fields["ProductCultureFieldsThatAreSet"] = ["Name"]
    erp_fields["ProductFieldsThatAreSet"].append("Cultures")
    both_set_name = tmp_path / "both-set-name.yaml"
    both_set_name.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, out, err = cli(stack, "config", "validate", "--local", "--config", str(both_set_name))
    assert code != 0
    assert "Name is set by both imports 'products' and 'pim_products'" in out + err


def test_each_import_runs_under_its_own_account_and_norce_keeps_each_owners_fields(stack: LocalStack) -> None:
    # The ERP retires one SKU; the PIM's row of that product still lists it (its payload says Active,
    # the mapping's default), but the PIM's header sets no SKU field, so the ERP's status stands.
    erp_file = next((stack.sample_dir / "products" / "full").glob("*.jsonl"))
    erp_rows = {row["code"]: row for row in read_jsonl(erp_file)}
    code = next(iter(erp_rows))
    retired = erp_rows[code]["variants"][0]["skus"][0]
    retired["status"] = "inactive"
    erp_file.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in erp_rows.values()))
    pim_rows = {
        row["code"]: row
        for row in read_jsonl(next((stack.sample_dir / "pim" / "products" / "full").glob("*.jsonl")))
    }
    assert retired["part_no"] in {s["part_no"] for v in pim_rows[code]["variants"] for s in v["skus"]}

    for name in (ERP, PIM):
        code_, out, err = cli(stack, "import", "run", "--local", "--import", name, "--mode", "full", "--wait")
        assert code_ == 0, f"{name}: {out}{err}"

    config = load_config(LOCAL_CONFIG, environ={"NORCEKIT_SAMPLE_DIR": str(stack.sample_dir)})
    jobs = [job for job in stack.emulator.jobs() if job["Kind"] == "products"]
    # The ERP's AccountId is the stack's NorceAccountId (account_source erp); the PIM's is its own.
    assert {job["AccountId"] for job in jobs} == {LOCAL_ACCOUNT_ID, config.imports[PIM].account_id}
    assert config.imports[PIM].account_id != LOCAL_ACCOUNT_ID

    products = {row["Code"]: row for row in stack.emulator.catalog_rows("products")}
    names = {
        product: {c["CultureCode"]: c.get("Name") for c in row.get("Cultures", [])}
        for product, row in products.items()
    }
    assert names == {product: row["names"] for product, row in pim_rows.items()}
    assert names[code] != erp_rows[code]["names"]
    assert products[code]["ManufacturerCode"] == erp_rows[code]["manufacturer_code"]
    skus = {row["PartNo"]: row for row in stack.emulator.catalog_rows("skus")}
    assert skus[retired["part_no"]]["IsActive"] is False
    assert sum(row["IsActive"] for row in skus.values()) == len(skus) - 1

    code_, out, err = cli(stack, "jobs", "list", "--local", "--json")
    assert code_ == 0, err
    listed = json.loads(out)
    assert {(job["import"], job["kind"]) for job in listed if job["kind"] == "products"} == {
        (PIM, "products"),
        (ERP, "products"),
    }


def test_schedules_sync_creates_one_schedule_per_configured_expression(stack: LocalStack) -> None:
    config = load_config(LOCAL_CONFIG, environ={"NORCEKIT_SAMPLE_DIR": str(stack.sample_dir)})
    expected = {
        f"import-{name}-{mode}": expression
        for name, cfg in config.all_imports().items()
        if cfg.enabled
        for mode, expression in cfg.schedules.model_dump().items()
        if expression and getattr(cfg, mode).enabled
    }
    code, out, err = cli(stack, "--local", "schedules", "sync", "--json")  # norcekit --local schedules sync
    assert code == 0, err
    assert {change["action"] for change in json.loads(out)["changes"]} == {"create"}

    env = stack.info["env"]
    scheduler = boto3.client(
        "scheduler", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_DEFAULT_REGION"]
    )
    group = env["IMPORT_SCHEDULE_GROUP"]
    listed = scheduler.list_schedules(GroupName=group)["Schedules"]
    found = {
        s["Name"]: scheduler.get_schedule(GroupName=group, Name=s["Name"])["ScheduleExpression"]
        for s in listed
    }
    assert found == expected
    assert {"import-pim_products-full", "import-products-full", "import-products-delta"} <= found.keys()

    code, out, err = cli(stack, "schedules", "sync", "--local", "--json")
    assert code == 0, err
    assert json.loads(out)["in_sync"] is True
