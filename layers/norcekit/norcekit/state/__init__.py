"""State: the Norce token, locks, watermarks, import runs, Connect jobs and their finish claims.

The rest of the kit types against the protocols in :mod:`norcekit.state.interfaces`; the DynamoDB
single table (:mod:`norcekit.state.table`, every key format in :class:`~norcekit.state.table.Keys`)
and :mod:`norcekit.state.memory` implement them.
"""

from norcekit.state.table import TABLE_DEFINITION, TTL_ATTRIBUTE, ConditionFailed, StateTable, create_table

__all__ = ["TABLE_DEFINITION", "TTL_ATTRIBUTE", "ConditionFailed", "StateTable", "create_table"]
