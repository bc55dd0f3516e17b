"""The state stores in memory: same protocols, same behaviour, plain dicts (unit tests, tools).

Every store built on one :class:`MemoryState` sees the same records, like stores on one DynamoDB
table; a single re-entrant lock makes each operation atomic, which is what the DynamoDB stores get
from their conditional writes. Records are held as JSON-shaped dicts and validated on every read,
so callers get fresh copies and the same normalisation as from the table. Nothing here evaluates
DynamoDB expressions: the rules are written out directly (``tests/contracts/state_stores.py`` runs
one behaviour suite against both implementations).
"""

from norcekit.state.memory.leases import MemoryFinishClaims, MemoryLease, MemoryLocks, MemoryTokenStore
from norcekit.state.memory.records import MemoryJobStore, MemoryRunStore, MemoryState, MemoryWatermarkStore

__all__ = [
    "MemoryFinishClaims",
    "MemoryJobStore",
    "MemoryLease",
    "MemoryLocks",
    "MemoryRunStore",
    "MemoryState",
    "MemoryTokenStore",
    "MemoryWatermarkStore",
]
