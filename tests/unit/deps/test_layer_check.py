"""The built-layer check (.ci/run runs it after `sam build`) finds what would slow or break a cold start."""

from __future__ import annotations

import py_compile
import sys
from pathlib import Path

from tests.bench.layer import layer_problems, main

LOCK = "alpha==1.2.0 \\\n    --hash=sha256:00\nbeta-pkg==0.3 \\\n    --hash=sha256:11\n"


def _layer(tmp_path: Path, *, mode: py_compile.PycInvalidationMode | None) -> Path:
    site = tmp_path / "layer" / "python"
    for dist in ("alpha-1.2.0", "beta_pkg-0.3"):
        (site / f"{dist}.dist-info").mkdir(parents=True)
    for module in ("alpha/__init__.py", "norcekit/__init__.py", "norcekit/settings.py"):
        path = site / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("VALUE = 1\n")
        if mode is not None:
            py_compile.compile(str(path), invalidation_mode=mode, doraise=True)
    (tmp_path / "requirements.txt").write_text(LOCK)
    return tmp_path / "layer"


def test_a_layer_as_the_build_lays_it_out_passes(tmp_path: Path) -> None:
    layer = _layer(tmp_path, mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    assert layer_problems(layer, tmp_path / "requirements.txt") == []


def test_modules_without_bytecode_or_with_timestamp_bytecode_are_reported(tmp_path: Path) -> None:
    layer = _layer(tmp_path, mode=None)
    problems = layer_problems(layer, tmp_path / "requirements.txt")
    assert "no bytecode for norcekit/settings.py" in problems
    assert len(problems) == 3

    layer = _layer(tmp_path / "ts", mode=py_compile.PycInvalidationMode.TIMESTAMP)
    problems = layer_problems(layer, tmp_path / "ts" / "requirements.txt")
    tag = sys.implementation.cache_tag
    assert f"norcekit/__pycache__/settings.{tag}.pyc is not unchecked-hash bytecode" in problems


def test_a_version_other_than_the_lock_or_an_unlocked_package_is_reported(tmp_path: Path) -> None:
    layer = _layer(tmp_path, mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    site = layer / "python"
    (site / "beta_pkg-0.3.dist-info").rename(site / "beta_pkg-0.4.dist-info")
    (site / "gamma-1.0.dist-info").mkdir()
    assert layer_problems(layer, tmp_path / "requirements.txt") == [
        "beta-pkg: locked 0.3, layer has 0.4",
        "gamma: in the layer but not in the lockfile",
    ]


def test_the_check_command_fails_on_a_missing_layer(tmp_path: Path) -> None:
    assert main(["check", str(tmp_path / "nothing")]) == 1
    assert main(["bogus"]) == 2
