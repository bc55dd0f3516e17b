"""The test environment runs what the layer ships: the lockfile's versions, nothing else.

``make setup`` installs layers/norcekit/requirements.txt (hash-checked) before the dev extras, which
are constrained to it; the layer build installs the same file. aws-sam-cli lives in .venv-tools, so
it cannot pull another boto3 or pydantic into this environment.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from tests.bench.layer import LAYER_DIR, LOCK_PATH, locked_versions, normalize

REPO = LAYER_DIR.parents[1]


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line.split("#", 1)[0])
        if match:
            names.add(normalize(match.group(1)))
    return names


def test_installed_runtime_packages_are_the_locked_versions() -> None:
    locked = locked_versions()
    assert {"boto3", "botocore", "pydantic", "pydantic-core", "aws-lambda-powertools"} <= set(locked)
    installed = {name: metadata.version(name) for name in locked}
    assert installed == locked


def test_every_pin_is_exact_and_hashed() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK_PATH.read_text())
    pins = [block for block in blocks if re.match(r"^[A-Za-z0-9]", block)]
    assert len(pins) == len(locked_versions())
    for block in pins:
        assert "==" in block.splitlines()[0], block.splitlines()[0]
        assert "--hash=sha256:" in block, block.splitlines()[0]


def test_the_lock_covers_every_range_and_every_package_dependency() -> None:
    wanted = _requirement_names((LAYER_DIR / "requirements.in").read_text().splitlines())
    locked = set(locked_versions())
    assert wanted <= locked, wanted - locked
    # pyproject repeats the runtime ranges so `pip install -e .` works; all but the CLI's own
    # (rich) must be the layer's.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert _requirement_names(project["dependencies"]) - {"rich"} == wanted


def test_build_tools_are_not_in_the_test_environment() -> None:
    # They pin their own boto3/click/pydantic; they live in .venv-tools (make tools).
    for tool in ("aws-sam-cli", "pip-tools"):
        try:
            metadata.version(tool)
        except metadata.PackageNotFoundError:
            continue
        raise AssertionError(f"{tool} is installed in the test environment")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    dev = _requirement_names(project["optional-dependencies"]["dev"])
    assert not dev & {"aws-sam-cli", "pip-tools"}
