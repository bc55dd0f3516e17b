"""Lambda: a configuration uploaded to the stack's bucket → its import schedules deployed.

Event: S3 ``Object Created`` through EventBridge (``detail.bucket.name``, ``detail.object.key``), or
``{}`` / ``{"dry_run": true}`` by hand. Only an upload of the stack's own configuration
(``NORCEKIT_CONFIG``) syncs; any other key is ignored. The configuration is read and validated again
(an invalid one raises and changes nothing), then the schedule group's ``import-*`` schedules are
created, updated and deleted to match (:mod:`norcekit.imports.schedules`). Answers with the changes.
"""

from __future__ import annotations

from typing import Any

from norcekit.observability import get_logger, get_tracer
from norcekit.wiring import ContainerComponents, sync_configured_schedules

logger = get_logger()
tracer = get_tracer()
components = ContainerComponents()


def uploaded_location(event: dict[str, Any]) -> str | None:
    detail = event.get("detail") or {}
    bucket, key = (detail.get("bucket") or {}).get("name"), (detail.get("object") or {}).get("key")
    return f"s3://{bucket}/{key}" if bucket and key else None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    built = components()
    configured = built.settings.norcekit_config
    uploaded = uploaded_location(event)
    if uploaded is not None and uploaded != configured:
        logger.info("not the stack's configuration: schedules left alone", extra={"uploaded": uploaded})
        return {"synced": False, "reason": f"{uploaded} is not NORCEKIT_CONFIG ({configured})", "changes": []}
    # The configuration may have changed since this container read it: read it again.
    built.__dict__.pop("integration_config", None)
    dry_run = bool(event.get("dry_run", False))
    changes = sync_configured_schedules(built.settings, built.integration_config, built.aws, dry_run=dry_run)
    for change in changes:
        logger.info("schedule change", extra={"change": change.describe(), "dry_run": dry_run})
    return {"synced": not dry_run, "changes": [change.describe() for change in changes]}
