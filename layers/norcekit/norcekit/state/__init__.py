"""State in the DynamoDB single table: token, locks, watermarks, import runs and Connect jobs."""

from norcekit.state.table import TABLE_DEFINITION, TTL_ATTRIBUTE, ConditionFailed, StateTable, create_table

__all__ = ["TABLE_DEFINITION", "TTL_ATTRIBUTE", "ConditionFailed", "StateTable", "create_table"]
