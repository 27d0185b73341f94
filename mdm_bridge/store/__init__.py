"""Storage: SQLModel tables, the engine for SQLite or PostgreSQL, and Alembic migrations.

Called by the composition root (`mdm_bridge.service`) and, later, the reconcile loop. Imports only
the shared vocabulary and the pure packages below it.
"""
