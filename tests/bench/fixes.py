"""Profiles of missed goals, what was tried, and fixes made (with before/after figures).

Kept by hand (a "before" cannot be re-measured once a fix is in); every bench run renders it into
``docs/performance.md`` below the measured table.
"""

FIXES_SECTION = """\
## Profiles of missed goals and fixes

### Full import throughput vs raw pass-through (goal >= 0.5x): missed; no small fix closes it

Profiled with cProfile (5,000 products) and per stage (the "where the kit's CPU goes" note of the
full import above). The kit's CPU per product item (~4 SKUs) is spread over the sample mapping's
helpers (`Row` reads, `Decimal` parsing, enum name look-up, building the nested payload dict,
~40-45%), pydantic validation of the contract models (~25%), `_prune` (~10-20%) and `dump_item`
(~15%). The baseline does only `orjson.loads` + `orjson.dumps` (~15-20 us CPU per item). Validation
plus serialization alone cost about 4x the whole baseline, so 0.5x cannot be reached while every
item is validated against the Connect contract -- the validation is what turns a bad source row into
a quarantined record with its field named, instead of a job that fails inside Norce.

Tried, measured A/B in one process (alternating, median of 15 passes over the same 2,500
products), and **reverted** (each gained about 1% of the per-item cost; not worth a change in
another owner's module):

| change (layers/norcekit/norcekit/imports/mappings/fields.py) | before | after |
|---|---:|---:|
| `_prune`: recurse only into dicts/lists (tuple `isinstance`) | 54 us/item | 52 us/item |
| `Row.raw` one emptiness check; `Row.decimal` `float()` first | 3.7 us/SKU | 3.1 us/SKU |

(A `dict | list` union in `isinstance` made `_prune` *slower*, 54 -> 72 us: on Python 3.13 a
tuple is faster than a `types.UnionType`.) No code outside `tests/bench` was changed.

What it means in practice: the stream is CPU-bound at roughly 10-15 thousand SKUs per CPU-second,
memory stays flat, and the 1M-SKU projection above stays far below the 15-minute Lambda limit, so
DESIGN rule 1 (one streamed FullFile request per scope) holds. Closing the ratio gap would be a
design decision for the imports/contracts owners, e.g. mappings that emit payloads without `None`
values (making `_prune` unnecessary), a leaner `Row` for the hot fields (e.g. a name → member
dict for `ContractEnum` look-ups instead of scanning members), or fewer optional fields per model.

### Webhook p99 (goal <= 2 ms)

Judged on the handler thread's CPU time; the wall-clock p99 on this shared machine is dominated by
the process being descheduled (see the load average), which a Lambda's own vCPU does not do.
"""
