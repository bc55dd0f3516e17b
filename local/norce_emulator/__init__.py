"""Norce Commerce emulator: a real HTTP server on loopback behaving like Norce, for offline work and tests.

Start it
========
CLI::

    python -m norce_emulator --port 8089 [--host 127.0.0.1] [--job-delay 0.2] \
        [--client-id local-client --client-secret local-secret] [--token-rate-limit 3] [--verbose]

The token endpoint is rate-limited by default as Norce documents it (3/min + burst 20): a test that
needs more tokens says so with ``token_rate_limit_per_minute=None``.

Python::

    from norce_emulator import Emulator, EmulatorConfig
    with Emulator(EmulatorConfig(job_delay=0.01)) as emu:   # or emu.start() / emu.stop()
        emu.base_url                                        # http://127.0.0.1:<free port>

Pytest: ``tests/fixtures/emulator.py`` provides ``emulator`` (a session server reset per test),
``emulator_config`` (dict of overrides), ``emulator_token`` / ``emulator_headers`` (bearer + application id),
``emulator_http`` (plain httpx client) and ``emulator_factory`` (extra independent instances).

Python admin API (same operations as ``/_admin/``): ``reset(**overrides)``, ``configure(**changes)``,
``seed(skus=[...], prices=[...], products=[...], orders=[...], ...)``,
``mutate(kind, key, set=..., delete=...)``,
``catalog_rows(kind)``, ``sku(part_no)``, ``jobs()``, ``job(id)``, ``wait_for_job(id)``,
``force_job_status(id, status)``, ``set_job_processing(bool)``, ``requests(group=)``, ``token_request_count``,
``set_faults({...}, seed=, job_failure_rate=)``, ``fail_next(group, n, status|'drop'|'drop_after')``,
``subscribe(event_type, url, headers)``, ``unsubscribe()``, ``deliveries()``, ``emitted_events()``,
``wait_for_deliveries(n)``, ``advance_clock(seconds)`` / ``set_clock(offset_seconds=)``.

Endpoints (one base URL, paths as Norce documents them)
=======================================================
* ``POST /identity/1.0/connect/token`` - OAuth2 client credentials (form body). Opaque token, TTL
  ``token_ttl_seconds``; 400 ``invalid_client`` / ``invalid_scope`` / ``unsupported_grant_type``; optional
  token-bucket limit (``token_rate_limit_per_minute`` + ``token_burst``, default 3/min + 20) -> 429 +
  Retry-After.
  Every request is counted (``Emulator.token_request_count``).
* Everything else needs ``Authorization: Bearer <valid unexpired token>`` (401 otherwise).
* Connect ``POST /commerce/connect/4.0/{Product/ImportProducts|Product/ImportSkuPriceLists|
  Product/ImportPriceLists|Product/ImportOnhands|Product/ImportRelations|Customer/ImportCustomers|
  Customer/ImportCompanies|Supplier/ImportProducts}`` - validates ``X-StormConnect-Header``
  (single-line JSON, int AccountId,
  boolean FullFile where the header class has it, enum lists as ints or names, unknown properties rejected),
  accepts Content-Length or chunked bodies (must be a JSON array of objects), checks every value against
  the .NET contract type (``body_types``: wrong type or null for a value type -> 400 naming the path;
  unknown properties ignored and not stored, as Json.NET does), answers a JobResponse.
* Jobs ``GET Job/Get?id=``, ``GET Job/GetLog?id=``, ``POST Job/Restart?id=``, ``GET Job/Ping`` under
  ``/commerce/connect/4.0/`` *and* ``/commerce/connect/4.0/api/``. Status Queued(6) -> Validating(5) ->
  Initialized(1) -> Succeeded(2) / Failed(3) / Validation failed(4, after Validating), each step
  ``job_queued_seconds`` / ``job_validating_seconds`` / ``job_running_seconds`` (``job_delay`` when unset),
  one worker (later jobs wait Queued, like Norce's throttling). A Succeeded job can carry item failures:
  a price or on-hand row for an unknown PartNo or price list is not imported, counted in ``Fail`` and
  listed in ``Job/GetLog`` (severity 3 + ImportedRow) with ``unknown_reference_rows="fail"`` (default).
* Query ``GET /commerce/query/2.0/{Namespace}/{EntitySet}`` (needs ``applicationId`` or ``application-id``),
  only the published 2.0 schema (norce-query-and-events.md §1; ``query_schema.py``), 404 for any other set:
  ``Products/Products`` (key Id; expand ``Skus``), ``Products/ProductSkus`` (key ``('PartNo')``; expand
  ``PriceLists``), ``Products/ProductSkuPriceLists`` (keys PartNo + PriceListId + QtyBreak; ids, not codes),
  ``Products/SupplierProductSkus`` (keys PartNo + SupplierId), ``Application/ClientPriceLists`` (PriceListId,
  Agreement = the code, CurrencyId), ``Core/Currencies``, ``Customers/Customers`` (key Id),
  ``Customers/CustomerCompanies`` (keys CustomerId + CompanyId; expand ``Customer``, ``Company``),
  ``Orders/Orders`` (key Id; QuotationId = the basket id; expand ``Items``, ``Payer``, ``Buyer``, ``ShipTo``,
  ``Infos``; seeded via admin only). Not served (no published 2.0 name): client on-hand, the company set,
  ``Orders/OrderItems``; read those rows through the admin API. ``$filter`` (eq ne gt ge
  lt le, and/or/not, ``in (...)`` only with the ``query_supports_in`` setting, default off,
  parentheses, contains/startswith/endswith/tolower/toupper, quoted strings with '' escape, numbers,
  true/false/null, unquoted datetimes), ``$select``, ``$expand`` one level (nested $filter/$select/$orderby/
  $top honoured, other nested options ignored), ``$orderby``, ``$top``, ``$skip``, ``$count``. Request targets
  longer than ``max_url_length`` (8 KB) get 414.
* Events: subscriptions (event type -> URL + static headers) via the admin API; payloads flat PascalCase
  without type/id/timestamp, only the documented fields with their types (no null in a required field: a
  price row without a sale price raises only SkuChangedNotification; supplier stock and price changes raise
  SupplierSkuOnHandChanged / SupplierSkuPriceChangedNotification); background senders POST JSON with a
  5 s timeout and retry any non-2xx or error on Norce's schedule (5 s ... 6 h) times ``event_retry_scale``,
  then mark the delivery dead.
* Admin (no auth, JSON) under ``/_admin/``: ``reset``, ``config``, ``seed``, ``catalog[?kind=]``, ``jobs``,
  ``jobs/{id}``, ``jobs/{id}/status``, ``requests[?group=]``, ``tokens``, ``faults``, ``subscriptions``,
  ``deliveries``, ``events``, ``mutate``, ``clock``. Each has a Python method on :class:`Emulator`.

Faithful
========
Paths, header property names and enum tables (copied from Storm.Connect.Contracts @69a13d0), JobResponse /
JobDto / JobLogDto shapes and status ids, "Starting import." / "Import finished." log entries, severity 3 with
ImportedRow for records not imported, restart rules (only 2/3, 14-day payload retention, new job id),
``...FieldsThatAreSet`` (only listed fields written, keys always, ``*CreateOnly`` only on insert, null/0 price
values ignored, ``IgnoreSkuPriceListFieldsWhenEmpty`` skips the row), prices/stock for unknown SKUs or price
lists not imported (severity 3, counted in Fail; a SKU's StandardPrice only a warning), the token
endpoint's 429 at Norce's documented rate, body values checked against the contract types, the Query
``$top`` clamp at 500, the OData error body, webhook payload shapes and retry schedule, no event-type
header on webhooks (configure one as a static header).

Simplified / invented
=====================
* One tenant, one application; ids are sequential integers. Tokens are opaque strings, not JWTs.
* JobResponse ``StatusCode``/``Description`` ("OK"/"Job accepted") and 400 bodies
  (``{"StatusCode": "Failed", "Description": ...}``) are invented - Norce documents neither.
* The order Queued -> Validating -> Initialized is the emulator's reading (the docs list the statuses,
  not their order). Whether rows for unknown PartNos count in ``Fail`` is not documented ("ignored"):
  the strict reading is the default, ``unknown_reference_rows="ignore"`` the lenient one. Body type
  checks are stricter than Json.NET: no number<->string conversion, no ``1.0`` for an int, enum
  values must be members (``check_body_types=False`` turns them off).
* Item-level validation happens in the job (job log + ``Fail`` count + status 4 when *every* item lacks its
  keys); the synchronous ValidationSummary always reports 0 failures unless ``reject_items_missing_keys``.
* Customers need Code, FirstName, LastName, EmailAddress on insert (match on Code, Id, EmailAddress);
  companies need Code, Name, OrganizationNo (match on Code, Id, OrganizationNo).
* Products are stored by ``Code`` (required); variants by ManufacturerPartNo; SKUs by PartNo. A SKU's
  ``StandardPrice`` becomes a price row. Status 5/6 means inactive (a SKU's StatusId in Query).
* Query properties are those the 2.0 reference lists (it lists some only in part: nothing else is served);
  Customers/Customers' properties are not published beyond its key (the emulator's ``CustomerCode`` is
  named as on CustomerCompanies); currency ids are the emulator's own; datetimes are UTC with ``Z``.
  JobDto datetimes have no offset (UTC), like .NET's DateTime.
* No $metadata, no XML, no StorageName (file area) imports, no Relations/CompetitorSkus.
* Order write-backs (``orders.py``): ``Order/CancelOrder`` needs ClientOrderRef and ErpOrderNo naming one
  order unless ``cancel_order_match="either"`` (the docs conflict); ``Order/CreditPayment`` needs a
  ``CreditedInvoiceNo`` of the order unless ``credit_requires_invoice=False`` (undocumented).
* Supplier FullFile inactivates stock/prices per warehouse/price list scope; category deactivation is not
  modelled.
* A missing ``...FieldsThatAreSet`` list writes every field (``fields_absent_means_all``).

Open questions of norce-api.md section 10, and the side taken
==============================================================
1. Job path: both ``Job/Get`` and ``api/Job/Get`` answer; no ``Job/List``.
2. JobResponse StatusCode values / 400 bodies: invented as above.
3. Payload size: no limit except ``max_body_bytes`` (512 MB); no Connect rate limit; jobs run one at a time.
4. ``application-id`` on Connect: optional (recorded; ``connect_requires_application_id`` makes it required);
   any integer AccountId is accepted.
5. Query 2.0 only (PascalCase); 3.0 not emulated. Rate limits only via fault injection.
6. Customers namespace: ``Customers/Customers`` and ``Customers/CustomerCompanies`` (the company set's
   name is not published: not served).
7. Webhooks: no signing, no Norce headers (only the static ones), unordered at-least-once, dead events are
   kept in ``deliveries`` but never replayed.
8. Subscriptions are managed through the emulator admin API (Norce has only the Admin UI).
9. Only StatusId 1-6 exist.
10. Order receiver not emulated.

FullFile (the kit's reading: "deactivate everything in scope that is missing"): products - every SKU not in
the payload gets Status 5; prices - rows of the price lists present in the import but missing get
IsActive=false; on-hand - rows of the (warehouse, location) pairs present but missing get IsActive=false;
supplier - stock/prices of warehouses/price lists present but missing for a product are inactivated.
Customers, companies and price lists are upsert only.
"""

from .config import EmulatorConfig, FaultSpec
from .emulator import ApiError, Emulator

__all__ = ["ApiError", "Emulator", "EmulatorConfig", "FaultSpec"]
