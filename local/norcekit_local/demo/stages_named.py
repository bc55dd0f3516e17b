"""Demo stage: a second system writes products, under its own system account (issue 14).

The local configuration has two product imports (``imports:``): ``products`` reads the ERP export
under the ERP's account and owns everything but product names and descriptions; ``pim_products``
reads the PIM export under the PIM's account and owns exactly those (``full.full_file: false``: the
ERP's full import owns the scope). Norce then holds the PIM's names and the ERP's statuses, and has
seen both AccountIds in the ``X-StormConnect-Header``.
"""

from __future__ import annotations

from ..sample_data.files import newest_full, read_jsonl
from .core import Demo, run_imports

ERP_IMPORT, PIM_IMPORT = "products", "pim_products"


def stage_named_imports(demo: Demo) -> None:
    config = demo.svc.config
    [pim_run] = run_imports(demo, "full", [PIM_IMPORT])
    [erp_run] = [run for run in demo.runs if run.entity == ERP_IMPORT and run.mode == "full"][:1]
    emulator = demo.stack.emulator
    accounts = {
        name: sorted({emulator.job(job_id)["AccountId"] for job_id in run.job_ids})
        for name, run in ((ERP_IMPORT, erp_run), (PIM_IMPORT, pim_run))
    }
    demo.out.table(
        "Two systems, one Norce entity (products)",
        ["import", "source", "AccountId in the header", "fields it owns"],
        [
            [name, config.entity(name).source, ", ".join(map(str, accounts[name])), _owned(demo, name)]
            for name in (ERP_IMPORT, PIM_IMPORT)
        ],
    )
    demo.expect(
        all(len(ids) == 1 for ids in accounts.values()) and accounts[ERP_IMPORT] != accounts[PIM_IMPORT],
        "each import's jobs under its own AccountId",
        f"AccountIds seen: {accounts}",
    )

    sample = demo.sample_dir
    erp = {row["code"]: row for row in read_jsonl(newest_full(sample, "products"))}
    pim = {row["code"]: row for row in read_jsonl(newest_full(sample / "pim", "products"))}
    names_from_pim = names_from_erp = 0
    for row in emulator.catalog_rows("products"):
        held = {c["CultureCode"]: c.get("Name") for c in row.get("Cultures") or []}
        names_from_pim += row["Code"] in pim and held == pim[row["Code"]]["names"]
        names_from_erp += row["Code"] in erp and held == erp[row["Code"]]["names"]
    want_active = {
        sku["part_no"]: sku["status"] == "active"
        for row in erp.values()
        for variant in row["variants"]
        for sku in variant["skus"]
    }
    skus = {row["PartNo"]: row for row in emulator.catalog_rows("skus")}
    statuses_from_erp = sum(
        1 for part_no, active in want_active.items() if skus[part_no]["IsActive"] is active
    )
    checks = [
        ["products named as in the PIM export", len(pim), names_from_pim, names_from_pim == len(pim)],
        ["products named as in the ERP export", 0, names_from_erp, names_from_erp == 0],
        [
            "SKU statuses as in the ERP export",
            len(want_active),
            statuses_from_erp,
            statuses_from_erp == len(want_active),
        ],
    ]
    demo.out.table("Who wrote what", ["check", "expected", "Norce", "ok"], checks)
    bad = [str(row[0]) for row in checks if row[-1] is not True]
    demo.expect(not bad, "Norce to hold the PIM's names and the ERP's statuses", f"not so: {', '.join(bad)}")
    demo.summary["named_imports"] = {
        "account_ids": {name: ids[0] for name, ids in accounts.items()},
        "names_from_pim": names_from_pim,
        "statuses_from_erp": statuses_from_erp,
    }
    demo.out.ok(
        f"Norce holds the PIM's names ({names_from_pim} products, AccountId {accounts[PIM_IMPORT][0]}) "
        f"and the ERP's statuses ({statuses_from_erp} SKUs, AccountId {accounts[ERP_IMPORT][0]})"
    )


def _owned(demo: Demo, name: str) -> str:
    lists = demo.svc.config.entity(name).fields_that_are_set
    return "; ".join(
        f"{key.removesuffix('FieldsThatAreSet')}: {', '.join(map(str, v))}" for key, v in lists.items() if v
    )
