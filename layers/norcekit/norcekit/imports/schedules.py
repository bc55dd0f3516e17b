"""The configuration's import schedules, deployed as EventBridge Scheduler schedules.

Every enabled import's ``schedules.full`` / ``schedules.delta`` (for an enabled mode) is one
schedule ``import-<name>-<mode>`` in the stack's schedule group, targeting the import function with
``{"import": <name>, "mode": <mode>}``, no retries (a run is never re-sent; the next tick is the
retry) and the scheduler DLQ. :func:`plan_sync` compares them with what the group holds and
:func:`apply_sync` creates, updates and deletes to match. Only schedules named ``import-*`` are
managed: the job monitor's tick (and anything else in the group) is left alone.

The scheduler client is passed in (the process's, from :mod:`norcekit.wiring`); nothing here builds one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from norcekit.imports.config import IntegrationConfig

#: Names of the schedules this module manages (EventBridge Scheduler: 1-64 of [0-9a-zA-Z-_.]).
PREFIX = "import-"
MODES = ("full", "delta")


@dataclass(frozen=True)
class ScheduleTarget:
    """Where the schedules live and what they start (CloudFormation outputs of the stack)."""

    group: str
    function_arn: str
    role_arn: str
    dlq_arn: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class WantedSchedule:
    name: str
    import_name: str
    mode: str
    expression: str

    def request(self, target: ScheduleTarget) -> dict[str, Any]:
        """The ``CreateSchedule`` / ``UpdateSchedule`` arguments (both take the whole definition)."""
        schedule_target: dict[str, Any] = {
            "Arn": target.function_arn,
            "RoleArn": target.role_arn,
            "Input": json.dumps({"import": self.import_name, "mode": self.mode}, sort_keys=True),
            "RetryPolicy": {"MaximumRetryAttempts": 0},
        }
        if target.dlq_arn:
            schedule_target["DeadLetterConfig"] = {"Arn": target.dlq_arn}
        return {
            "Name": self.name,
            "GroupName": target.group,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": target.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": f"norcekit: {self.mode} import {self.import_name} (from the configuration)",
            "Target": schedule_target,
        }


@dataclass(frozen=True)
class ScheduleChange:
    action: Literal["create", "update", "delete"]
    name: str
    #: The new expression (``None`` for a delete).
    expression: str | None
    #: What differs, for an update: ``ScheduleExpression``, ``Target.Input`` ...
    differences: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.action == "update":
            return f"update {self.name}: {', '.join(self.differences)} → {self.expression}"
        return f"{self.action} {self.name}" + (f" ({self.expression})" if self.expression else "")


def schedule_name(import_name: str, mode: str) -> str:
    return f"{PREFIX}{import_name}-{mode}"


def wanted_schedules(config: IntegrationConfig) -> list[WantedSchedule]:
    """One schedule per enabled import and enabled mode that has an expression."""
    wanted = []
    for name, cfg in config.all_imports().items():
        if not cfg.enabled:
            continue
        for mode in MODES:
            expression = getattr(cfg.schedules, mode)
            mode_enabled = cfg.full.enabled if mode == "full" else cfg.delta.enabled
            if expression and mode_enabled:
                wanted.append(WantedSchedule(schedule_name(name, mode), name, mode, expression))
    return wanted


def deployed_schedules(scheduler: Any, group: str) -> dict[str, dict[str, Any]]:
    """The managed schedules in ``group`` by name, each as ``GetSchedule`` returns it."""
    return {name: scheduler.get_schedule(Name=name, GroupName=group) for name in _names(scheduler, group)}


def plan_sync(
    wanted: Sequence[WantedSchedule], deployed: dict[str, dict[str, Any]], target: ScheduleTarget
) -> list[ScheduleChange]:
    """What to create, update and delete so the group matches ``wanted`` (creates first)."""
    changes: list[ScheduleChange] = []
    for schedule in wanted:
        current = deployed.get(schedule.name)
        if current is None:
            changes.append(ScheduleChange("create", schedule.name, schedule.expression))
            continue
        differences = _differences(schedule.request(target), current)
        if differences:
            changes.append(ScheduleChange("update", schedule.name, schedule.expression, differences))
    names = {schedule.name for schedule in wanted}
    changes += [ScheduleChange("delete", name, None) for name in sorted(deployed) if name not in names]
    return changes


def apply_sync(
    scheduler: Any,
    changes: Sequence[ScheduleChange],
    wanted: Sequence[WantedSchedule],
    target: ScheduleTarget,
) -> None:
    by_name = {schedule.name: schedule for schedule in wanted}
    for change in changes:
        if change.action == "delete":
            scheduler.delete_schedule(Name=change.name, GroupName=target.group)
        elif change.action == "create":
            scheduler.create_schedule(**by_name[change.name].request(target))
        else:
            scheduler.update_schedule(**by_name[change.name].request(target))


def sync_schedules(
    scheduler: Any, config: IntegrationConfig, target: ScheduleTarget, *, dry_run: bool = False
) -> list[ScheduleChange]:
    """Make the group's ``import-*`` schedules match the configuration; the changes (made unless dry)."""
    wanted = wanted_schedules(config)
    changes = plan_sync(wanted, deployed_schedules(scheduler, target.group), target)
    if not dry_run:
        apply_sync(scheduler, changes, wanted, target)
    return changes


def _names(scheduler: Any, group: str) -> Iterator[str]:
    token: str | None = None
    while True:
        page = scheduler.list_schedules(
            GroupName=group, NamePrefix=PREFIX, **({"NextToken": token} if token else {})
        )
        for item in page.get("Schedules", []):
            yield str(item["Name"])
        token = page.get("NextToken")
        if not token:
            return


#: Compared between the wanted definition and ``GetSchedule`` (``Description`` is informative only).
_COMPARED = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "State")
_COMPARED_TARGET = ("Arn", "RoleArn", "Input", "RetryPolicy", "DeadLetterConfig")


def _differences(wanted: dict[str, Any], current: dict[str, Any]) -> tuple[str, ...]:
    found = [key for key in _COMPARED if wanted.get(key) != current.get(key)]
    wanted_target, current_target = wanted["Target"], current.get("Target", {})
    for key in _COMPARED_TARGET:
        left, right = wanted_target.get(key), current_target.get(key)
        if key == "Input":
            left, right = _json(left), _json(right)
        elif key == "RetryPolicy":  # the service adds MaximumEventAgeInSeconds
            left = (left or {}).get("MaximumRetryAttempts")
            right = (right or {}).get("MaximumRetryAttempts")
        if left != right:
            found.append(f"Target.{key}")
    return tuple(found)


def _json(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value
