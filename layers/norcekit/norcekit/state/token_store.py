"""The Norce access token shared by every Lambda container (DESIGN rule 7).

One item per (host, client id): ``access_token`` and ``expires_at_epoch`` plus a refresh lease
(``lease_owner``, ``lease_until``) so only one caller at a time asks the rate-limited token endpoint.
The token is stored as-is: it lives about an hour and the table is encrypted at rest (DynamoDB
always encrypts). It is never logged: it only ever leaves this module wrapped in ``SecretStr``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from boto3.dynamodb.conditions import Attr
from pydantic import SecretStr

from norcekit.norce.tokens import CachedToken
from norcekit.state.table import TTL_ATTRIBUTE, ConditionFailed, Keys, StateTable, number

#: The item outlives the token a little so a stale read still finds *something* to compare.
GRACE_S = 3600


class DynamoTokenStore:
    """:class:`norcekit.norce.tokens.TokenStore` on the state table; ``key`` from ``token_cache_key``."""

    def __init__(self, table: StateTable, key: str, *, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._key = Keys.token(key)
        self._clock = clock

    def load(self) -> CachedToken | None:
        item = self.table.get(self._key)
        if not item or "access_token" not in item:
            return None
        return CachedToken(SecretStr(str(item["access_token"])), float(item["expires_at_epoch"]))

    def try_acquire_refresh(self, owner: str, lease_s: float) -> bool:
        now = self._clock()
        condition = (
            Attr("lease_owner").not_exists()
            | Attr("lease_owner").eq(owner)
            | Attr("lease_until").lt(number(round(now, 3)))
        )
        try:
            self.table.update(
                self._key,
                set_values={"lease_owner": owner, "lease_until": round(now + lease_s, 3)},
                condition=condition,
            )
        except ConditionFailed:
            return False
        return True

    def save(self, token: CachedToken, owner: str) -> None:
        # Saved even if our lease expired meanwhile (a fresh token is useful to everyone), but never
        # over a token that lives longer. The lease is cleared only if it is still ours, so we never
        # cut short another caller's refresh.
        expires = round(token.expires_at, 3)
        with contextlib.suppress(ConditionFailed):  # a newer token is already stored
            self.table.update(
                self._key,
                set_values={
                    "access_token": token.access_token.get_secret_value(),
                    "expires_at_epoch": expires,
                    TTL_ATTRIBUTE: int(token.expires_at) + GRACE_S,
                },
                condition=Attr("expires_at_epoch").not_exists()
                | Attr("expires_at_epoch").lt(number(expires)),
            )
        self.release(owner)

    def release(self, owner: str) -> None:
        with contextlib.suppress(ConditionFailed):  # not ours (expired and taken over, or already released)
            self.table.update(
                self._key, remove=("lease_owner", "lease_until"), condition=Attr("lease_owner").eq(owner)
            )
