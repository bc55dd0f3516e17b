"""The configuration's import schedules synced into the stack's EventBridge Scheduler group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from norcekit.imports.schedules import ScheduleChange, ScheduleTarget, sync_schedules
from norcekit.settings import Settings, SettingsError

if TYPE_CHECKING:
    from norcekit.imports.config import IntegrationConfig
    from norcekit.wiring.aws import AwsClients

_REQUIRED = {
    "import_schedule_group": "IMPORT_SCHEDULE_GROUP",
    "import_runner_arn": "IMPORT_RUNNER_ARN",
    "import_scheduler_role_arn": "IMPORT_SCHEDULER_ROLE_ARN",
}


def schedule_target(settings: Settings) -> ScheduleTarget:
    """The stack's schedule group and the import function it starts; names what is missing."""
    missing = [variable for field, variable in _REQUIRED.items() if not getattr(settings, field)]
    if missing:
        raise SettingsError(f"{', '.join(missing)}: required to sync schedules but not set (use --stack)")
    return ScheduleTarget(
        group=str(settings.import_schedule_group),
        function_arn=str(settings.import_runner_arn),
        role_arn=str(settings.import_scheduler_role_arn),
        dlq_arn=settings.scheduler_dlq_arn,
        timezone=settings.schedule_timezone,
    )


def sync_configured_schedules(
    settings: Settings, config: IntegrationConfig, aws: AwsClients, *, dry_run: bool = False
) -> list[ScheduleChange]:
    """Create, update and delete the group's ``import-*`` schedules to match ``config``."""
    return sync_schedules(aws.client("scheduler"), config, schedule_target(settings), dry_run=dry_run)


__all__ = ["schedule_target", "sync_configured_schedules"]
