"""Lambda: EventBridge Scheduler → one full or delta import of one entity.

Event (the schedule's ``Input``)::

    {"entity": "products", "mode": "delta"}          # optional: "run_id", "dry_run": true
    {"import": "pim_products", "mode": "full"}       # a named import (imports: in the configuration)

Thin on purpose: the domain is :class:`norcekit.imports.runner.ImportRunner`, built by
:mod:`norcekit.wiring` once per container (Norce token, connection pool, configuration). The run
gets the Lambda's remaining time as its deadline and answers with the run summary (``outcome``
says what happened; a failed run is recorded and counted in ``ImportRunsFailed`` rather than
raised, so Lambda does not re-run it).
An invalid event is an error: it is logged and raised, naming the field at fault.

There is no ``allow`` field: letting a full import past a guardrail is an operator's decision for
one run (``norcekit import run ... --allow shrink``, run in the operator's own process; with
``--stack`` it needs ``--in-process``), never a standing part of a schedule, so an event carrying
one is refused like any unknown field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from norcekit.deadline import Deadline
from norcekit.imports.runner import ImportRunner, UnknownEntityError, new_run_id
from norcekit.norce.contracts import IMPORT_KINDS
from norcekit.observability import LIBRARY_SERVICE, get_logger, get_metrics, get_tracer
from norcekit.wiring import ContainerComponents

logger = get_logger()
metrics = get_metrics()
tracer = get_tracer()
components = ContainerComponents(metrics=metrics)


class InvalidImportEventError(ValueError):
    """The invocation event is not ``{"entity"|"import": ..., "mode": "full"|"delta"}``."""


class ImportRunEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    entity: str | None = Field(default=None, min_length=1)
    #: A named import; the ``entities:`` form's imports are named after their kind.
    import_name: str | None = Field(default=None, alias="import", pattern=r"^[a-z0-9][a-z0-9_\-]{0,47}$")
    mode: Literal["full", "delta"]

    @property
    def name(self) -> str:
        return self.import_name or self.entity or ""

    #: Given by a caller that wants idempotent triggers: a run id already used is not run again.
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:\-]{1,128}$")
    dry_run: bool = False


def parse_event(event: Any) -> ImportRunEvent:
    try:
        request = ImportRunEvent.model_validate(event)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'event'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidImportEventError(
            f'invalid import event ({problems}); expected {{"entity": "<{"|".join(IMPORT_KINDS)}>" or '
            '"import": "<name>", "mode": "full"|"delta"}'
        ) from None
    if (request.entity is None) == (request.import_name is None):
        raise InvalidImportEventError('invalid import event: give exactly one of "entity" and "import"')
    if request.entity is not None and request.entity not in IMPORT_KINDS:
        raise InvalidImportEventError(
            f"invalid import event: unknown entity {request.entity!r} (valid: {', '.join(IMPORT_KINDS)})"
        )
    return request


def runner() -> ImportRunner:
    return components().runner


def _correlate(**keys: str) -> None:
    logger.append_keys(**keys)
    if logger.service != LIBRARY_SERVICE:  # library modules log through the "norcekit" logger
        Logger(service=LIBRARY_SERVICE).append_keys(**keys)


@logger.inject_lambda_context(log_event=True, clear_state=True)
# Responses stay out of traces: they can carry payload data.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = parse_event(event)
    except InvalidImportEventError as exc:
        logger.error(str(exc))
        raise
    run_id = request.run_id or new_run_id(request.name, request.mode, datetime.now(UTC))
    _correlate(run_id=run_id, entity=request.name)
    deadline = Deadline.from_remaining_ms(context.get_remaining_time_in_millis())
    try:
        result = runner().run(
            request.name, request.mode, deadline=deadline, run_id=run_id, dry_run=request.dry_run
        )
    except UnknownEntityError as exc:
        logger.error(f"import not run: {exc}")
        raise
    return result.summary()
