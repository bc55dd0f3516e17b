"""Generic REST/JSON source: per-entity paths, a changed-since window, three paging styles, auth.

Configuration (``type: rest``)::

    base_url: https://erp.example.com/api/
    auth: {type: oauth2_client_credentials, token_url: ..., client_id: ..., client_secret: {env: ERP_SECRET}}
    paging: {style: nextlink, items_pointer: /value, next_pointer: /@odata.nextLink}
    # or {style: page|offset, page_size: 500, total_pointer: /total}: see imports/sources/paging.py
    delta:                                  # query parameters ...
      since_param: modifiedSince
      until_param: modifiedBefore           # optional
      format: iso8601                       # iso8601 | iso8601_ms | epoch_s | epoch_ms | a strftime pattern
      timezone: Europe/Stockholm            # zone the API expects (for local-time APIs such as Fortnox)
    # ... or an OData-style filter: filter_param: $filter, since_filter: "modified ge {value}",
    #     until_filter: "modified lt {value}"  (joined with " and ")
    entities:
      products: {path: items, key_fields: [number], changed_at_field: lastModified}

The window is half-open ``[since, until)``; when the API only has "since" the upper bound is not
sent and rows changed after ``until`` may be read early (harmless: imports upsert). Pages are
fetched one at a time and their items yielded before the next request. A read is complete or it
raises :class:`SourceError` (no stop on a short page, no error page taken for an empty one, next
links only on the configured origin over https): see :mod:`norcekit.imports.sources.paging`.
429/502/503/504 and transport errors are retried with backoff honouring ``Retry-After``
(``norcekit.norce.http``), bounded by the source's :class:`~norcekit.norce.http.Deadline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from norcekit.deadline import Deadline
from norcekit.imports.records import SourceRecord, WatermarkValue
from norcekit.imports.sources.auth import Authenticator, AuthOptions, NoAuth, build_authenticator
from norcekit.imports.sources.base import (
    SourceCapabilities,
    SourceError,
    check_entity,
    make_key,
    parse_timestamp,
    utc,
)
from norcekit.imports.sources.paging import RestPaging, check_transport, iter_pages, json_pointer
from norcekit.norce.http import NorceError, NorceHttp, RetryPolicy

__all__ = ["RestDelta", "RestEntityOptions", "RestOptions", "RestPaging", "RestSource", "json_pointer"]

TimestampFormat = str  # iso8601 | iso8601_ms | epoch_s | epoch_ms | strftime pattern containing '%'
_NAMED_FORMATS = {"iso8601", "iso8601_ms", "epoch_s", "epoch_ms"}
#: Which end of the ``[since, until)`` window a formatted timestamp is.
Bound = Literal["lower", "upper"]


class RestDelta(BaseModel):
    """How the changed-since window is sent."""

    model_config = ConfigDict(extra="forbid")

    since_param: str | None = None
    until_param: str | None = None
    filter_param: str | None = None
    since_filter: str | None = Field(default=None, description='e.g. "modified ge {value}"')
    until_filter: str | None = None
    format: TimestampFormat = "iso8601"
    timezone: str = "UTC"

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in _NAMED_FORMATS and "%" not in value:
            raise ValueError(
                f"use one of {', '.join(sorted(_NAMED_FORMATS))} or a strftime pattern like '%Y-%m-%d %H:%M'"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like 'Europe/Stockholm')"
            ) from None
        return value

    @model_validator(mode="after")
    def _one_style(self) -> RestDelta:
        if self.filter_param and not self.since_filter:
            raise ValueError('filter_param needs since_filter (e.g. "modified ge {value}")')
        if not self.filter_param and (self.since_filter or self.until_filter):
            raise ValueError("since_filter/until_filter need filter_param (e.g. $filter)")
        if not self.filter_param and not self.since_param:
            raise ValueError("set since_param (query parameter) or filter_param + since_filter")
        return self


class RestEntityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="Relative to base_url (or an absolute URL).")
    key_fields: list[str] = Field(min_length=1)
    changed_at_field: str | None = None
    params: dict[str, str] = Field(default_factory=dict, description="Extra query parameters.")


class RestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://")
    entities: dict[str, RestEntityOptions]
    paging: RestPaging = Field(default_factory=RestPaging)
    delta: RestDelta | None = None
    auth: AuthOptions = Field(default_factory=NoAuth)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=30.0, gt=0, description="Total time of one request attempt.")
    max_attempts: int = Field(default=6, ge=1, le=20)
    timestamp_granularity_s: float = Field(default=1.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


def format_timestamp(
    value: datetime, fmt: TimestampFormat, zone: str = "UTC", *, bound: Bound | None = None
) -> str:
    """``value`` (aware) as the API expects it, converted to ``zone`` first.

    A wall time without an offset in a repeated DST hour means two instants, and the API's choice
    is undocumented: a ``lower`` bound is then sent an hour earlier, an ``upper`` one an hour later,
    so that either reading keeps the window at least as wide as asked (never a skipped hour).
    """
    moment = utc(value)
    if fmt == "epoch_s":
        return str(int(moment.timestamp()))
    if fmt == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    local = moment.astimezone(ZoneInfo(zone))
    if fmt in ("iso8601", "iso8601_ms"):
        text = local.isoformat(timespec="milliseconds" if fmt == "iso8601_ms" else "seconds")
        return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text
    if bound is not None and "%z" not in fmt:
        other = local.replace(fold=1 - local.fold).astimezone(UTC)  # the wall time's other reading
        if (bound == "lower" and other > moment) or (bound == "upper" and other < moment):
            local = (moment - (other - moment)).astimezone(ZoneInfo(zone))
    return local.strftime(fmt)


class RestSource:
    """Reads JSON lists from a REST API (see the module docstring)."""

    def __init__(
        self,
        name: str,
        options: RestOptions,
        *,
        http: NorceHttp | None = None,
        authenticator: Authenticator | None = None,
        deadline: Deadline | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.options = options
        # timeout_s bounds each request as a whole (connect to last byte), not each read.
        self.http = http or NorceHttp(
            policy=RetryPolicy(max_attempts=options.max_attempts),
            timeout=httpx.Timeout(options.timeout_s),
            attempt_timeout=options.timeout_s,
        )
        self._owns_http = http is None
        self.auth = authenticator or build_authenticator(options.auth)
        self.deadline = deadline or Deadline.none()
        self._clock = clock
        self.capabilities = SourceCapabilities(
            delta_supported=options.delta is not None,
            watermark_kind="timestamp",
            timestamp_granularity_s=options.timestamp_granularity_s,
            timezone=options.delta.timezone if options.delta else "UTC",
            emits_deletes=False,
            notes="Deletes are not visible in a changed-since query; schedule full imports.",
        )

    def entities(self) -> frozenset[str]:
        return frozenset(self.options.entities)

    def iter_all(self, entity: str) -> Iterator[SourceRecord]:
        check_entity(self.name, entity, self.options.entities)
        yield from self._records(entity, {})

    def iter_changed(
        self, entity: str, since: WatermarkValue | None, until: WatermarkValue
    ) -> Iterator[SourceRecord]:
        check_entity(self.name, entity, self.options.entities)
        if self.options.delta is None:
            raise SourceError(f"source {self.name!r} has no 'delta' settings; it supports full imports only")
        if not isinstance(until, datetime) or (since is not None and not isinstance(since, datetime)):
            raise SourceError(f"source {self.name!r} uses timestamp watermarks; got {since!r}, {until!r}")
        yield from self._records(entity, self.window_params(since, until))

    def window_params(self, since: datetime | None, until: datetime) -> dict[str, str]:
        """Query parameters for ``[since, until)``."""
        delta = self.options.delta
        assert delta is not None
        since_text = None
        if since is not None:
            since_text = format_timestamp(since, delta.format, delta.timezone, bound="lower")
        until_text = format_timestamp(until, delta.format, delta.timezone, bound="upper")
        if delta.filter_param:
            clauses = []
            if since_text is not None and delta.since_filter:
                clauses.append(delta.since_filter.format(value=since_text))
            if delta.until_filter:
                clauses.append(delta.until_filter.format(value=until_text))
            return {delta.filter_param: " and ".join(clauses)} if clauses else {}
        params: dict[str, str] = {}
        if since_text is not None and delta.since_param:
            params[delta.since_param] = since_text
        if delta.until_param:
            params[delta.until_param] = until_text
        return params

    def now(self, entity: str | None = None) -> WatermarkValue:
        return utc(self._clock())

    def close(self) -> None:
        if self._owns_http:
            self.http.client.close()

    # --- paging ---

    def request_headers(self) -> dict[str, str]:
        """Headers on every data request (subclasses add e.g. ``Prefer``)."""
        return {"Accept": "application/json", **self.options.headers}

    def _records(self, entity: str, window: Mapping[str, str]) -> Iterator[SourceRecord]:
        opts = self.options.entities[entity]
        url = urljoin(self.options.base_url, opts.path)
        check_transport(url, f"source {self.name!r}: {entity} URL")
        params = {**opts.params, **window}
        for page_url, items in iter_pages(self._get, url, params, self.options.paging):
            for index, item in enumerate(items):
                origin = f"{page_url}#{index}"
                if not isinstance(item, dict):
                    yield SourceRecord.failed(origin, f"item {index}: expected a JSON object", repr(item))
                    continue
                key = make_key(item, tuple(opts.key_fields))
                if key is None:
                    yield SourceRecord.failed(
                        origin, f"item {index}: key field(s) {', '.join(opts.key_fields)} missing or empty",
                        orjson.dumps(item).decode(),
                    )  # fmt: skip
                    continue
                changed_at = None
                stamp = item.get(opts.changed_at_field) if opts.changed_at_field else None
                if isinstance(stamp, str) and stamp:
                    try:
                        changed_at = parse_timestamp(stamp)
                    except ValueError:
                        changed_at = None  # informational only; the window decided the row is in
                yield SourceRecord(key=key, data=item, origin=origin, changed_at=changed_at)

    def _get(self, url: str, params: Mapping[str, str] | None) -> tuple[Any, str]:
        """One page, retried per the HTTP policy; a single 401 refreshes the credentials."""
        shown = str(httpx.URL(url, params=params)) if params else url
        for attempt in (1, 2):
            headers = {**self.request_headers(), **self.auth.headers(self.http, self.deadline)}
            try:
                response = self.http.request(
                    "GET", url, deadline=self.deadline, idempotent=True, headers=headers, params=params,
                    accept_status=(401,) if attempt == 1 else (),
                )  # fmt: skip
            except NorceError as exc:
                raise SourceError(f"source {self.name!r}: {exc}") from exc
            if response.status_code == 401:
                self.auth.invalidate()
                continue
            try:
                return orjson.loads(response.content), shown
            except orjson.JSONDecodeError as exc:
                raise SourceError(f"source {self.name!r}: {shown} did not return JSON ({exc})") from exc
        raise SourceError(f"source {self.name!r}: {shown} answered 401 twice")  # pragma: no cover
