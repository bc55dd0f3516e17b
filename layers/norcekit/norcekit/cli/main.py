"""``norcekit`` / ``python -m norcekit``: the operator's command line.

Where it acts (one of):

* ``--stack NAME [--region R]`` — a deployed stack, found through its CloudFormation outputs; the
  Norce tenant settings (``NORCE_SLUG``, ``NORCE_APPLICATION_ID``, ``NORCE_ACCOUNT_ID`` ...) and
  ``NORCEKIT_CONFIG`` come from the deployed import function's environment (over the operator's
  environment / ``--env-file``; ``--config`` wins), Norce credentials from the stack's secret (or
  ``NORCE_CLIENT_ID``/``_SECRET``). ``import run`` invokes the deployed function.
* ``--local [--local-root .local]`` — the local stack (``python -m norcekit_local``), via its
  ``stack.json``; settings are read from its environment block over the process environment.
* neither — the process environment as it is (``TABLE_NAME``, ``EVENT_QUEUE_URL``, ``EVENT_DLQ_URL``,
  ``QUARANTINE_BUCKET``, ``NORCE_*`` ...).

Output: tables for people; ``--json`` prints one JSON document on stdout (shapes in each command's
module docstring and the README). Messages and progress go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from typing import Any, TextIO

from norcekit import __version__
from norcekit.cli.errors import EXIT_CODES_HELP, CliError, ExitCode, classify


def _entities() -> list[str]:
    from norcekit.norce.contracts import IMPORT_KINDS  # noqa: PLC0415 - `norcekit --help` stays fast

    return list(IMPORT_KINDS)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The same options on the top-level parser and every command; in commands they only
    override what was given before the command when they are given themselves."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    where = parser.add_argument_group("stack")
    where.add_argument("--local", action="store_true", default=default(False), help="use the local stack")
    where.add_argument(
        "--local-root",
        metavar="DIR",
        default=default(None),
        help="local stack folder (default .local; implies --local)",
    )
    where.add_argument(
        "--stack", metavar="NAME", default=default(None), help="deployed CloudFormation stack name"
    )
    where.add_argument("--region", metavar="REGION", default=default(None), help="AWS region of --stack")
    where.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help="integration configuration file (NORCEKIT_CONFIG)",
    )
    where.add_argument(
        "--env-file",
        metavar="PATH",
        default=default(None),
        help="NAME=VALUE settings file (e.g. Norce tenant settings)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--json", action="store_true", default=default(False), help="machine-readable JSON on stdout"
    )
    out.add_argument("--no-progress", action="store_true", default=default(False), help="no progress display")
    out.add_argument(
        "-v", "--verbose", action="store_true", default=default(False), help="library log lines on stderr"
    )
    out.add_argument("--debug", action="store_true", default=default(False), help="debug logs and tracebacks")


def build_parser() -> argparse.ArgumentParser:
    # `norcekit --help` stays fast: each command module loads its domain only when it runs.
    from norcekit.cli.commands import imports, jobs, orders, queues, schedules, status, watermarks  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="norcekit",
        description="Operate a norcekit stack: imports, Connect jobs, watermarks, DLQ, quarantine, orders.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"norcekit {__version__}")
    _add_global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, suppress=True)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    entities = _entities()
    for module in (imports, jobs, watermarks, queues, status, orders, schedules):
        module.register(subparsers, common, entities)
    return parser


# --- running ----------------------------------------------------------------------------------------


class _OneLineFormatter(logging.Formatter):
    """``LEVEL logger: message key=value ...``; tracebacks only with --debug."""

    _standard = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}" for k, v in vars(record).items() if k not in self._standard and not k.startswith("_")
        )
        line = f"{record.levelname.lower()} {record.name}: {record.getMessage()}" + (
            f" {extras}" if extras else ""
        )
        if self.tracebacks and record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


@contextlib.contextmanager
def _library_logging(stream: TextIO, *, verbose: bool, debug: bool) -> Iterator[None]:
    """Library log lines (Powertools child loggers of ``norcekit``) on stderr, one line each."""
    from norcekit.observability import RedactionFilter  # noqa: PLC0415 - `norcekit --help` stays fast

    logger = logging.getLogger("norcekit")
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR)
    handler.setFormatter(_OneLineFormatter(tracebacks=debug))
    handler.addFilter(RedactionFilter())
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    try:
        yield
    finally:
        logger.handlers, logger.propagate, _ = saved
        logger.setLevel(saved[2])


def main(
    argv: list[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    invoker: Any = None,
) -> int:
    """Run one command; returns the exit code (see :class:`~norcekit.cli.errors.ExitCode`).

    ``invoker``: a :class:`~norcekit.wiring.invoke.LambdaInvoker` in place of the Lambda API (tests).
    """
    from norcekit.cli.output import Output  # noqa: PLC0415 - `norcekit --help` stays fast

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2), already printed
        return int(exc.code) if isinstance(exc.code, int) else ExitCode.USAGE
    out = Output(
        json_mode=args.json, stdout=stdout, stderr=stderr, progress=not args.no_progress, debug=args.debug
    )
    try:
        with _library_logging(stderr, verbose=args.verbose, debug=args.debug):
            return _run(args, out, stdin or sys.stdin, invoker)
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except Exception as exc:
        code, message = classify(exc)
        out.error(message)
        if args.debug:
            stderr.write("".join(traceback.format_exception(exc)))
        return int(code)


def _run(args: argparse.Namespace, out: Any, stdin: TextIO, invoker: Any = None) -> int:
    from norcekit.cli.context import CliContext  # noqa: PLC0415 - `norcekit --help` stays fast
    from norcekit.cli.services import Services  # noqa: PLC0415 - `norcekit --help` stays fast
    from norcekit.settings import settings_from_environ  # noqa: PLC0415 - `norcekit --help` stays fast
    from norcekit.stack import (  # noqa: PLC0415 - `norcekit --help` stays fast
        read_env_file,
        resolve_cloudformation,
        resolve_environment,
        resolve_local,
        stack_environ,
    )
    from norcekit.wiring import AwsClients  # noqa: PLC0415 - `norcekit --help` stays fast

    if args.local_root is not None:
        args.local = True
    if args.local and args.stack:
        raise CliError("--local and --stack: choose one", ExitCode.USAGE)
    if args.region and args.local:
        raise CliError("--region: not with --local (the local stack has its own region)", ExitCode.USAGE)
    # Everything is read from this mapping; os.environ and boto3's default session stay as they are.
    base = dict(os.environ)
    if args.env_file:
        base.update(read_env_file(args.env_file))
    if args.region:
        base["AWS_REGION"] = base["AWS_DEFAULT_REGION"] = args.region
    if args.local:
        resources = resolve_local(args.local_root or ".local")
    elif args.stack:
        lookup = AwsClients.from_settings(settings_from_environ(base), base)
        resources = resolve_cloudformation(
            args.stack,
            args.region,
            cloudformation=lookup.cloudformation(),
            lambda_client=lookup.lambda_(),
            environ=base,
        )
        for warning in resources.warnings:
            out.warn(warning)
    else:
        resources = resolve_environment(base)
    environ = stack_environ(base, resources, config=args.config)
    with Services(resources, environ=environ, invoker=invoker) as services:
        ctx = CliContext(out=out, services=services, resources=resources, stdin=stdin)
        return int(args.handler(ctx, args))
