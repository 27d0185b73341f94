"""Storage: SQLModel tables, the engine for SQLite or PostgreSQL, and Alembic migrations.

Called by the composition root (`mdm_bridge.service`) and, later, the reconcile loop. Imports only
the shared vocabulary and the pure packages below it.
"""

# Every table module, so the metadata (and Alembic's view of it) is complete on any import.
from mdm_bridge.store import access, audit, engine_tables, policy_versions, records, tables

__all__ = ["access", "audit", "engine_tables", "policy_versions", "records", "tables"]
