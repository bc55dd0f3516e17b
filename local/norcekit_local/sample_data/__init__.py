"""Bundled sample ERP export (file-drop layout) for the local stack, demo, tests and benchmarks."""

from __future__ import annotations

from pathlib import Path


def generate_sample_data(target: Path) -> bool:
    """Generate the sample ERP export into ``target`` unless it is there already (True: data exists)."""
    if target.is_dir() and any(target.iterdir()):
        return True
    from .generate import generate  # noqa: PLC0415 - only when the stack has no sample data yet

    generate(target)
    return True
