"""Microsoft Dynamics 365 Business Central API v2.0 source (items, customers, ...).

``GET https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0/companies({companyId})/{entitySet}``

- Auth: Microsoft Entra ID client credentials, token from
  ``https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`` with scope
  ``https://api.businesscentral.dynamics.com/.default`` (cached until shortly before expiry).
- Delta: ``$filter=lastModifiedDateTime ge {since} and lastModifiedDateTime lt {until}``, UTC with
  milliseconds (``2026-11-27T08:00:00.000Z``; BC stamps have millisecond precision). ``ge`` on the
  lower bound, per the incremental-sync guidance: rows sharing the boundary stamp are re-read, never
  skipped; the runner's overlap re-reads rows committed late.
- Paging: the server pages; ``Prefer: odata.maxpagesize=N`` (≤ 20,000) and ``@odata.nextLink``.
- Limits: 429 (6,000 requests / 5 min per principal) is retried honouring ``Retry-After``.

Not visible to a ``$filter`` delta (plan full imports for them): deleted rows, and stock changes —
``items.inventory`` is a computed FlowField, so posting stock does not bump ``lastModifiedDateTime``.
Prices beyond ``items.unitPrice`` need a custom API page (configure a ``rest`` source for it).

``api_base_url``/``login_base_url`` are overridable for tests and sovereign clouds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from norcekit.deadline import Deadline
from norcekit.imports.sources.auth import (
    Authenticator,
    ClientCredentialsAuth,
    SecretFetcher,
    SecretRef,
    resolve_secret,
)
from norcekit.imports.sources.base import SourceCapabilities
from norcekit.imports.sources.rest import RestDelta, RestEntityOptions, RestOptions, RestPaging, RestSource
from norcekit.norce.http import NorceHttp

BC_SCOPE = "https://api.businesscentral.dynamics.com/.default"
#: Business Central's hard maximum page size (online).
BC_MAX_PAGE_SIZE = 20_000


class BusinessCentralEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(min_length=1, description="Entity set, e.g. 'items'.")
    key_field: str = "number"
    changed_at_field: str = "lastModifiedDateTime"
    params: dict[str, str] = Field(
        default_factory=dict, description="Extra query options ($select, $expand)."
    )


def _default_entities() -> dict[str, BusinessCentralEntity]:
    return {
        "products": BusinessCentralEntity(resource="items"),
        "customers": BusinessCentralEntity(resource="customers"),
    }


class BusinessCentralOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(min_length=1)
    environment: str = Field(default="production", min_length=1)
    company_id: str = Field(min_length=1, description="The company's id (GUID).")
    client_id: str = Field(min_length=1)
    client_secret: SecretRef
    entities: dict[str, BusinessCentralEntity] = Field(default_factory=_default_entities)
    max_page_size: int = Field(default=1000, ge=1, le=BC_MAX_PAGE_SIZE)
    api_base_url: str = Field(default="https://api.businesscentral.dynamics.com", pattern=r"^https?://")
    login_base_url: str = Field(default="https://login.microsoftonline.com", pattern=r"^https?://")
    scope: str = BC_SCOPE
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20)

    def company_url(self) -> str:
        return (
            f"{self.api_base_url.rstrip('/')}/v2.0/{quote(self.tenant_id)}/{quote(self.environment)}"
            f"/api/v2.0/companies({self.company_id})/"
        )

    def token_url(self) -> str:
        return f"{self.login_base_url.rstrip('/')}/{quote(self.tenant_id)}/oauth2/v2.0/token"

    def to_rest(self) -> RestOptions:
        return RestOptions(
            base_url=self.company_url(),
            entities={
                name: RestEntityOptions(
                    path=entity.resource,
                    key_fields=[entity.key_field],
                    changed_at_field=entity.changed_at_field,
                    params=entity.params,
                )
                for name, entity in self.entities.items()
            },
            paging=RestPaging(style="nextlink", items_pointer="/value", next_pointer="/@odata.nextLink"),
            delta=RestDelta(
                filter_param="$filter",
                since_filter="lastModifiedDateTime ge {value}",
                until_filter="lastModifiedDateTime lt {value}",
                format="iso8601_ms",
                timezone="UTC",
            ),
            timeout_s=self.timeout_s,
            max_attempts=self.max_attempts,
            timestamp_granularity_s=0.001,
        )


class BusinessCentralSource(RestSource):
    """A :class:`RestSource` preset for Business Central API v2.0."""

    def __init__(
        self,
        name: str,
        options: BusinessCentralOptions,
        *,
        http: NorceHttp | None = None,
        authenticator: Authenticator | None = None,
        deadline: Deadline | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fetch_secret: SecretFetcher | None = None,
    ) -> None:
        self.bc = options
        auth = authenticator or ClientCredentialsAuth(
            options.token_url(),
            options.client_id,
            resolve_secret(options.client_secret, fetch=fetch_secret),
            options.scope,
        )
        super().__init__(
            name, options.to_rest(), http=http, authenticator=auth, deadline=deadline, clock=clock
        )
        self.capabilities = SourceCapabilities(
            delta_supported=True,
            watermark_kind="timestamp",
            timestamp_granularity_s=0.001,
            timezone="UTC",
            emits_deletes=False,
            notes=(
                "lastModifiedDateTime delta: deletes are not visible and stock (items.inventory) "
                "changes do not bump the stamp; schedule full imports. 6,000 requests / 5 min."
            ),
        )

    def request_headers(self) -> dict[str, Any]:
        return {**super().request_headers(), "Prefer": f"odata.maxpagesize={self.bc.max_page_size}"}
