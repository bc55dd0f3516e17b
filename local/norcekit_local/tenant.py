"""A real Norce tenant (playground or stage) in place of the bundled emulator: ``make local NORCE=<url>``.

The tenant's credentials and ids come from an env file (``--norce-env-file``, default ``norce.env``
when present) over the process environment, never from the command line:

    NORCE_CLIENT_ID=...            OAuth client (Norce Admin → API clients) with Connect and Query access
    NORCE_CLIENT_SECRET=...
    NORCE_APPLICATION_ID=...       the tenant's ApplicationId
    NORCE_ACCOUNT_ID=...           the integration's system account (or NORCE_ACCOUNT_IDS='{"erp": 123}')
    NORCE_ENVIRONMENT=playground   playground | stage | prod: the OAuth scope (NORCE_OAUTH_SCOPE overrides)

The client secret goes only into the local stack's Secrets Manager secret (moto, in memory), where
the functions and ``norcekit --local`` read it as in AWS; stack.json names the URL and the client id,
never the secret, and nothing logs it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from norcekit.settings import NorceEnvironment
from norcekit.stack import StackError, read_env_file

#: Used when ``--norce-env-file`` is not given and this file exists in the working directory.
DEFAULT_ENV_FILE = "norce.env"
REQUIRED = ("NORCE_CLIENT_ID", "NORCE_CLIENT_SECRET", "NORCE_APPLICATION_ID")


class TenantError(ValueError):
    """The tenant is not usable as given; the message names the variable or option, never a value."""


class EmulatorOnlyError(RuntimeError):
    """Asked for something only the bundled emulator can do while a real tenant is in use."""


def emulator_only(what: str, url: str) -> EmulatorOnlyError:
    return EmulatorOnlyError(
        f"{what} needs the bundled Norce emulator; this local stack runs against the Norce tenant at "
        f"{url} (fault injection, admin resets and emitting events are emulator-only). "
        "Start `make local` without NORCE= to use the emulator."
    )


@dataclass(frozen=True)
class NorceTenant:
    url: str
    client_id: str
    client_secret: SecretStr
    application_id: int
    account_id: int | None
    account_ids: str | None
    environment: str
    oauth_scope: str | None
    #: Where the credentials came from (an env file's path, or "environment"), for the summary.
    source: str

    @classmethod
    def from_sources(
        cls, url: str, *, env_file: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> NorceTenant:
        """The tenant at ``url``; variables from ``env_file`` (or ``norce.env``) over ``environ``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TenantError(f"--norce-url: expected https://<host> (got {url!r})")
        values = dict(os.environ if environ is None else environ)
        source = "environment"
        path = Path(env_file) if env_file else Path(DEFAULT_ENV_FILE)
        if env_file or path.is_file():
            try:
                values.update(read_env_file(path))
            except StackError as exc:
                raise TenantError(str(exc).replace("--env-file", "--norce-env-file")) from None
            source = str(path)
        missing = [name for name in REQUIRED if not values.get(name)]
        if not values.get("NORCE_ACCOUNT_ID") and not values.get("NORCE_ACCOUNT_IDS"):
            missing.append("NORCE_ACCOUNT_ID (or NORCE_ACCOUNT_IDS)")
        if missing:
            raise TenantError(
                f"{', '.join(missing)}: required for --norce-url, in {source} "
                f"(or an env file given with --norce-env-file)"
            )
        environment = values.get("NORCE_ENVIRONMENT") or NorceEnvironment.PLAYGROUND.value
        if environment not in {e.value for e in NorceEnvironment}:
            raise TenantError("NORCE_ENVIRONMENT: expected playground, stage or prod")
        return cls(
            url=url.rstrip("/"),
            client_id=values["NORCE_CLIENT_ID"],
            client_secret=SecretStr(values["NORCE_CLIENT_SECRET"]),
            application_id=_integer(values, "NORCE_APPLICATION_ID"),
            account_id=_integer(values, "NORCE_ACCOUNT_ID") if values.get("NORCE_ACCOUNT_ID") else None,
            account_ids=values.get("NORCE_ACCOUNT_IDS") or None,
            environment=environment,
            oauth_scope=values.get("NORCE_OAUTH_SCOPE") or None,
            source=source,
        )

    def parameters(self) -> dict[str, str]:
        """Template parameters (what samconfig.toml says for a deployment)."""
        return {
            "NorceEnvironment": self.environment,
            "NorceApplicationId": str(self.application_id),
            "NorceAccountId": str(self.account_id or ""),
        }

    def env(self) -> dict[str, str]:
        """Settings the template does not carry."""
        env = {"NORCE_BASE_URL": self.url}
        if self.account_ids:
            env["NORCE_ACCOUNT_IDS"] = self.account_ids
        if self.oauth_scope:
            env["NORCE_OAUTH_SCOPE"] = self.oauth_scope
        return env

    def secret_value(self) -> dict[str, Any]:
        """The Norce credentials secret's value (only ever stored in the stack's own moto)."""
        return {"client_id": self.client_id, "client_secret": self.client_secret.get_secret_value()}

    def describe(self) -> dict[str, Any]:
        """For stack.json: no secret."""
        return {
            "norce_mode": "tenant",
            "norce_url": self.url,
            "norce_admin_url": None,
            "norce_client_id": self.client_id,
            "norce_credentials_from": self.source,
            "norce_application_id": self.application_id,
            "norce_account_id": self.account_id,
            "norce_environment": self.environment,
        }


def norce_summary_line(info: Mapping[str, Any]) -> str:
    """The Norce line of the local stack's console summary (from stack.json's fields)."""
    if info.get("norce_mode") == "tenant":
        return (
            f"  Norce tenant     {info['norce_url']}  (client {info['norce_client_id']}, credentials from "
            f"{info['norce_credentials_from']}; no emulator: fault injection, resets and events are off)"
        )
    return f"  Norce emulator   {info['norce_url']}  (admin {info['norce_admin_url']})"


def _integer(values: Mapping[str, str], name: str) -> int:
    try:
        return int(values[name])
    except ValueError:
        raise TenantError(f"{name}: expected an integer") from None


__all__ = [
    "DEFAULT_ENV_FILE",
    "EmulatorOnlyError",
    "NorceTenant",
    "TenantError",
    "emulator_only",
    "norce_summary_line",
]
