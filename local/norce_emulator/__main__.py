"""``python -m norce_emulator --port 8089`` - run the Norce emulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .config import EmulatorConfig
from .emulator import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m norce_emulator", description="Run the Norce Commerce emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089, help="0 picks a free port")
    parser.add_argument("--job-delay", type=float, default=0.2, help="seconds per job status step")
    parser.add_argument("--client-id", default="local-client", help="OAuth client id ('*' accepts any)")
    parser.add_argument("--client-secret", default="local-secret")
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument(
        "--token-rate-limit",
        type=float,
        default=EmulatorConfig.token_rate_limit_per_minute,
        help="token requests/minute after a burst of 20 (default: Norce's 3; 0 turns the limit off)",
    )
    parser.add_argument("--application-id", type=int, default=1042)
    parser.add_argument("--event-retry-scale", type=float, default=1.0)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None, help="fault RNG seed")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    config = EmulatorConfig(
        host=args.host,
        port=args.port,
        job_delay=args.job_delay,
        client_id=None if args.client_id == "*" else args.client_id,
        client_secret=args.client_secret,
        token_ttl_seconds=args.token_ttl,
        token_rate_limit_per_minute=args.token_rate_limit or None,
        application_id=args.application_id,
        event_retry_scale=args.event_retry_scale,
        query_page_size=args.page_size,
        seed=args.seed,
        verbose=args.verbose,
    )
    emulator = Emulator(config).start()
    print(f"Norce emulator listening on {emulator.base_url} (admin: {emulator.base_url}/_admin/)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
