"""Finish claims: who runs a Connect job's terminal actions, and which of them are done.

A job's end is reported by the job monitor's poll and by Norce's ``JobCompletedEvent``, in either
order, possibly at the same moment. Whoever *claims* the job runs its terminal actions
(:mod:`norcekit.jobs.tracker`); everyone else does nothing. The claim is a lease: a holder that dies
leaves it to expire, and :meth:`FinishClaimStore.unfinished` lets the next monitor tick find it.

``JOB#<job_id>`` / ``FINISH`` items, taken with a conditional put; unfinished ones sit in the sparse
GSI2 partition ``FINISHING`` until :meth:`FinishClaimStore.done` removes them from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from norcekit.state.jobs import JobRecord
from norcekit.state.table import GSI2, TTL_ATTRIBUTE, ConditionFailed, Keys, StateTable, epoch_s

#: How long a claim protects a job's terminal actions from a second runner.
CLAIM_LEASE_S = 120
#: Claim items are garbage-collected this long after the job's submission (TTL).
CLAIM_RETENTION = timedelta(days=90)


class ClaimLostError(Exception):
    """Our claim expired and another runner took the job's terminal actions over."""


@dataclass
class Claim:
    """A held claim; ``steps`` are the once-only actions already done (by us or an earlier holder)."""

    job_id: int
    owner: str
    steps: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class ClaimState:
    job_id: int
    done: bool
    #: Epoch seconds until which the holder may work undisturbed.
    lease_until: int


class FinishClaimStore:
    """:class:`norcekit.state.interfaces.FinishClaims` on the state table."""

    def __init__(self, table: StateTable, *, clock: Callable[[], datetime]) -> None:
        self.table = table
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def claim(self, job: JobRecord, owner: str) -> Claim | None:
        """Take the job's terminal actions: new, or left behind by a holder whose lease ran out."""
        now = self._now()
        key = Keys.finish_claim(job.job_id)
        item = {
            **key,
            "job_id": job.job_id,
            "entity": job.entity,
            "status": int(job.status),
            "owner": owner,
            "lease_until": now + CLAIM_LEASE_S,
            "steps": [],
            "attempts": 1,
            "GSI2PK": Keys.FINISHING,
            "GSI2SK": f"{job.entity}#{job.job_id:010d}",
            TTL_ATTRIBUTE: epoch_s(job.submitted_at + CLAIM_RETENTION),
        }
        try:
            self.table.put(item, condition=Attr("PK").not_exists())
            return Claim(job.job_id, owner)
        except ConditionFailed as exc:
            stored = exc.item if exc.item is not None else self.table.get(key)
        if stored is None or "done_at" in stored or int(stored.get("lease_until", 0)) > now:
            return None
        try:  # take over an expired lease, unless another runner beats us to it
            self.table.update(
                key,
                set_values={
                    "owner": owner,
                    "lease_until": now + CLAIM_LEASE_S,
                    "attempts": int(stored.get("attempts", 1)) + 1,
                },
                condition=Attr("owner").eq(stored["owner"])
                & Attr("lease_until").eq(stored["lease_until"])
                & Attr("done_at").not_exists(),
            )
        except ConditionFailed:
            return None
        return Claim(job.job_id, owner, set(stored.get("steps", [])))

    def step_done(self, claim: Claim, step: str) -> None:
        """Note a once-only action as done; raises :class:`ClaimLostError` if the claim is not ours."""
        self._update(claim, append={"steps": [step]})
        claim.steps.add(step)

    def defer(self, claim: Claim, seconds: int) -> None:
        """Keep the claim, unfinished, until ``seconds`` from now (then anyone may resume it)."""
        self._update(claim, set_values={"lease_until": self._now() + seconds})

    def done(self, claim: Claim) -> None:
        self._update(claim, set_values={"done_at": self.clock().isoformat()}, remove=("GSI2PK", "GSI2SK"))

    def state(self, job_id: int) -> ClaimState | None:
        item = self.table.get(Keys.finish_claim(job_id))
        if item is None:
            return None
        return ClaimState(job_id, "done_at" in item, int(item.get("lease_until", 0)))

    def unfinished(self) -> Iterator[ClaimState]:
        """Claims whose actions did not complete (running, deferred, or abandoned by a crash)."""
        for item in self.table.query(Key("GSI2PK").eq(Keys.FINISHING), index=GSI2):
            yield ClaimState(int(item["job_id"]), False, int(item.get("lease_until", 0)))

    def _update(
        self,
        claim: Claim,
        *,
        set_values: dict[str, Any] | None = None,
        append: dict[str, list[Any]] | None = None,
        remove: tuple[str, ...] = (),
    ) -> None:
        try:
            self.table.update(
                Keys.finish_claim(claim.job_id),
                set_values=set_values,
                append=append,
                remove=remove,
                condition=Attr("owner").eq(claim.owner),
            )
        except ConditionFailed:
            raise ClaimLostError(
                f"job {claim.job_id}: terminal actions were taken over by another runner"
            ) from None
