"""``norcekit status`` (one screen) and ``norcekit config validate``.

``status`` JSON shape::

    {"generated_at": iso,
     "stack": {"origin": "cloudformation"|"local"|"environment", "name", "region", "table",
               "queue_url", "dlq_url", "bucket"},
     "config_error": str|null,            # status still answers when the configuration is broken
     "entities": [{"entity": str, "enabled": bool|null,
                   "last_run": {"run_id", "mode", "outcome", "started_at", "finished_at",
                                "counts": {...}, "job_ids": [...], "message"}|null,
                   "watermark": {"value", "kind", "committed_at", "run_id"}|null,
                   "watermark_lag_s": float|null, "open_jobs": int}],
     "open_jobs": [<job summary>, ...],
     "queues": {"events": {"visible", "in_flight", "delayed"}|null, "dlq": {...}|null},
     "quarantine": {"webhook": int, "import_record": int, "norce_item": int, "order": int, "total": int}|null,
     "schedules": {"in_sync": bool|null, "error": str|null, "changes": [...]}|null}  # schedules sync

``config validate`` JSON shape: ``{"valid": true, "config_path": str, "entities": [{"entity"
(the import's name), "import", "kind", "enabled", "source", "mapping", "full": {"enabled",
"schedule"}, "delta": {"enabled", "schedule", "batch_size"}, "account_id"}], "sources": [{"name",
"type"}], "norce": {"host", "application_id", "environment"}, "event_targets": [str], "stack": {"name",
"file_drop_root", "secrets": [{"path", "arn", "key", "exists"}]}|null}``; on errors exit 2 with one
``error: <path>: <problem>`` line each. With ``--stack`` the configuration is also checked against the
deployed stack (:mod:`norcekit.cli.commands.config_stack`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from norcekit.cli.commands.jobs import job_summary, jobs_table
from norcekit.cli.errors import CliError, ExitCode
from norcekit.cli.output import ago, duration, key_values, table, to_jsonable
from norcekit.settings import SettingsError

if TYPE_CHECKING:
    from norcekit.cli.context import CliContext
    from norcekit.cli.services import Services


def register(subparsers: Any, common: argparse.ArgumentParser, entities: list[str]) -> None:
    p = subparsers.add_parser(
        "status",
        parents=[common],
        help="per entity: last run, watermark and lag, open jobs; queue and DLQ depth; quarantine count",
    )
    p.set_defaults(handler=status)

    config = subparsers.add_parser("config", help="the integration configuration")
    sub = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "validate",
        parents=[common],
        help="load and check the integration configuration and settings (exit 2 naming the problem); "
        "with --stack also against the deployed stack: its variables, file-drop prefix and secrets",
    )
    p.set_defaults(handler=validate_config)


# --- status ----------------------------------------------------------------------------------------


def status(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.norce.contracts import IMPORT_KINDS  # noqa: PLC0415 - CLI start-up (its command loads it)
    from norcekit.quarantine import KINDS  # noqa: PLC0415 - CLI start-up (its command loads it)

    services = ctx.services
    now = ctx.now()
    config_error: str | None = None
    enabled: dict[str, bool] = {}
    try:
        config = services.config
        enabled = {name: cfg.enabled for name, cfg in config.all_imports().items()}
    except Exception as exc:  # a broken configuration is exactly when an operator needs status
        from norcekit.cli.errors import classify  # noqa: PLC0415 - cli.errors loads the domain's errors

        config_error = classify(exc)[1]
        ctx.out.warn(f"configuration not loaded ({config_error}); showing every import kind")
    entity_names = list(enabled) or list(IMPORT_KINDS)
    open_jobs = services.job_store.list_open()
    watermarks = {w.entity: w for w in services.watermark_store.list()}
    entities = []
    with ctx.out.progress("reading state", total=len(entity_names)) as progress:
        for entity in entity_names:
            run = services.run_store.latest(entity)
            committed = watermarks.get(entity)
            lag = None
            if committed is not None and committed.watermark.kind == "timestamp":
                lag = round(max(0.0, (now - committed.watermark.as_datetime()).total_seconds()), 3)
            entities.append(
                {
                    "entity": entity,
                    "enabled": enabled.get(entity) if enabled else None,
                    "last_run": None
                    if run is None
                    else {
                        "run_id": run.run_id,
                        "mode": run.mode,
                        "outcome": run.outcome,
                        "started_at": run.started_at,
                        "finished_at": run.finished_at,
                        "counts": run.counts,
                        "job_ids": run.job_ids,
                        "message": run.message,
                    },
                    "watermark": None
                    if committed is None
                    else {
                        "value": committed.watermark.value,
                        "kind": committed.watermark.kind,
                        "committed_at": committed.committed_at,
                        "run_id": committed.run_id,
                    },
                    "watermark_lag_s": lag,
                    "open_jobs": sum(1 for j in open_jobs if j.entity == entity),
                }
            )
            progress.update(advance=1)
    resources = services.resources
    queues = {"events": _depth(services, "queue_url"), "dlq": _depth(services, "dlq_url")}
    quarantine: dict[str, int] | None = None
    if _configured(services, "quarantine"):
        counts: dict[str, int] = {kind: services.quarantine_count(kind) for kind in KINDS}
        quarantine = {**counts, "total": sum(counts.values())}
    schedules = None if config_error else _schedule_drift(ctx)
    data = to_jsonable(
        {
            "generated_at": now,
            "stack": resources.describe(),
            "config_error": config_error,
            "entities": entities,
            "open_jobs": [job_summary(j) for j in open_jobs],
            "queues": queues,
            "quarantine": quarantine,
            "schedules": schedules,
        }
    )

    def render(console: Console) -> None:
        stack = data["stack"]
        where = stack["name"] or "environment"
        console.print(
            f"[bold]norcekit status[/bold] — {stack['origin']} stack {where} ({stack['region'] or '-'})"
        )
        rows = []
        for e in data["entities"]:
            run = e["last_run"] or {}
            counts = run.get("counts") or {}
            wm = e["watermark"] or {}
            rows.append(
                [
                    e["entity"] + ("" if e["enabled"] in (None, True) else " (disabled)"),
                    f"{run.get('mode', '')} {run.get('outcome', '-')}".strip(),
                    ago(run.get("started_at")),
                    "/".join(str(counts.get(k, "-")) for k in ("read", "submitted", "quarantined"))
                    if counts
                    else "-",
                    wm.get("value"),
                    duration(e["watermark_lag_s"]),
                    e["open_jobs"],
                ]
            )
        console.print(
            table(
                "Entities",
                ["entity", "last run", "started", "read/sent/quar.", "watermark", "lag", "open jobs"],
                rows,
            )
        )
        if data["open_jobs"]:
            console.print(jobs_table(data["open_jobs"], title="Open jobs"))
        q = data["queues"]
        pairs: list[tuple[str, Any]] = []
        for name, label in (("events", "event queue"), ("dlq", "event DLQ")):
            depth = q[name]
            pairs.append(
                (
                    label,
                    "-" if depth is None else f"{depth['visible']} visible, {depth['in_flight']} in flight",
                )
            )
        quarantined = data["quarantine"]
        pairs.append(
            (
                "quarantine",
                "-"
                if quarantined is None
                else f"{quarantined['total']} ({quarantined['webhook']} webhook, "
                f"{quarantined['import_record']} import records)",
            )
        )
        drift = data["schedules"]
        pairs.append(("schedules", "-" if drift is None else _describe_drift(drift)))
        console.print(key_values(None, pairs))

    ctx.out.emit(data, render)
    return ExitCode.OK


def _schedule_drift(ctx: CliContext) -> dict[str, Any] | None:
    """The deployed import schedules against the configuration; ``None`` when the stack names no group."""
    from norcekit.cli.commands.schedules import changes_json  # noqa: PLC0415 - CLI start-up (its command loads it)
    from norcekit.wiring import sync_configured_schedules  # noqa: PLC0415 - CLI start-up (its command loads it)

    services = ctx.services
    if not services.settings.import_schedule_group:
        return None
    try:
        changes = sync_configured_schedules(
            services.settings, services.config, services.components.aws, dry_run=True
        )
    except Exception as exc:  # status answers even when the scheduler cannot be read
        from norcekit.cli.errors import classify  # noqa: PLC0415 - CLI start-up (its command loads it)

        return {"in_sync": None, "error": classify(exc)[1], "changes": []}
    if changes:
        ctx.out.warn(f"{len(changes)} schedule(s) differ from the configuration: `norcekit schedules sync`")
    return {"in_sync": not changes, "error": None, "changes": changes_json(changes)}


def _describe_drift(drift: dict[str, Any]) -> str:
    if drift["error"]:
        return f"unknown ({drift['error']})"
    if drift["in_sync"]:
        return "match the configuration"
    return "differ: " + "; ".join(f"{c['action']} {c['name']}" for c in drift["changes"])


# --- config validate --------------------------------------------------------------------------------


def validate_config(ctx: CliContext, args: argparse.Namespace) -> int:
    from norcekit.configfile import ConfigError  # noqa: PLC0415 - CLI start-up (its command loads it)

    settings = ctx.services.settings  # SettingsError → exit 2 naming the variable
    path = settings.norcekit_config
    if not path:
        raise CliError("NORCEKIT_CONFIG: not set; pass --config PATH", ExitCode.USAGE)
    try:
        config = ctx.services.config  # ${VAR} from the stack's variables, s3:// through wiring
    except ConfigError as exc:
        lines = [line for line in str(exc).splitlines() if line.strip()] or [str(exc)]
        for line in lines[:-1]:
            ctx.out.error(line)
        raise CliError(lines[-1], ExitCode.USAGE) from None
    problems: dict[str, list[str]] = {}  # message → the entities it applies to (one line each)
    try:
        settings.require_norce()
    except SettingsError as exc:
        problems[str(exc)] = []
    try:  # routes, targets and look-ups (names checked against the published Query schema)
        events = ctx.services.components.events_config
    except SettingsError as exc:
        problems[str(exc)] = []
        events = None
    entities: list[dict[str, Any]] = []
    for name, cfg in config.all_imports().items():
        account_id = None
        if cfg.enabled:
            try:
                account_id = config.account_id_for(name, settings.account_id_for)
            except SettingsError as exc:
                problems.setdefault(str(exc), []).append(name)
        entities.append(
            {
                "entity": name,
                "import": name,
                "kind": cfg.kind,
                "enabled": cfg.enabled,
                "source": cfg.source,
                "mapping": cfg.mapping,
                "full": {"enabled": cfg.full.enabled, "schedule": cfg.schedules.full},
                "delta": {
                    "enabled": cfg.delta.enabled,
                    "schedule": cfg.schedules.delta,
                    "batch_size": cfg.delta.batch_size,
                },
                "account_id": account_id,
            }
        )
    stack = None
    if ctx.resources.origin == "cloudformation":
        from norcekit.cli.commands.config_stack import stack_problems  # noqa: PLC0415 - --stack only
        from norcekit.configfile import read_config_document  # noqa: PLC0415 - CLI start-up (its command loads it)

        s3 = ctx.services.components.aws.s3() if path.startswith("s3://") else None
        found, stack = stack_problems(ctx, read_config_document(path, s3_client=s3), config, events)
        problems.update({line: [] for line in found})
    if problems:
        lines = [
            f"imports {', '.join(names)}: {message}"
            if len(names) > 1
            else (f"{config.path_of(names[0])}: {message}" if names else message)
            for message, names in problems.items()
        ]
        for line in lines[:-1]:
            ctx.out.error(line)
        raise CliError(lines[-1], ExitCode.USAGE)
    try:
        host = settings.norce_host
    except SettingsError:
        host = None
    data: dict[str, Any] = {
        "valid": True,
        "config_path": str(Path(path).resolve()),
        "entities": entities,
        "sources": [{"name": name, "type": source.type} for name, source in config.sources.items()],
        "event_targets": sorted(events.targets) if events else [],
        "stack": stack,
        "norce": {
            "host": host,
            "application_id": settings.norce_application_id,
            "environment": settings.norce_environment.value,
        },
    }

    def render(console: Console) -> None:
        console.print(f"[green]configuration valid[/green]: {data['config_path']}")
        console.print(
            table(
                "Imports",
                ["import", "kind", "enabled", "source", "full", "delta", "batch", "account"],
                [
                    [
                        e["entity"],
                        e["kind"],
                        e["enabled"],
                        e["source"],
                        _schedule(e["full"]),
                        _schedule(e["delta"]),
                        e["delta"]["batch_size"] if e["delta"]["enabled"] else None,
                        e["account_id"],
                    ]
                    for e in entities
                ],
            )
        )
        norce = data["norce"]
        console.print(f"Norce: {host or '-'} (application {norce['application_id']}, {norce['environment']})")
        if stack is not None:
            console.print(
                f"Stack {stack['name']}: variables, file drop ({stack['file_drop_root']}) and "
                f"{len(stack['secrets'])} secret reference(s) agree"
            )

    ctx.out.emit(data, render)
    return ExitCode.OK


def _configured(services: Services, name: str) -> bool:
    """``False`` when the stack does not name this resource (an environment without it)."""
    try:
        getattr(services, name)
    except SettingsError:
        return False
    return True


def _depth(services: Services, url_attribute: str) -> dict[str, int] | None:
    if not _configured(services, url_attribute):
        return None
    url: str = getattr(services, url_attribute)
    return services.queue_depth(url)


def _schedule(mode: dict[str, Any]) -> str:
    if not mode["enabled"]:
        return "off"
    return mode["schedule"] or "on demand"
