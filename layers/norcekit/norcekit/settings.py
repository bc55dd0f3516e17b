"""One validated settings model for every norcekit process, read from the environment.

Lambda functions, the CLI and the local stack all build their clients from :func:`get_settings`.
Bad configuration fails once, at cold start, with a :class:`SettingsError` whose message names the
environment variable at fault (never its value: some are secrets).

Each field is read from the environment variable named like it, upper-cased (any case matches:
``norce_slug`` reads ``NORCE_SLUG``), or from its :data:`ENV_ALIASES`. A small reader of our own
(:func:`environ_values`), not pydantic-settings: that package imports dotenv, asyncio and its cloud
providers, which every Lambda cold start paid for just two aliases and case-insensitive names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


class NorceEnvironment(StrEnum):
    PLAYGROUND = "playground"
    STAGE = "stage"
    PROD = "prod"


#: Fields that may never be echoed back in an error message.
_SECRET_FIELDS = {"norce_client_secret"}


class Settings(BaseModel):
    """Environment variables (case-insensitive) → typed settings. Build it with :func:`load_settings`
    or :func:`settings_from_environ` (``Settings()`` alone reads no environment: defaults only).

    Norce host: ``https://{slug}.api-{region}[.{env}].norce.tech`` (production omits the env segment,
    norce-api.md §1.1); ``NORCE_BASE_URL`` replaces the whole host part for every Norce API, which is
    how tests and the local stack point the kit at the emulator.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    # --- Norce tenant -------------------------------------------------------------------------
    norce_slug: str | None = Field(default=None, description="Tenant slug, e.g. 'norce-open-demo'.")
    norce_environment: NorceEnvironment = Field(
        default=NorceEnvironment.STAGE, description="playground | stage | prod: picks host and scope."
    )
    norce_region: str = Field(default="se", pattern=r"^[a-z]{2,8}$")
    norce_base_url: str | None = Field(
        default=None, description="Overrides the host for every Norce API (emulator, tests)."
    )
    norce_application_id: int | None = Field(default=None, gt=0)
    norce_oauth_scope: str | None = Field(
        default=None, description="Overrides the OAuth scope (default: the environment name)."
    )

    # --- Credentials: directly, or from a Secrets Manager secret {"client_id", "client_secret"} --
    norce_client_id: str | None = None
    norce_client_secret: SecretStr | None = None
    norce_credentials_secret_arn: str | None = None

    # --- Field ownership: one AccountId per source system (DESIGN rule 6) -----------------------
    norce_account_id: int | None = Field(default=None, gt=0, description="Default AccountId.")
    # The variable is JSON text; `_account_ids` parses it so a syntax error names the variable.
    norce_account_ids: dict[str, int] = Field(
        default_factory=dict, description='JSON map source name → AccountId, e.g. {"erp": 123}.'
    )

    # --- Connect job service (open question in the docs, so a setting) --------------------------
    norce_job_get_path: str = Field(default="Job/Get", description="Relative to Connect 4.0 base.")
    norce_job_log_path: str = "Job/GetLog"
    norce_job_restart_path: str = "Job/Restart"

    # --- HTTP -----------------------------------------------------------------------------------
    http_connect_timeout: float = Field(default=5.0, gt=0)
    http_read_timeout: float = Field(default=30.0, gt=0)
    http_write_timeout: float = Field(default=60.0, gt=0)
    http_pool_timeout: float = Field(default=5.0, gt=0)
    # Total time of one request attempt, connect to last byte (a trickling server cannot stretch it).
    http_attempt_timeout: float = Field(default=60.0, gt=0)
    http_max_attempts: int = Field(default=6, ge=1, le=20)
    http_backoff_base: float = Field(default=0.5, gt=0)
    http_backoff_max: float = Field(default=20.0, gt=0)
    query_max_url_length: int = Field(default=4000, ge=512)
    # Batched key look-ups: OData 4.01 `in`, `or` chains, or `auto` (try `in` once, fall back on a 400).
    query_key_filter: Literal["in", "or", "auto"] = "auto"

    # --- AWS resources --------------------------------------------------------------------------
    table_name: str | None = None  # TABLE_NAME or NORCEKIT_TABLE (ENV_ALIASES)
    quarantine_bucket: str | None = None
    event_queue_url: str | None = None
    # Where the configuration's import schedules are deployed (norcekit.imports.schedules).
    import_schedule_group: str | None = None
    import_runner_arn: str | None = None
    import_scheduler_role_arn: str | None = None
    scheduler_dlq_arn: str | None = None
    schedule_timezone: str = "UTC"
    aws_region: str | None = None  # AWS_REGION or AWS_DEFAULT_REGION (ENV_ALIASES)
    # One botocore Config for every AWS client (norcekit.wiring.aws): calls to DynamoDB, SQS, S3 and
    # Secrets Manager answer in milliseconds, so a dead endpoint fails within seconds, not botocore's
    # default 60 s per read times 5 legacy attempts; the webhook receiver must answer within 5 s.
    aws_connect_timeout_s: float = Field(default=2.0, gt=0, description="botocore connect_timeout.")
    aws_read_timeout_s: float = Field(
        default=10.0, gt=0, description="botocore read_timeout (> the longest SQS long poll used)."
    )
    aws_max_attempts: int = Field(
        default=3, ge=1, le=10, description="botocore standard-mode attempts, the first included."
    )

    # --- Webhooks -------------------------------------------------------------------------------
    webhook_secret_header: str = Field(default="X-Norce-Webhook-Secret", min_length=1)
    webhook_secrets_arn: str | None = None
    # API Gateway's limit: no authentic payload up to 10 MB is quarantined for size.
    webhook_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # The event queue's MaximumMessageSize (template); larger envelopes go through the claim check.
    event_queue_max_message_bytes: int = Field(default=256 * 1024, ge=1024, le=1024 * 1024)

    # --- Orders (norcekit.orders) -----------------------------------------------------------------
    # Secrets Manager: {"username", "password"} (or a list of them) Norce Admin's ERP integration sends.
    order_receiver_secret_arn: str | None = None
    order_queue_url: str | None = None
    # The ERP's answers (status, delivery notes, invoices, credits, cancels): their queue, and the
    # credentials the ERP uses on POST /orders/answers (same format as the receiver's).
    order_answer_queue_url: str | None = None
    order_answer_secret_arn: str | None = None
    order_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    # --- Import runner (norcekit.imports.runner) -------------------------------------------------
    import_lock_lease_s: float = Field(
        default=960.0, gt=0, description="Per-entity run lease: >= the import_runner timeout + margin."
    )
    import_min_remaining_s: float = Field(
        default=30.0, ge=0, description="A delta run stops before a batch when less (+ batch time) is left."
    )
    import_full_min_remaining_s: float = Field(
        default=120.0, ge=0, description="A full import does not start streaming with less time left."
    )
    import_delta_max_buffered: int = Field(
        default=200_000, ge=1, description="Delta records buffered for dedupe before a keys-only 2nd pass."
    )
    import_initial_delta: Literal["full_required", "from_beginning"] = Field(
        default="full_required", description="A delta with no watermark yet: refuse, or read everything."
    )
    import_lookup_batch_size: int = Field(default=200, ge=1, le=500, description="Records per Query look-up.")

    # --- Job tracking (norcekit.jobs) -----------------------------------------------------------
    job_poll_min_interval_s: float = Field(default=30.0, ge=0, description="Job/Get at most this often.")
    job_poll_concurrency: int = Field(default=4, ge=1, le=32, description="Parallel Job/Get calls per tick.")
    job_restart_max: int = Field(default=2, ge=0, le=10, description="Automatic restarts of a Failed job.")
    job_restart_window_s: float = Field(
        default=14 * 86400, gt=0, description="Norce keeps a job's payload this long (then no restart)."
    )
    job_restart_margin_s: float = Field(
        default=6 * 3600, ge=0, description="No restart this close to the end of the restart window."
    )
    job_log_max_errors: int = Field(default=10, ge=0, le=100, description="Log errors kept on the record.")
    job_sweep_recent: int = Field(
        default=3, ge=0, le=50, description="Newest jobs per entity checked each tick for unhandled endings."
    )

    # --- Integration configuration (entities, sources, mappings, targets) -----------------------
    norcekit_config: str | None = Field(
        default=None, description="Path to the integration configuration file (YAML or JSON)."
    )

    @field_validator("norce_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("norce_account_ids", mode="before")
    @classmethod
    def _account_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f'must be a JSON object like {{"erp": 123}} ({exc.msg})') from exc
        return value

    @model_validator(mode="after")
    def _host_is_knowable(self) -> Settings:
        if self.norce_slug is not None and not self.norce_slug.strip():
            raise ValueError("NORCE_SLUG is empty")
        return self

    # --- Derived values -------------------------------------------------------------------------
    @property
    def norce_host(self) -> str:
        """Base under which Norce's documented paths live (no trailing slash)."""
        if self.norce_base_url:
            return self.norce_base_url
        if not self.norce_slug:
            raise SettingsError("NORCE_SLUG: required (or set NORCE_BASE_URL)")
        env = "" if self.norce_environment is NorceEnvironment.PROD else f".{self.norce_environment.value}"
        return f"https://{self.norce_slug}.api-{self.norce_region}{env}.norce.tech"

    @property
    def token_url(self) -> str:
        return f"{self.norce_host}/identity/1.0/connect/token"

    @property
    def connect_base_url(self) -> str:
        return f"{self.norce_host}/commerce/connect/4.0"

    @property
    def query_base_url(self) -> str:
        return f"{self.norce_host}/commerce/query/2.0"

    @property
    def oauth_scope(self) -> str:
        return self.norce_oauth_scope or self.norce_environment.value

    def account_id_for(self, source: str | None) -> int:
        """AccountId for a source system, falling back to NORCE_ACCOUNT_ID."""
        if source and source in self.norce_account_ids:
            return self.norce_account_ids[source]
        if self.norce_account_id is None:
            name = f"NORCE_ACCOUNT_IDS[{source!r}] or NORCE_ACCOUNT_ID" if source else "NORCE_ACCOUNT_ID"
            raise SettingsError(f"{name}: required (the AccountId of the integration's system account)")
        return self.norce_account_id

    def require(self, *fields: str) -> None:
        """Fail with one message naming every missing variable among ``fields``."""
        missing = [name.upper() for name in fields if getattr(self, name) in (None, "")]
        if missing:
            raise SettingsError(f"{', '.join(missing)}: required but not set")

    def require_norce(self) -> None:
        """Everything a Norce API client needs, checked at once."""
        problems = []
        if not self.norce_base_url and not self.norce_slug:
            problems.append("NORCE_SLUG (or NORCE_BASE_URL)")
        if self.norce_application_id is None:
            problems.append("NORCE_APPLICATION_ID")
        has_direct = self.norce_client_id and self.norce_client_secret
        if not has_direct and not self.norce_credentials_secret_arn:
            problems.append("NORCE_CLIENT_ID + NORCE_CLIENT_SECRET (or NORCE_CREDENTIALS_SECRET_ARN)")
        if problems:
            raise SettingsError(f"{', '.join(problems)}: required but not set")


#: Fields read from other variables than their upper-cased name: the first one set wins.
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "table_name": ("TABLE_NAME", "NORCEKIT_TABLE"),
    "aws_region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
}


def environ_values(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Field name → (variable, text) for every setting ``environ`` sets.

    Names match in any case (Lambda and shells keep them upper-case; a lower-case ``.env`` works
    too); when a name is set in two spellings, the later one in ``environ`` wins. The text is passed
    to the model unparsed: pydantic converts it (``"5"`` → 5.0 for a float field) and its
    validators parse the JSON ones.
    """
    by_lower = {name.lower(): value for name, value in environ.items()}
    found = {}
    for field in Settings.model_fields:
        for variable in ENV_ALIASES.get(field, (field,)):
            if variable.lower() in by_lower:
                found[field] = (variable.upper(), by_lower[variable.lower()])
                break
    return found


def _describe(error: ValidationError, variables: Mapping[str, str]) -> str:
    """Every error on one line: the variable's name and pydantic's message, never the value."""
    parts = []
    for item in error.errors():
        field, *inner = [str(p) for p in item["loc"]] or ["settings"]
        name = "_".join([variables.get(field, field.upper()), *inner]).upper()
        # pydantic's messages do not quote the input, but a secret's is not shown even so.
        msg = "invalid value" if field in _SECRET_FIELDS else item["msg"]
        parts.append(f"{name}: {msg}")
    return "; ".join(parts)


def settings_from_environ(environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Settings read from ``environ`` (``overrides``, by field name, win over it).

    How the CLI and the local stack point the library at a stack without changing ``os.environ``:
    the same variable names, validation and error messages as :func:`load_settings`.
    """
    found = environ_values(environ)
    values: dict[str, Any] = {field: text for field, (_, text) in found.items()}
    values.update(overrides)
    variables = {field: variable for field, (variable, _) in found.items() if field not in overrides}
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, variables)) from None


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the process environment now; raise :class:`SettingsError` naming the variable."""
    return settings_from_environ(os.environ, **overrides)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, validated once (Lambda cold start)."""
    return load_settings()


def reset_settings_cache() -> None:
    """For tests that change the environment."""
    get_settings.cache_clear()
