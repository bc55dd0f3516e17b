"""``python -m norcekit_local`` (``make local``): run the local stack in the foreground
until Ctrl-C or SIGTERM.

``--norce-url URL`` (``make local NORCE=URL``) uses a real Norce tenant instead of the bundled
emulator; its credentials and ids come from ``--norce-env-file`` (default ``norce.env`` when present)
or the environment, never from the command line (see :mod:`norcekit_local.tenant`).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .stack import DEFAULT_REGION, DEFAULT_ROOT, DEFAULT_SERVICE_FACTORIES, LocalStack
from .tenant import DEFAULT_ENV_FILE, NorceTenant, TenantError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m norcekit_local",
        description="Run moto, the Norce emulator (or a real tenant: --norce-url) and norcekit's AWS "
        "resources on loopback.",
    )
    parser.add_argument("--root", default=DEFAULT_ROOT, help="state folder; stack.json is written here")
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--moto-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--norce-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--job-delay", type=float, default=0.2, help="emulator seconds per job status step")
    parser.add_argument("--no-sample-data", action="store_true", help="do not generate the sample ERP export")
    parser.add_argument(
        "--norce-url",
        metavar="URL",
        help="a real Norce tenant instead of the emulator, e.g. https://{slug}.api-se.playground.norce.tech",
    )
    parser.add_argument(
        "--norce-env-file",
        metavar="PATH",
        help=f"NORCE_CLIENT_ID, NORCE_CLIENT_SECRET, NORCE_APPLICATION_ID, NORCE_ACCOUNT_ID ... for "
        f"--norce-url (default {DEFAULT_ENV_FILE} when present, else the environment)",
    )
    args = parser.parse_args(argv)
    tenant = None
    if args.norce_env_file and not args.norce_url:
        parser.error("--norce-env-file: only with --norce-url")
    if args.norce_url:
        try:
            tenant = NorceTenant.from_sources(args.norce_url, env_file=args.norce_env_file)
        except TenantError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return 2

    stopping = threading.Event()
    # SIGTERM ends the process like Ctrl-C does: everything is stopped and the ports freed.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stack = LocalStack(
        args.root,
        region=args.region,
        moto_port=args.moto_port,
        norce_port=args.norce_port,
        emulator_overrides={"job_delay": args.job_delay},
        services=[factory() for factory in DEFAULT_SERVICE_FACTORIES],
        sample_data=not args.no_sample_data,
        norce=tenant,
    )
    try:
        stack.start()
        print(stack.summary(), flush=True)
        print("Ctrl-C to stop.", flush=True)
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    print("local stack stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
