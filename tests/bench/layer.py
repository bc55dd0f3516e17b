"""The built Lambda layer: build it as ``sam build`` does (for the host), and check a built one.

``build_host_layer(dest)`` runs the layer's own build target (``layers/norcekit/Makefile``,
``build-NorcekitLayer``, the one ``sam build`` runs for arm64) for this machine's architecture and
Python, so the cold-start bench imports exactly what the build lays out.

``python -m tests.bench.layer check DIR`` (``.ci/run`` runs it on ``.aws-sam/build/NorcekitLayer``)
exits 1 unless every package of the lockfile is installed at its locked version and every module has
its compiled bytecode, hash-based and unchecked (Lambda's ``/opt`` is read-only: a module without it
is compiled again at every cold start).
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

from tests.bench.harness import REPO

LAYER_DIR = REPO / "layers" / "norcekit"
LOCK_PATH = LAYER_DIR / "requirements.txt"
BUILD_TARGET = "build-NorcekitLayer"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
#: .pyc header flags (PEP 552): bit 0 = hash-based, bit 1 = check the source.
_HASH_BASED, _CHECK_SOURCE = 0b01, 0b10


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path = LOCK_PATH) -> dict[str, str]:
    """Normalized package name → locked version, from a pip-compile lockfile."""
    pins = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def build_host_layer(dest: Path) -> Path:
    """Builds the layer into ``dest`` for this machine; returns the ``python`` folder Lambda mounts."""
    subprocess.run(
        [
            "make", "--no-print-directory", "-f", str(LAYER_DIR / "Makefile"), BUILD_TARGET,
            f"ARTIFACTS_DIR={dest}",
            f"PYTHON={sys.executable}",
            f"PYTHON_VERSION={sys.version_info.major}.{sys.version_info.minor}",
            f"PLATFORM=manylinux2014_{platform.machine()}",
        ],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return dest / "python"


def _installed_versions(site: Path) -> dict[str, str]:
    versions = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").partition("-")
        versions[normalize(name)] = version
    return versions


def layer_problems(layer: Path, lock: Path = LOCK_PATH, cache_tag: str | None = None) -> list[str]:
    """What is wrong with a built layer (``layer`` holds ``python/``); empty when it is right."""
    site = layer / "python"
    if not site.is_dir():
        return [f"{site} does not exist"]
    tag = cache_tag or sys.implementation.cache_tag
    problems = []
    installed = _installed_versions(site)
    for name, version in sorted(locked_versions(lock).items()):
        if installed.get(name) != version:
            problems.append(f"{name}: locked {version}, layer has {installed.get(name, 'nothing')}")
    for name in sorted(set(installed) - set(locked_versions(lock))):
        problems.append(f"{name}: in the layer but not in the lockfile")
    if not (site / "norcekit" / "__init__.py").is_file():
        problems.append("the norcekit package is missing")
    for source in sorted(site.rglob("*.py")):
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        if not compiled.is_file():
            problems.append(f"no bytecode for {source.relative_to(site)}")
            continue
        flags = int.from_bytes(compiled.read_bytes()[4:8], "little")
        if flags & _HASH_BASED == 0 or flags & _CHECK_SOURCE:
            problems.append(f"{compiled.relative_to(site)} is not unchecked-hash bytecode")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "check":
        print("usage: python -m tests.bench.layer check LAYER_DIR", file=sys.stderr)
        return 2
    layer = Path(argv[1])
    # The built layer is for the Lambda's Python 3.13, whatever runs this check.
    problems = layer_problems(layer, cache_tag="cpython-313")
    for problem in problems[:50]:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{layer}: {len(problems)} problems", file=sys.stderr)
        return 1
    modules = sum(1 for _ in (layer / "python").rglob("*.py"))
    print(
        f"{layer}: {len(locked_versions())} locked packages, {modules} modules with unchecked-hash bytecode"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
