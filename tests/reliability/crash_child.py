"""The process the crash tests SIGKILL: an import run, or the SQS consumer driving the event processor.

``python -m tests.reliability.crash_child import <drop root> <marker file> <lease s>`` — a full
customers import from the file drop; the mapping is slowed down, and after 50 records the marker
file appears so the test knows the stream is under way.

``python -m tests.reliability.crash_child consume <queue url>`` — the local SQS consumer with the
real ``event_processor`` handler, polling until killed.

Both take AWS (moto server), Norce (emulator) and norcekit settings from the environment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any


def run_import(root: str, marker: str, lease_s: str) -> None:
    from tests.integration.imports.run.runner_support import integration_config  # noqa: PLC0415

    from norcekit.deadline import Deadline  # noqa: PLC0415
    from norcekit.imports.mappings import load_mapping  # noqa: PLC0415
    from norcekit.imports.runner import RunnerOptions  # noqa: PLC0415
    from norcekit.settings import get_settings  # noqa: PLC0415
    from norcekit.wiring import Components  # noqa: PLC0415

    sample = load_mapping("sample", entity="customers")
    seen = 0

    def slow_mapping(data: dict[str, Any]) -> Any:
        nonlocal seen
        seen += 1
        if seen == 50:
            Path(marker).write_text("streaming")
        time.sleep(0.02)
        return sample(data)

    runner = Components(get_settings(), integration_config=integration_config(Path(root))).runner
    runner.options = RunnerOptions(lock_lease_s=float(lease_s), min_remaining_s=1, full_min_remaining_s=1)
    runner.mapping_factory = lambda entity: slow_mapping
    runner.run("customers", "full", deadline=Deadline.after(120))
    Path(marker).write_text("finished")  # the test kills us long before this


def consume(queue_url: str) -> None:
    import boto3  # noqa: PLC0415 - only the consumer child needs it

    from norcekit_local.consumer import SqsConsumer  # noqa: PLC0415

    # The parent points this process at its moto server through AWS_ENDPOINT_URL.
    sqs = boto3.client("sqs")
    consumer = SqsConsumer(queue_url, sqs=sqs, batch_size=10, wait_time_s=1, retry_visibility_s=1)
    while True:
        consumer.poll_once()


if __name__ == "__main__":
    if sys.argv[1] == "import":
        run_import(*sys.argv[2:5])
    else:
        consume(sys.argv[2])
