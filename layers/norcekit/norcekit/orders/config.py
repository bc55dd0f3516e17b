"""The ``orders:`` section of the integration configuration file.

```yaml
orders:
  targets:                       # where a received order is delivered (same types as events)
    erp:     {type: http, url: "https://erp.example/orders", credentials_secret_arn: "arn:..."}
    archive: {type: s3, bucket: my-bucket, prefix: orders/}
  mapping: my_package.mappings:order_for_erp   # OrderRequest dict -> ERP dict (default: as sent)
  erp_order_no_field: ErpOrderNo  # in an HTTP target's JSON answer: the ERP's order number
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from norcekit.events.config import EventsConfig, TargetConfig
from norcekit.settings import Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class OrdersConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, TargetConfig] = Field(default_factory=dict)
    mapping: str | None = Field(default=None, description="'module:function' mapping the order for targets.")
    erp_order_no_field: str = Field(default="ErpOrderNo", min_length=1)

    def as_events_config(self) -> EventsConfig:
        """The targets in the shape the events target builder takes (one builder for both)."""
        return EventsConfig(targets=self.targets)


def parse_orders_config(section: Mapping[str, Any] | None, *, source: str = "orders") -> OrdersConfig:
    try:
        return OrdersConfig.model_validate(dict(section or {}))
    except ValidationError as exc:
        parts = [f"{source}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("; ".join(parts)) from None


def load_orders_config(
    settings: Settings, *, environ: Mapping[str, str] | None = None, s3_client: S3Client | None = None
) -> OrdersConfig:
    """The ``orders:`` section of ``NORCEKIT_CONFIG`` (defaults: no targets) with ``${VAR}`` substituted."""
    if not settings.norcekit_config:
        return OrdersConfig()
    from norcekit.configfile import ConfigError, read_config_document, substitute_env  # noqa: PLC0415 - consumer only

    location = settings.norcekit_config
    name = location.rstrip("/").rsplit("/", 1)[-1]
    try:
        document = read_config_document(location, s3_client=s3_client)
        section = substitute_env(
            document.get("orders") or {}, os.environ if environ is None else environ, "orders"
        )
    except ConfigError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    return parse_orders_config(section, source=f"{name}: orders")


__all__ = ["OrdersConfig", "load_orders_config", "parse_orders_config"]
