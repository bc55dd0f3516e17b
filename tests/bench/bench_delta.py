"""Delta import: 10k changed SKU prices out of a 100k-SKU catalog, through the real ImportRunner.

The ``ImportRunner`` runs in this process with its state in moto (in-process ``mock_aws``: run
record, lock, job records, watermark) and its Connect/Job clients pointed at the emulator in another
process (jobs left queued: applying them is Norce's work, not the run's). The file drop holds two
delta files inside the window: 6,000 changed rows, then 5,000 more of which 1,000 change a row of
the first file again (the later one must win) — 11,000 rows read, 10,000 distinct keys.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from tests.bench.data import integration_config, sample_export
from tests.bench.harness import BenchResult, Figure, median
from tests.bench.servers import APPLICATION_ID, CLIENT_ID, CLIENT_SECRET, emulator_process

NAME = "import_delta"
REGION = "eu-north-1"
BATCH_SIZE = 1000  # the configuration default (entities.<name>.delta.batch_size)


class _NullMetrics:
    def add_dimension(self, name: str, value: str) -> None:
        return None

    def add_metadata(self, key: str, value: Any) -> None:
        return None

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        return None


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def write_deltas(full_root: Path, drop_root: Path, changed: int, now: datetime) -> dict[str, int]:
    """Two delta files of ``sku_prices`` (stamped inside the window) with ``changed`` distinct keys."""
    from norcekit_local.sample_data.generate import PRICE_COLUMNS  # noqa: PLC0415

    full = sorted((full_root / "sku_prices" / "full").glob("*.csv"))[-1]
    with full.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    rng = Random(11)
    picked = [rows[i] for i in sorted(rng.sample(range(len(rows)), changed))]
    first_part = picked[: changed * 6 // 10]
    again = [dict(row) for row in rng.sample(first_part, changed // 10)]
    second_part = picked[len(first_part) :] + again
    folder = drop_root / "sku_prices" / "delta"
    folder.mkdir(parents=True, exist_ok=True)
    for offset, part, factor in ((40, first_part, 0.9), (20, second_part, 0.8)):
        stamp = now - timedelta(minutes=offset)
        path = folder / f"{_stamp(stamp)}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=PRICE_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in part:
                writer.writerow(
                    {**row, "price_sale": f"{float(row['price_sale']) * factor:.2f}",
                     "updated_at": stamp.strftime("%Y-%m-%dT%H:%M:%SZ")}
                )  # fmt: skip
        path.with_name(path.name + ".done").write_bytes(b"")
    return {"rows": len(first_part) + len(second_part), "distinct": changed}


def _aws_env() -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }.items():  # fmt: skip
        os.environ[name] = value
    for name in list(os.environ):
        if name == "AWS_PROFILE" or name.startswith("AWS_ENDPOINT_URL"):
            del os.environ[name]


def _one_run(url: str, drop_root: Path, table_name: str, bucket: str, now: datetime) -> dict[str, Any]:
    import boto3  # noqa: PLC0415

    from norcekit.deadline import Deadline  # noqa: PLC0415
    from norcekit.imports.runner import ImportRunner, NorceSide, RunnerOptions, RunStores  # noqa: PLC0415
    from norcekit.quarantine import S3QuarantineStore  # noqa: PLC0415
    from norcekit.settings import load_settings  # noqa: PLC0415
    from norcekit.state.runs import RunOutcome  # noqa: PLC0415
    from norcekit.state.table import StateTable, create_table  # noqa: PLC0415
    from norcekit.state.watermarks import Watermark, WatermarkStore  # noqa: PLC0415
    from norcekit.wiring import build_norce_clients  # noqa: PLC0415

    create_table(boto3.client("dynamodb", region_name=REGION), table_name)
    table = StateTable(table_name, dynamodb_resource=boto3.resource("dynamodb", region_name=REGION))
    watermarks = WatermarkStore(table)
    watermarks.commit("sku_prices", Watermark.timestamp(now - timedelta(hours=1)), run_id="bench-full")
    settings = load_settings(
        norce_base_url=url, norce_client_id=CLIENT_ID, norce_client_secret=CLIENT_SECRET,
        norce_application_id=APPLICATION_ID, norce_account_id=1,
    )  # fmt: skip
    clients = build_norce_clients(settings)
    runner = ImportRunner(
        integration_config(drop_root, batch_size=BATCH_SIZE),
        stores=RunStores.on_table(
            table, S3QuarantineStore(bucket, s3_client=boto3.client("s3", region_name=REGION))
        ),
        norce=NorceSide(connect=clients.connect, jobs=clients.jobs, account_id_for=lambda source: 1),
        metrics=_NullMetrics(),  # type: ignore[arg-type]
        options=RunnerOptions(),
    )
    started = time.perf_counter()
    run = runner.run("sku_prices", "delta", deadline=Deadline.after(900))
    elapsed = time.perf_counter() - started
    clients.close()
    if run.outcome is not RunOutcome.SUBMITTED:
        raise RuntimeError(f"delta run ended {run.outcome}: {run.message}")
    return {
        "elapsed_s": elapsed,
        "jobs": len(run.job_ids),
        "read": run.counts.read,
        "deduplicated": run.counts.deduplicated,
        "submitted": run.counts.submitted,
        "quarantined": run.counts.quarantined,
    }


def run(*, quick: bool = False) -> BenchResult:
    from moto import mock_aws  # noqa: PLC0415

    catalog_skus, changed, reps = (2_000, 200, 1) if quick else (100_000, 10_000, 3)
    result = BenchResult(
        NAME,
        "Delta import",
        f"{changed:,} changed SKU prices out of a {catalog_skus // 1000}k-SKU sample catalog, one "
        "`ImportRunner.run('sku_prices', 'delta')` per repetition (real runner, file-drop source, sample "
        "mapping, moto in-process for DynamoDB/S3, emulator in another process), batch size "
        f"{BATCH_SIZE} (the default). Wall time of `run()`: lock, ordering check, window read, dedupe, "
        f"mapping, batched streamed imports, job/run records. Median of {reps}.",
    )
    full_root, _ = sample_export(catalog_skus)
    _aws_env()
    runs: list[dict[str, Any]] = []
    with emulator_process(job_processing=False) as url, mock_aws(), tempfile.TemporaryDirectory() as tmp:
        import boto3  # noqa: PLC0415

        bucket = "bench-quarantine"
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        now = datetime.now(UTC).replace(microsecond=0)
        written = write_deltas(full_root, Path(tmp), changed, now)
        for rep in range(reps):
            runs.append(_one_run(url, Path(tmp), f"bench-state-{rep}", bucket, now))
    first = runs[0]
    expected_jobs = math.ceil(changed / BATCH_SIZE)
    result.add(Figure("wall time", round(median([r["elapsed_s"] for r in runs]), 3), "s", repetitions=reps,
                      samples=[round(r["elapsed_s"], 3) for r in runs]))  # fmt: skip
    result.add(
        Figure("changed items per second", round(median([changed / r["elapsed_s"] for r in runs]), 1),
               "items/s", repetitions=reps)
    )  # fmt: skip
    result.add(
        Figure(
            "jobs submitted",
            first["jobs"],
            "jobs",
            repetitions=reps,
            goal=f"= ⌈{changed:,}/{BATCH_SIZE}⌉ = {expected_jobs}",
            passed=all(r["jobs"] == expected_jobs for r in runs),
        )
    )
    result.add(
        Figure(
            "items per job",
            round(first["submitted"] / first["jobs"], 1),
            "items",
            repetitions=reps,
            goal=f"{changed:,} distinct keys submitted once each",
            passed=all(r["submitted"] == changed and r["quarantined"] == 0 for r in runs),
        )
    )
    result.notes.append(
        f"Rows read {first['read']:,} (of {written['rows']:,} written), duplicates dropped "
        f"{first['deduplicated']:,} (latest version kept), submitted {first['submitted']:,} in "
        f"{first['jobs']} jobs."
    )
    return result
