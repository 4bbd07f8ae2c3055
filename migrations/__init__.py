"""Alembic migrations; run them with `srdi db upgrade` (srdi.migrate)."""
