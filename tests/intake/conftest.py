"""Fixtures for intake tests: open calls of real profiles, and a way to count what was written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.application import Application
from models.eligibility import EligibilityVerdict
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.transition import Transition
from tasks.reference.calls import open_call

CALL_YEAR = 2026          # 上年 = 2025, 近两年 = 2024–2025


def counts(engine) -> dict[str, int]:
    """How many rows intake can write, table by table."""
    with engine.connect() as connection:
        return {model.__name__: connection.execute(select(func.count()).select_from(model)).scalar()
                for model in (Enterprise, EnterpriseFinancialYear, Application, Transition, EligibilityVerdict)}


def open_test_call(engine, programme_id: str, year: int = CALL_YEAR, batch=None) -> str:
    with engine.begin() as connection:
        return open_call(connection, programme_id, year, batch=batch).id


@pytest.fixture
def hebei_call(engine, clock) -> str:
    return open_test_call(engine, "hebei-provincial-srdi")


@pytest.fixture
def national_call(engine, clock) -> str:
    return open_test_call(engine, "national-little-giant")
