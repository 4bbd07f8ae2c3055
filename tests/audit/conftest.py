"""Fixtures for the audit-trail tests: the pipeline tests' world (calls, reviewers, decisions)."""

from tests.pipeline.conftest import programmes_dir, world  # noqa: F401
