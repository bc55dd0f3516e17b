"""The local stack against a Norce tenant reached by URL only (issue 18).

The "tenant" is a second emulator in its own process: the stack knows nothing but its URL and the
credentials in an env file, as with a real playground tenant. A full import reaches it through
``norcekit --local import run``, and a posted ``SkuChangedNotification`` is looked up in its Query
API and lands in the local S3 target.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from norcekit.cli import main
from norcekit_local import LocalStack
from norcekit_local.sample_data.generate import generate, newest_full, read_jsonl
from norcekit_local.stack import DEFAULT_SERVICE_FACTORIES
from norcekit_local.tenant import EmulatorOnlyError, NorceTenant, TenantError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "tenant-client"
CLIENT_SECRET = "tenant-secret-not-real"  # the test tenant's, fake
APPLICATION_ID = 2077
#: Generous: a busy 2-core machine; the waits end as soon as the outcome is there.
WAIT_S = 120


@pytest.fixture(scope="module")
def tenant_url() -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "norce_emulator", "--port", "0", "--job-delay", "0.05",
            "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
            "--application-id", str(APPLICATION_ID),
        ],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the emulator says where it listens
        match = re.search(r"listening on (http://\S+)", line)
        assert match, (
            f"the tenant emulator did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
        )
        yield match.group(1)
    finally:
        process.terminate()
        process.communicate(timeout=WAIT_S)


@pytest.fixture(scope="module")
def stack(tenant_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    root = tmp_path_factory.mktemp("tenant")
    env_file = root / "norce.env"
    env_file.write_text(
        f"NORCE_CLIENT_ID={CLIENT_ID}\nNORCE_CLIENT_SECRET={CLIENT_SECRET}\n"
        f"NORCE_APPLICATION_ID={APPLICATION_ID}\nNORCE_ACCOUNT_ID=7\nNORCE_ENVIRONMENT=playground\n"
    )
    generate(root / "local" / "sample", products=3, customers=2, companies=1, supplier_products=1)
    tenant = NorceTenant.from_sources(tenant_url, env_file=env_file, environ={})
    services = [factory() for factory in DEFAULT_SERVICE_FACTORIES]
    with LocalStack(root / "local", norce=tenant, services=services) as running:
        yield running


def cli(stack: LocalStack, *argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["--local-root", str(stack.root), *argv], stdin=io.StringIO(), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_stack_json_names_the_tenant_and_holds_no_secret(stack: LocalStack, tenant_url: str) -> None:
    text = stack.stack_file.read_text()
    info = json.loads(text)
    assert info["norce_mode"] == "tenant"
    assert info["norce_url"] == tenant_url == info["env"]["NORCE_BASE_URL"]
    assert info["norce_admin_url"] is None
    assert info["env"]["NORCE_APPLICATION_ID"] == str(APPLICATION_ID)
    assert CLIENT_SECRET not in text
    assert CLIENT_SECRET not in (stack.root / "stack.env").read_text()
    assert CLIENT_SECRET not in stack.summary()
    assert "Norce tenant" in stack.summary()


def test_emulator_only_operations_are_refused_clearly(stack: LocalStack, tenant_url: str) -> None:
    with pytest.raises(EmulatorOnlyError, match=f"bundled Norce emulator.*{re.escape(tenant_url)}"):
        stack.emulator.set_faults  # noqa: B018 - the access itself is refused
    assert not stack.uses_emulator


def test_a_full_import_reaches_the_tenant(stack: LocalStack, tenant_url: str) -> None:
    code, out, err = cli(stack, "import", "run", "--entity", "products", "--mode", "full", "--wait", "--json")
    assert code == 0, err
    run = json.loads(out)["run"]
    assert run["outcome"] == "succeeded" and run["counts"]["submitted"] > 0
    part_nos = {sku["part_no"] for product in read_jsonl(newest_full(stack.sample_dir, "products"))
                for variant in product["variants"] for sku in variant["skus"]}  # fmt: skip
    skus = httpx.get(f"{tenant_url}/_admin/catalog", params={"kind": "skus"}, timeout=WAIT_S).json()
    assert part_nos <= {row["PartNo"] for row in skus}
    assert CLIENT_SECRET not in out + err


def test_a_posted_sku_changed_notification_reaches_the_s3_target(stack: LocalStack) -> None:
    if cli(stack, "import", "run", "--entity", "products", "--mode", "full", "--wait")[0] not in (0, 4):
        pytest.fail("products could not be imported into the tenant")
    product = next(read_jsonl(newest_full(stack.sample_dir, "products")))
    part_no = product["variants"][0]["skus"][0]["part_no"]
    info = stack.info
    answer = httpx.post(
        f"{info['webhook_url']}/SkuChangedNotification",
        json={"ClientId": APPLICATION_ID, "PartNo": part_no, "EntityChanged": "Sku"},
        headers={info["webhook_secret_header"]: info["webhook_secret"]},
        timeout=WAIT_S,
    )
    assert answer.status_code < 300
    s3 = stack.moto.client("s3")
    key = f"targets/sku/{part_no}.json"
    deadline = time.monotonic() + WAIT_S
    document: dict[str, Any] | None = None
    while document is None and time.monotonic() < deadline:
        try:
            document = json.loads(s3.get_object(Bucket=info["bucket"], Key=key)["Body"].read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.2)
    assert document is not None, f"s3://{info['bucket']}/{key} not written within {WAIT_S} s"
    assert part_no in json.dumps(document)


def test_missing_credentials_name_the_variables_not_values(tmp_path: Path) -> None:
    env_file = tmp_path / "norce.env"
    env_file.write_text(f"NORCE_CLIENT_SECRET={CLIENT_SECRET}\n")
    with pytest.raises(TenantError) as info:
        NorceTenant.from_sources("https://t.example", env_file=env_file, environ={})
    message = str(info.value)
    assert "NORCE_CLIENT_ID" in message and "NORCE_APPLICATION_ID" in message
    assert CLIENT_SECRET not in message
    with pytest.raises(TenantError, match="--norce-url"):
        NorceTenant.from_sources("not a url", environ={})
