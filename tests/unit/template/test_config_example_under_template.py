"""docs/config.example.yaml runs under template.yaml as deployed: every ${VAR} it uses is a variable
the template sets, its file drop reads where the import runner's IAM allows, and its secrets are
the stack's own (the only ones the functions may read)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from norcekit.configfile import read_config_document
from norcekit.imports.config import FileDropSourceConfig, load_config
from norcekit.imports.sources.auth import SecretRef, resolve_secret

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs/config.example.yaml"
BUCKET = "stack-databucket-1a2b3c"
SOURCE_ARN = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:SourceCredentialsSecret-abc"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))
    return loaded


def deployed_value(value: Any, template: dict[str, Any]) -> str:
    """A Globals environment value as the deployed function sees it (defaults, fake physical ids)."""
    parameters = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    physical = {
        "DataBucket": BUCKET,
        "SourceCredentialsSecret": SOURCE_ARN,
        "TargetCredentialsSecret": SOURCE_ARN.replace("Source", "Target"),
    }
    if isinstance(value, dict) and "Ref" in value:
        return parameters.get(value["Ref"]) or physical.get(value["Ref"], f"{value['Ref']}-id")
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(
            r"\$\{([A-Za-z.]+)\}", lambda m: deployed_value({"Ref": m[1]}, template), value["Fn::Sub"]
        )
    if isinstance(value, dict) and "Fn::If" in value:
        return "set"
    return str(value)


@pytest.fixture(scope="module")
def function_environment(template: dict[str, Any]) -> dict[str, str]:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {name: deployed_value(value, template) for name, value in variables.items()}


def test_every_variable_the_example_uses_is_set_by_the_template(function_environment: dict[str, str]) -> None:
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", json.dumps(read_config_document(EXAMPLE))))
    assert used, "the example uses the stack's variables"
    assert used <= set(function_environment), f"not set by the template: {used - set(function_environment)}"


def test_the_example_loads_with_only_the_functions_environment(function_environment: dict[str, str]) -> None:
    config = load_config(EXAMPLE, environ=function_environment)
    roots = sorted(s.root for s in config.sources.values() if isinstance(s, FileDropSourceConfig))
    assert roots == [f"s3://{BUCKET}/incoming/erp-exports", f"s3://{BUCKET}/incoming/pim-exports"]


def test_the_file_drop_root_is_inside_what_the_import_runner_may_read(
    template: dict[str, Any], function_environment: dict[str, str]
) -> None:
    config = load_config(EXAMPLE, environ=function_environment)
    drops = [s for s in config.sources.values() if isinstance(s, FileDropSourceConfig)]
    statements = {
        s["Sid"]: s
        for s in template["Resources"]["ImportRunnerFunction"]["Properties"]["Policies"][1]["Statement"]
    }
    readable = deployed_value(statements["ReadSourceFilesAndConfig"]["Resource"][0], template)
    listable = deployed_value(
        statements["ListSourceFiles"]["Condition"]["StringLike"]["s3:prefix"][0], template
    )
    assert readable.endswith("/incoming/*") and len(drops) == 2
    for drop in drops:
        key_prefix = drop.root.removeprefix(f"s3://{BUCKET}/")
        assert key_prefix.startswith("incoming/") and key_prefix.startswith(listable.removesuffix("*"))


def test_the_example_reads_a_nested_value_of_the_stack_source_secret(
    template: dict[str, Any], function_environment: dict[str, str]
) -> None:
    config = load_config(EXAMPLE, environ=function_environment)
    ref: SecretRef = config.sources["bc"].client_secret  # type: ignore[union-attr]
    statements = template["Resources"]["ImportRunnerFunction"]["Properties"]["Policies"][1]["Statement"]
    [read] = [s for s in statements if s["Sid"] == "ReadCredentials"]
    assert {"Ref": "SourceCredentialsSecret"} in read["Resource"] and ref.secret_arn == SOURCE_ARN
    stored = json.dumps({"bc": {"client_secret": "bc-test-secret"}, "other": {"token": "x"}})
    assert resolve_secret(ref, fetch=lambda arn: stored) == "bc-test-secret"
