# ruff: noqa: E501  (markdown tables: one row per line)
"""Profiles of missed goals, what was tried, and fixes made (with before/after figures).

Kept by hand (a "before" cannot be re-measured once a fix is in); every bench run renders it into
``docs/performance.md`` below the measured table.
"""

FIXES_SECTION = """\
## Profiles of missed goals and fixes

### Full import, own cost <= 2x and stream >= 0.25x raw (issue 17): CPU per item halved, missed

#### What was changed

- **Contract validation without model instances** (`norcekit/norce/contracts/wire.py`,
  `fields.wire_item`). A typed-dict schema is derived from each contract model's own pydantic-core
  schema (the same field validators; model validators as dict twins) and validates the mapped
  payload dict without building ~20 model instances per product; the validated dict is the wire
  form and streams with one `orjson.dumps` per item. It is taken only when the validated dict equals
  the payload (so no key was dropped and nothing was converted that could change the bytes);
  anything else goes through `Model.model_validate`, whose `ValidationError` is the error the
  quarantine records (same wording, same field path), and whose accepted fields teach the fast
  schema (it keeps only the fields a mapping uses: absent optional fields cost a dict look-up each
  in pydantic-core, ~7 us per product). Unknown keys are detected by the equality, not by
  `extra="forbid"` (which cost ~35% of the validation).
- **Sample mapping helpers** (`mappings/sample.py`, `fields.py`): payloads leave `None` out;
  nested row paths (`variants[1].skus[0]`) are spelt out only when an error names them; the mapped
  VAT-rate lists are reused for repeated rate objects; the SKU fields' common case (clean text, a
  known unit or status spelling) is read inline before the general `Row` accessor; clean
  translation objects are used as they are.
- **File-drop read**: `SourceRecord.read()` sets the frozen record's slots directly (0.66 us
  instead of 1.7 us per record); the key fields are not copied per row.

Same-output proof: `tests/unit/norce/test_contract_wire.py` (conversions, omissions, 12 kinds of
bad payload with their error and location, identifier rules, learning, unsupported contracts, and
hypothesis payloads built from the fields of Product, SkuPriceList, SkuOnhand, Customer and
Company: the wire path and `model_validate` + `dump_item` give the same bytes or the same errors);
`tests/unit/imports/mappings/test_wire_ab.py` (every entity of a sample export plus 1,500 mutated
rows each, wire path vs model path: same bytes, same accept/reject decision, same reason and
field path); the golden files of `test_mapping_fast_paths.py` are unchanged.

#### Before / after, one run

A/B on 2026-12-03 07:26 UTC: the bench's kit worker (`python -m tests.bench.bench_import kit`) run
from a worktree of 74d2d09 (before, with `PYTHONPATH` on its `layers/norcekit`) and from this
change (after), alternating with the raw pass-through, same sink, 10k SKUs, 3 each (load average
~12 on 2 cores, so absolute figures are high):

| figure (medians) | raw | before | after |
|---|---:|---:|---:|
| sender CPU per product item | 20.7 us | 221.1 us | 116.0 us |
| CPU ratio to raw | 1 | 10.67 | 5.60 |
| throughput ratio to raw (whole stream) | 1 | 0.124 | 0.246 |

Stage breakdown in one process (same 2,000 items, min of 5 passes, quieter moment): contract
validation 10.7 us on the wire path vs 37.6 us `Product.model_validate`; serialization 2.7 us
(`orjson`) vs 22.4 us (`dump_item` of the model); mapping helpers 19.3 us (48 us on 2026-11-27,
26.5 us after the first helper change); file-drop read 9.8 us with `orjson.loads` alone 5.6 us.

#### Where the remaining time goes

Own cost (mapping excluded) per product item, quiet machine: file-drop read ~10 us (of which
`orjson.loads` 5.6: the rest is six generator layers, the origin string, the key, the
`updated_at` timestamp parse, the record and the dedupe set), validation ~10.7 us, serialization
~2.7 us, streaming ~4-5 us; the raw pass-through is ~11 us in all (`orjson.loads` + `orjson.dumps`
+ the same streaming). So own cost sits at ~2.7-3.5x (2.66 and 3.21 at load ~12, 3.20 and 3.49 at
load ~14 in the full runs of 2026-12-03: the ratio grows with contention).
The validation is pydantic-core's typed-dict walk: ~0.5 us per dict for ~22 dicts per product even
with only the used fields in the schema
(about 1.8x `orjson.loads` of the same row); a hand-written Python validator measured slower, and
neither batching items into one `validate_python` call nor strict mode helped. Reaching 2x needs
either a cheaper read (a flatter file-drop loop without the generator layers and the timestamp
parse in full imports: ~3 us) plus ~3 us less validation, which pydantic-core does not offer for
this shape. The whole stream adds the mapping helpers (~19 us: ~60 `Row` accessor calls per
product at 0.1-0.3 us each); at 0.25x the kit may spend 4x raw (~44 us), i.e. helpers ~12 us.
Measured whole-stream ratios in those runs: CPU 4.9x-6.4x raw, throughput 0.16-0.38x (wall clock,
very noisy at load 12-14; 0.25 was met at 10k in one run, never at 100k). Memory is unchanged: peak RSS ~81-85
MB, 1.04x from 10k to 100k SKUs.

#### Also tried (2026-12-03, second session), not landed

Per sample product item, 2,000 payloads, one process, min of 5-7 passes (quiet machine):

| validator of the mapped payload | µs | vs today |
|---|---:|---|
| today: typed-dict `validate_python` + equality check | 11.3 + 3.2 | |
| generated Python per key shape (no copy, no equality; `exec` from the core schema) | 11.6 | about equal; A/B in alternating processes 14.7 vs 16.5 µs with `orjson.dumps` (-11 %) |
| `msgspec.convert` to TypedDicts derived from the models | 8.7 | -3 µs, a new layer dependency |
| `SchemaSerializer.to_json(warnings="error")` as check and writer in one pass | 14.4 | vs 15.4 wire path + orjson: none |
| for scale: `orjson.loads` of the same payload's JSON | 9.0 | |

The generated checker also needs the payload changed in place where the model converts (an integer in
a float field is written `1.0`), which alters what a later error reports. None of them buys more than
~3 µs of an own cost of ~47-53 µs, so none was worth its weight. Any validator that walks the mapped
payload costs about one JSON parse of it, so own cost >= raw + one parse; with the stream's network
cost in both (8-12 µs per item over loopback in the bench) that bound is ~1.5x, and the ~2 µs left
for the read layers, dedupe, the mapping loop and the equality check is less than they cost today
(~9 µs). An in-process split without the network (10k, min of 5): `orjson.loads` 7.0 µs, read layers
+3.2, dedupe +0.7, validation +14.4, framing ~0.5: own 25.9 vs raw 9.0 µs.

### Full import throughput vs raw pass-through (2026-11-27, goal then >= 0.5x): CPU per item cut by a third

#### What was optimized

The sample mapping and its `Row` helpers (`layers/norcekit/norcekit/imports/mappings/fields.py`,
`sample.py`); nothing was given up: every item is still validated against the Connect contract
(`Product.model_validate`, one pydantic-core pass over the payload dict), a bad row is still
quarantined with the same reason, and the wire bytes are unchanged.

- **No pruning walk on the hot path.** `build()` copied every payload dict recursively to drop
  `None` values and empty lists before pydantic walked it again. `None` never reaches the wire
  anyway (`dump_item` uses `exclude_none`), so the products, SKU price and on-hand mappings now leave
  only empty lists out themselves and call the new `fields.validate(Model, payload)` (validation
  and error naming without the walk). `build()` keeps pruning for the other mappings and user code.
- **Fast paths in the `Row` accessors** for the common case, falling back to the unchanged general
  path for anything else (so values and error messages are identical): `text`/`required_text` take
  a clean string in one step; `decimal` reads strings and JSON numbers with `float()` (same
  correctly rounded number as `float(Decimal(...))`; non-finite or unparsable values go the
  `Decimal` way for the error text); `enum` resolves names from a cached casefolded name → member
  dict instead of `Enum.__call__` → `_missing_` scanning members; `raw` checks emptiness once.
- Checked and left alone: the file drop already parses JSON Lines with `orjson`; `dump_item`
  already calls the model's cached `__pydantic_serializer__.to_json(exclude_none=True)`;
  Connect chunking already appends to one `bytearray` (0.3 us/item; a list + `b",".join`
  variant measured 0.75 us/item, slower).

Same-output proof: `tests/unit/imports/mappings/test_mapping_fast_paths.py` maps golden sample rows
(clean, and with fields removed or replaced by odd values at every depth) and compares each
`dump_item` / error text with what the previous code produced (`mapping_golden/*.expected`);
hypothesis checks that the `decimal` fast path equals `Decimal` parsing for any text or number,
and that name look-ups equal `ContractEnum.coerce`. A wider A/B over 91,730 outcomes (every
entity of a 5,000-product export, plus 2,400 mutated rows each) was byte-identical.

#### Before / after

In-process A/B: the full stream (file drop → dedupe → mapping → `dump_item` → 64 KiB chunks) with
the old and the new mapping code alternating in one process, CPU per product item.

| figure | before | after |
|---|---:|---:|
| in-process A/B (see below), 2,500 products, 15 alternating passes: median | 279 us | 181 us |
| same: median of the 15 paired after/before ratios (range) | | 0.68 (0.47-0.80) |
| same, 25,000 products, 5 alternating passes: median | 311 us | 208 us |
| bench, 10k SKUs, sender CPU per item (subprocess, median of 3) | 299 us | 175 us |
| bench, 100k SKUs, sender CPU per item | 270 us | 168 us |
| bench, 10k SKUs, throughput ratio vs raw pass-through | 0.093 | 0.158 |
| bench, 100k SKUs, throughput ratio vs raw pass-through | 0.073 | 0.080 |
| bench, projected 1M SKUs in one Lambda | 67.7 s | 42.2 s |

The bench rows compare the run of 2026-11-27 08:42 (before) with 09:01 (after); the raw baseline
moved between runs too (another session's tests shared the two cores), which is why the in-process
A/B rows, alternating old and new mapping code in one process over the same file, are the better
measure of the change: about a third less CPU per item. In the bench the kit's wall-clock rate now
matches its CPU time (~5,800 items/s = ~170 us per item), i.e. the stream is CPU-bound on one core.

Where the CPU goes per product item (stage breakdown of the bench, min of 5 passes, same items):

| stage | before | after |
|---|---:|---:|
| read + `orjson.loads` | 6 us (3%) | 6 us (5%) |
| mapping helpers (`Row` reads, dict building) | 75 us (40%) | 48 us (39%) |
| `_prune` None/empty | 37 us (20%) | not run (0%) |
| pydantic validation | 43 us (23%) | 41 us (33%) |
| `dump_item` | 27 us (15%) | 27 us (22%) |

#### Why 0.5x is still out of reach, and what the rest costs

The baseline only parses and re-dumps each line with orjson (~10-18 us CPU per item). Validating a
product item against the contract (about 20 model instances: product, cultures, variants, SKUs,
VAT rates; ~2 us each in pydantic-core, mostly filling the many optional fields with their
defaults) costs ~40 us, and serializing those models back (`to_json`, ~1 us per model plus ~0.4 us
per enum value, which Python 3.13 reads through the `Enum.value` descriptor) ~28 us: these two
alone are 4-5x the whole baseline, so 0.5x (kit CPU <= ~2x baseline) cannot be reached while every
item is validated against the Connect contract. That validation is the product's safety net: it is
what turns a bad source row into a quarantined record naming the field, instead of a job that
fails inside Norce (and a `model_construct` shortcut would skip it, so it is not an option).

Remaining smaller costs, owned elsewhere, each a few percent: per-record `SourceRecord` creation
(frozen dataclass, ~2 us), the cyclic GC scanning the ~75k objects of the imported libraries during
the stream (`gc.freeze()` after the handler's imports measured ~5-10% less CPU, noisy), and the
`Enum.value` descriptor in serialization (a C-level `value` property on `ContractEnum` measured
~4 us/item). In practice the sender now streams roughly 20-24 thousand SKUs per CPU-second with flat
memory, and the 1M-SKU projection stays far below the 15-minute Lambda limit, so DESIGN rule 1
(one streamed FullFile request per scope) holds.

### Event processing at batch 50 (goal >= 10x the naive processor): 6.9x -> ~15x, met again

#### Profile

At batch 50 (2026-12-03 ~10:00 UTC, in-process `cProfile`, and `perf_counter` around the Query
client's `_send`): 88% of the kit's time was spent in the two Query calls per batch (~13-17 ms
each); the kit's own CPU (envelope and payload validation, grouping, documents, Powertools' batch
response) was ~35 us per event with an in-memory Query. A 25-key
look-up took the emulator ~26 ms against ~3 ms for one key: since issue 13 the emulator refuses
OData 4.01 `in` (not shown for Norce), so the kit sends `PartNo eq 'a' or PartNo eq 'b' ...`,
which the emulator evaluated by walking a left-deep `or` tree per row (keys x rows comparisons,
~100 Python calls per row). The same bench with `query_supports_in` on gave 15.3x. So the ratio
fell because the batched look-ups got slower in the emulator, not because the baseline got faster
(the baseline's 809 instead of 1,000 calls, company events having no Query set, is a smaller part).

#### What was changed

- **Emulator**: a chain of equalities on one property (`Key eq a or Key eq b ...`, either side) is
  parsed into the same node as `Key in (...)`, and that node matches a row with one set look-up
  (a list or object value falls back to comparing each literal). Same matches (tests in
  `tests/integration/emulator/test_emu_query.py` pass on the old and the new evaluator); `in` in the
  URL is still refused. A real OData server answers a key list from its index; the emulator still
  reads every row of the set per request, which is the per-call cost both paths pay.
- **Kit**: `parse_message` reads the envelope's receive time from the field
  (`QueueEnvelope.received_at_text`) instead of serializing the whole envelope, payload included,
  per record (kit CPU ~36 -> ~34 us per event with an in-memory Query, best of 7 passes, 3
  alternating pairs).

#### Before / after, one run each

`python -m tests.bench --only events` alternating 41c0fd1 (before, a `git archive` with `PYTHONPATH`
on it) and this change (after), 3 each, load average 1.4-3.1 on 2 cores (others' benches running):

| run | before: batch 50 / naive | ratio | after: batch 50 / naive | ratio |
|---|---:|---:|---:|---:|
| 1 | 1,881 / 315 events/s | 5.97x | 4,543 / 300 events/s | 15.16x |
| 2 | 1,882 / 262 events/s | 7.18x | 4,874 / 266 events/s | 18.33x |
| 3 | 1,394 / 286 events/s | 4.87x | 3,954 / 299 events/s | 13.23x |

The naive baseline is unchanged (one key per call has no chain to evaluate); batch 10 went from
2.8-3.1x to 3.6-4.6x.

#### Where the time goes now

Per batch of 50 (~12 ms): two Query round trips ~9 ms (the emulator projects all 1,000 SKUs or 500
customers per request; the client builds, and httpx re-parses, a URL of up to ~4,000 characters),
the kit's own work ~34 us per event (cProfile shares): envelope and payload validation ~25%,
look-up planning and document building (two sha256 per document) ~40%, grouping ~15%, Powertools'
batch response ~7%, handing documents to the target ~6%.

#### The floor, now measured by every bench run (2026-12-03, third session)

`make bench` now also reports, in one process and alternating (no HTTP send): the raw pass-through,
the same plus only pydantic-core's validation of each item's mapped payload ("raw + validation": no
records, dedupe or wrappers), the same with the file-drop source's read ("read + validation"), and
the kit's own stream. In the run of 12:47 UTC (load 0.4): raw 11.8 µs, raw + validation 28.3 µs,
read + validation 38.1 µs, own 41.2 µs per product item. So, per item, validation alone costs
16.5 µs and the read's per-row work (record, key, `updated_at` check, origin, dedupe) 9.7 µs, while
the bench's raw pass-through with its HTTP send costs 18.0 µs (10k). Own cost is their sum:
18.0 + 16.5 + 9.7 = 44.2 µs, measured 44.3 µs (2.46x): the kit's stream adds nothing beyond the
validation and the read. A 2x own cost leaves 18 µs for both; the validation alone takes 16.5,
leaving 1.5 µs for the per-row read work that costs 9.7 today and ~4-5 µs even written as one flat
loop. Also re-tried: `extra="forbid"` in the fast schema instead of the equality check (the
contracts forbid extras anyway): no gain (A/B in alternating processes), since pydantic-core then
walks the input keys once more, which is what the equality costs.

### Webhook p99 (goal <= 2 ms)

Judged on the handler thread's CPU time; the wall-clock p99 on this shared machine is dominated by
the process being descheduled (see the load average), which a Lambda's own vCPU does not do.

### Webhook cold import (issue 16, goal <= 1.5x `import boto3`): 1.83-1.86x -> 1.62-1.65x, missed

#### What was changed (2026-12-03)

- **No pydantic-settings**: `Settings` is a plain pydantic model fed by a small case-insensitive
  environment reader (`norcekit.settings.environ_values`, two aliases); the package and what it
  imports (dotenv, asyncio, its cloud providers) left the layer.
- **One event area per cold start**: the payload models live in `norce/event_models/` (one module
  per area); the receiver imports only the received type's module. `defer_build` had postponed the
  22 models' validators, not their classes.
- **Built on first use**: the quarantined/error answers and the quarantine's read model, which a
  queued webhook never uses; the S3 client (quarantine, claim check), which its first request no
  longer creates.

#### Before/after, one run each (not re-measurable by the bench once merged)

Layers built by `layers/norcekit/Makefile` for the host; fresh `python -I -S -B` processes,
alternating, median of 11; before = main at 41c0fd1; "first request" = the bench's cold-start
figure (one authentic event, secret and queue over HTTP to the loopback fake). Load 0.4-0.9.

| Run | import boto3 | floor | handler import before -> after | import + first request before -> after |
|---|---:|---:|---:|---:|
| 10:30 UTC | 426 ms | 1.40x | 1.86x -> 1.65x | 2.62x -> 2.16x (1,115 -> 921 ms) |
| 10:34 UTC | 390 ms | 1.41x | 1.83x -> 1.62x | 2.60x -> 2.10x (1,013 -> 821 ms) |

"floor" is `import boto3` + pydantic with one model + Powertools `Logger, Metrics, Tracer`: what
the first request cannot do without (it validates with pydantic and logs and counts with
Powertools). Above it, norcekit's own modules take ~30 ms of in-process import time (settings
model ~9 ms, queue envelope ~5, validation with orjson ~4, observability ~3.5, webhook answers ~3,
quarantine ~2), all used by the first request. The rest of the gap is process teardown, which the
bench's whole-process wall time includes and a Lambda cold start does not: ending both processes
with `os._exit(0)` right after the import gave 1.53x instead of 1.63x in one run (floor 1.43x).

#### No plugin scan, and the floor in every bench run (2026-12-03, third session)

- **`PYDANTIC_DISABLE_PLUGINS=__all__`** in every function's environment (template `Globals`; the
  bench runs with the template's constant variables, a test keeps them equal). Without it, the
  first model built reads every installed distribution's entry points looking for pydantic plugins;
  norcekit has none. One run, alternating, median of 11: 1.58x -> 1.50x `import boto3`.
- **The floor is a bench figure now** (`import boto3`, pydantic with one model built, Powertools
  `Logger` and `Metrics`, from the same built layer, alternating with the handler; median of 15).
  In the run of 12:47 UTC it was 1.49x, with the handler at 1.75x; a quick run (3 repetitions) minutes before gave 1.40x
  and 1.59x. The goal sits at or just above what any handler that validates with pydantic and logs
  with Powertools pays before its own first line; meeting it means taking pydantic off the
  receiver's import path (its settings, queue envelope and answers), which the first request needs.
- **Not done: `gc.freeze()` after the import.** It cut the bench's handler figure by ~78 ms in one
  run (498 -> 420 ms), all of it in the process's exit (the final collection no longer walks the
  imported objects), which a Lambda cold start never reaches; counting it would flatter the figure.
"""
