"""The operator command line: ``norcekit`` / ``python -m norcekit`` (see :mod:`norcekit.cli.main`).

CLI-only dependencies (rich) are imported here and below, never by code the Lambda functions load.
"""

from norcekit.cli.errors import ExitCode
from norcekit.cli.main import build_parser, main

__all__ = ["ExitCode", "build_parser", "main"]
