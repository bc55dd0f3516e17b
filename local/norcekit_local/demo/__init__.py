"""``make demo`` (``python -m norcekit_local.demo``): the whole of norcekit, end to end, on loopback.

Starts the local stack in this process (moto, the Norce emulator, the webhook front, the SQS
consumer, the HTTP sink and the job monitor ticks) and tells the story a merchant cares about,
checking every step against what actually happened:

1. full imports of every entity from the sample ERP export, tracked to success by the job monitor;
   the emulator's catalogue matches the source;
2. the ERP changes (prices, stock, a new product, a removed product, a customer; and a product
   deleted outright, which only a full import can notice): delta imports, then a full import;
3. Norce's change events → webhook → queue → Query look-up → HTTP sink, S3 and EventBridge;
4. what goes wrong is kept: a malformed webhook and a malformed source row in the quarantine, a
   target that refuses a document → DLQ → redrive once it accepts again;
5. a summary (also ``<root>/out/summary.json``) and the outputs under ``<root>/out/``.

Exit 0 only when every check passed; otherwise the failed stage, what was expected and what was
seen, and exit 1. ``--sabotage`` breaks one thing on purpose to show (and test) that.
"""

from __future__ import annotations

from .run import main

__all__ = ["main"]
