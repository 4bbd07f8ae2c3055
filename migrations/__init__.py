"""Alembic migrations; run them with `srdi db upgrade` (models.migrate)."""
