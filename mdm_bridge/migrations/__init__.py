"""Alembic migrations for the store; run through `mdm-bridge db upgrade` (see store.migrate)."""
