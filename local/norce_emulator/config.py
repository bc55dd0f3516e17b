"""Emulator configuration: one frozen dataclass, replaceable at run time (``Emulator.configure``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# Endpoint groups that faults can target. Admin calls are never faulted.
GROUPS = ("token", "connect", "job", "query")

# Norce Event retry schedule (norce-api.md §5): 16 retries over ~22 h, then the event is dead.
NORCE_RETRY_SCHEDULE_SECONDS: tuple[float, ...] = (
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    14400,
    18000,
    21600,
)


@dataclass(frozen=True)
class FaultSpec:
    """Random faults for one endpoint group. Rates are probabilities in [0, 1]."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    drop_rate: float = 0.0  # close the socket without any response
    latency_ms: float = 0.0  # added before answering
    retry_after_seconds: int = 1  # sent with 429 (and 503)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port; read Emulator.base_url after start()

    # --- identity ---
    client_id: str | None = "local-client"  # None = accept any client_id/secret
    client_secret: str = "local-secret"  # noqa: S105 - a fake local credential
    allowed_scopes: tuple[str, ...] = ("playground", "stage", "prod", "production")
    require_scope: bool = True
    token_ttl_seconds: int = 3600
    # Norce's documented limit (3/min per IP + burst 20, then 429); None = unlimited (say so in the test)
    token_rate_limit_per_minute: float | None = 3.0
    token_burst: int = 20

    # --- tenant identity used in event payloads ---
    norce_client_id: int = 1234  # "ClientId" in webhook payloads
    application_id: int = 1042

    # --- connect ---
    strict_headers: bool = True  # unknown X-StormConnect-Header properties -> 400 (Norce ignores them)
    require_full_file: bool = True  # FullFile must be present (and boolean) where the header has it
    fields_absent_means_all: bool = True  # a missing ...FieldsThatAreSet list writes every field
    reject_items_missing_keys: bool = False  # True: 400 at request time instead of job-log errors
    auto_create_price_lists: bool = False  # Norce ignores prices for unknown price lists
    connect_requires_application_id: bool = False
    check_body_types: bool = True  # body values of the wrong type for their contract property -> 400
    # Price/on-hand rows for an unknown PartNo or price list: "fail" = not imported, severity 3 in the
    # job log and counted in Fail (the job still Succeeds); "ignore" = a warning only. Norce's docs say
    # such rows are "ignored" without saying whether they count: the strict reading is the default.
    unknown_reference_rows: str = "fail"
    max_body_bytes: int = 512 * 1024 * 1024

    # --- jobs ---
    job_delay: float = 0.05  # seconds per status step (Queued -> Validating -> Initialized -> final)
    job_queued_seconds: float | None = None  # time in Queued (6); None = job_delay
    job_validating_seconds: float | None = None  # time in Validating (5); None = job_delay
    job_running_seconds: float | None = None  # time in Initialized (1) before the result; None = job_delay
    job_processing: bool = True  # False: jobs stay Queued until resumed or forced
    job_emit_insert_singular: bool = False  # JobDto "Insert" (docs) instead of "Inserts" (contract)
    job_restart_window_days: int = 14
    job_failure_rate: float = 0.0

    # --- query ---
    query_page_size: int = 500  # server page size when no $top is given
    query_max_top: int = 500  # $top above this is silently clamped (no nextLink), as seen in production
    max_url_length: int = 8192  # longer request targets -> 414
    # OData 4.01 `in` in $filter: Norce never shows it (facts sheet §2), so off unless switched on.
    query_supports_in: bool = False

    # --- events ---
    event_retry_scale: float = 1.0  # multiply Norce's retry schedule (e.g. 0.001 in tests)
    event_timeout_seconds: float = 5.0
    event_sender_threads: int = 4

    # --- orders (checkout → the merchant's Order Receiver Service) ---
    # Norce Admin > ERP integration: URL, username, password (norce-api.md §7).
    order_receiver_url: str | None = None
    order_receiver_username: str = "norce"
    order_receiver_password: str = ""
    # Norce retries a failed call "for a limited period": count, interval and timeout are undocumented.
    order_retry_attempts: int = 3
    order_retry_interval_seconds: float = 5.0
    order_timeout_seconds: float = 30.0
    # Order/CancelOrder: one docs page marks ClientOrderRef and ErpOrderNo both required, the other
    # says either is enough. "both" (strict): both present, naming the same order; "either": one.
    cancel_order_match: str = "both"
    # Order/CreditPayment: undocumented whether a credit must name an invoice Norce has (it refunds a
    # captured payment). True (strict): CreditedInvoiceNo must be one of the order's invoices.
    credit_requires_invoice: bool = True

    # --- faults ---
    faults: dict[str, FaultSpec] = field(default_factory=dict)  # group -> FaultSpec
    seed: int | None = None  # seeds the fault RNG for deterministic runs

    verbose: bool = False  # log every request to stderr

    def replace(self, **changes: Any) -> EmulatorConfig:
        if "faults" in changes:
            changes["faults"] = normalise_faults(changes["faults"])
        if changes.get("unknown_reference_rows", "fail") not in ("fail", "ignore"):
            raise ValueError("unknown_reference_rows must be 'fail' or 'ignore'")
        if changes.get("cancel_order_match", "both") not in ("both", "either"):
            raise ValueError("cancel_order_match must be 'both' or 'either'")
        return dataclasses.replace(self, **changes)


def normalise_faults(faults: dict[str, Any] | None) -> dict[str, FaultSpec]:
    out: dict[str, FaultSpec] = {}
    for group, spec in (faults or {}).items():
        if group not in GROUPS:
            raise ValueError(f"unknown fault group {group!r}; expected one of {GROUPS}")
        out[group] = spec if isinstance(spec, FaultSpec) else FaultSpec.from_dict(dict(spec))
    return out
