"""``norcekit --stack NAME config validate --config FILE`` checks a configuration against the
deployed stack (moto): its functions' variables, the file-drop prefix IAM allows, and the secrets."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from tests.fixtures.deployed_stack import create_deployed_stack

from norcekit.cli import main

REGION = "eu-north-1"
STACK = "norcekit-prod"
FUNCTION = "norcekit-prod-import-runner"
BUCKET = "prod-data"
EXAMPLE = Path(__file__).resolve().parents[3] / "docs/config.example.yaml"


@pytest.fixture
def stack(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The stack's secret ARNs, once it is deployed with the template's function environment."""
    for name in ("NORCE_SLUG", "NORCE_APPLICATION_ID", "NORCE_ACCOUNT_ID", "TABLE_NAME", "NORCEKIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arns = {
        name: secrets.create_secret(Name=f"{STACK}-{name}", SecretString="{}")["ARN"]
        for name in ("norce", "source", "target", "elsewhere")
    }
    environment = {
        "NORCE_SLUG": "acme",
        "NORCE_ENVIRONMENT": "stage",
        "NORCE_APPLICATION_ID": "1234",
        "NORCE_ACCOUNT_ID": "77",
        "TABLE_NAME": "prod-state",
        "QUARANTINE_BUCKET": BUCKET,
        "FILE_DROP_ROOT": f"s3://{BUCKET}/incoming/",
        "EVENT_BUS_NAME": f"norcekit-{STACK}",
        "NORCE_CREDENTIALS_SECRET_ARN": arns["norce"],
        "SOURCE_CREDENTIALS_SECRET_ARN": arns["source"],
        "TARGET_CREDENTIALS_SECRET_ARN": arns["target"],
        "NORCEKIT_CONFIG": f"s3://{BUCKET}/config/norcekit.yaml",
    }
    outputs = {
        "TableName": "prod-state",
        "BucketName": BUCKET,
        "FileDropRoot": f"s3://{BUCKET}/incoming/",
        "ImportRunnerFunctionName": FUNCTION,
        "NorceCredentialsSecretArn": arns["norce"],
        "SourceCredentialsSecretArn": arns["source"],
        "TargetCredentialsSecretArn": arns["target"],
    }
    create_deployed_stack(STACK, outputs=outputs, function=FUNCTION, environment=environment, region=REGION)
    return arns


def example_with_target() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["events"] = {
        "routes": {"*": ["shop"]},
        "targets": {
            "shop": {
                "type": "http",
                "url": "https://shop.example.com/norce",
                "credentials_secret_arn": "${TARGET_CREDENTIALS_SECRET_ARN}",
                "credentials_key": "shop.token",
            }
        },
    }
    return document


def validate(tmp_path: Path, document: dict[str, Any], *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "norcekit.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    args = ["--stack", STACK, "--region", REGION, *extra, "config", "validate", "--config", str(path)]
    return main(args, stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_the_documented_example_agrees_with_the_stack(stack: dict[str, str], tmp_path: Path) -> None:
    code, out, err = validate(tmp_path, example_with_target(), "--json")

    assert code == 0, err
    checked = json.loads(out)["stack"]
    assert checked["file_drop_root"] == f"s3://{BUCKET}/incoming/"
    assert [(s["path"], s["arn"], s["exists"]) for s in checked["secrets"]] == [
        ("sources.bc.client_secret", stack["source"], True),
        ("events.targets.shop.credentials_secret_arn", stack["target"], True),
    ]


def test_each_disagreement_is_named_by_its_setting(
    stack: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BC_ENVIRONMENT", "sandbox")  # the operator has it; the functions do not
    document = example_with_target()
    bc = document["sources"]["bc"]
    bc["environment"] = "${BC_ENVIRONMENT}"
    bc["client_secret"] = {"secret_arn": stack["elsewhere"], "key": "bc.client_secret"}
    document["sources"]["erp_files"]["root"] = f"s3://{BUCKET}/erp-exports"
    missing = stack["target"].replace(f"{STACK}-target", f"{STACK}-gone")
    document["events"]["targets"]["shop"]["credentials_secret_arn"] = missing

    code, _, err = validate(tmp_path, document)

    assert code == 2
    assert (
        "sources.bc.environment: ${BC_ENVIRONMENT} is not set in the deployed functions' environment" in err
    )
    assert (
        f"sources.erp_files.root: s3://{BUCKET}/erp-exports is outside s3://{BUCKET}/incoming/, "
        "where the import runner may read"
    ) in err
    assert (
        f"sources.bc.client_secret: {stack['elsewhere']} is not the stack's secret {stack['source']}" in err
    )
    assert f"events.targets.shop.credentials_secret_arn: secret {missing} does not exist" in err


def test_a_local_folder_cannot_be_read_by_the_deployed_function(
    stack: dict[str, str], tmp_path: Path
) -> None:
    document = example_with_target()
    document["sources"]["erp_files"]["root"] = str(tmp_path / "drop")

    code, _, err = validate(tmp_path, document)

    assert code == 2 and "sources.erp_files.root:" in err and "is a local folder" in err
