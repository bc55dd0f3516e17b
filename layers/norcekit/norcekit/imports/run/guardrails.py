"""Full-import guardrails (DESIGN rule 10): no ``FullFile=true`` payload that deactivates by accident.

A full import is surveyed first (read → dedupe → map, counted per scope, nothing sent) and judged
against the entity's :class:`~norcekit.imports.entity_config.Guardrails`:

* ``min_items`` — fewer mapped items in the import's scope than this (an empty export: header row
  and ``.done`` only; or nothing of the import's warehouses or price lists);
* ``shrink`` — a scope lost more than ``max_shrink`` of the items of the last successful full
  import of the same scope (``all``; on-hand: each warehouse present in the export; prices: ``all``
  and each price list present in the export; products: ``all`` and ``SKUs``);
* ``rejected`` — the mapping rejected more than ``max_rejected`` of the source rows (a renamed
  column rejects them all).

A tripped rule refuses the run (outcome ``refused``) unless the operator allowed it by name for
this one run (``norcekit import run ... --allow shrink``); the run record keeps what was allowed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal, get_args

from norcekit.imports.entity_config import Guardrails
from norcekit.state.baselines import WHOLE_IMPORT, ScopeCounts

GuardrailRule = Literal["min_items", "shrink", "rejected"]
RULES: tuple[GuardrailRule, ...] = get_args(GuardrailRule)


@dataclass
class Survey:
    """What a full import would send, counted before anything is sent."""

    read: int = 0
    mapped: int = 0
    quarantined: int = 0
    #: Items per scope (``all``; on-hand: per warehouse; prices: ``all`` and per price list;
    #: products: ``all`` and ``SKUs``, the SKUs they carry).
    scopes: dict[str, int] = field(default_factory=dict)
    #: Items the payload would carry (mapped, in the import's scope).
    in_scope: int = 0


@dataclass(frozen=True)
class Trip:
    """One guardrail a survey did not meet, with the figures that tripped it."""

    rule: GuardrailRule
    message: str


def check_allow(allow: Collection[str]) -> frozenset[GuardrailRule]:
    """The rules an operator allowed, validated (``ValueError`` names the valid ones)."""
    unknown = sorted(set(allow) - set(RULES))
    if unknown:
        raise ValueError(f"unknown guardrail(s) {', '.join(unknown)}; valid: {', '.join(RULES)}")
    return frozenset(rule for rule in RULES if rule in allow)


def judge(survey: Survey, limits: Guardrails, baseline: ScopeCounts | None) -> list[Trip]:
    """Every guardrail the survey trips (empty: the run may go on)."""
    trips: list[Trip] = []
    in_scope = survey.in_scope  # what the payload would carry: another import's rows are not
    if in_scope < limits.min_items:
        outside = survey.mapped - in_scope
        trips.append(
            Trip(
                "min_items",
                f"min_items: {in_scope} item(s) mapped from {survey.read} row(s)"
                + (f" ({outside} more outside the import's scope)" if outside else "")
                + f", at least {limits.min_items} required",
            )
        )
    if baseline is not None:
        whole = (baseline.counts.get(WHOLE_IMPORT), survey.scopes.get(WHOLE_IMPORT))
        for scope, before in sorted(baseline.counts.items()):
            now = survey.scopes.get(scope)
            if now is None or before <= 0:
                continue  # a warehouse absent from the export is not sent, so not deactivated
            if scope != WHOLE_IMPORT and (before, now) == whole:
                continue  # the import's only price list: the whole import's drop, named once
            drop = (before - now) / before
            if drop > limits.max_shrink:
                where = "" if scope == WHOLE_IMPORT else f" in {scope}"
                trips.append(
                    Trip(
                        "shrink",
                        f"shrink: {now} item(s){where} against {before} in the last successful full "
                        f"import ({baseline.run_id}), a drop of {drop:.1%} > max_shrink "
                        f"{limits.max_shrink:.1%}",
                    )
                )
    if survey.read:
        share = survey.quarantined / survey.read
        if share > limits.max_rejected:
            trips.append(
                Trip(
                    "rejected",
                    f"rejected: {survey.quarantined} of {survey.read} row(s) rejected ({share:.1%}) "
                    f"> max_rejected {limits.max_rejected:.1%}",
                )
            )
    return trips
