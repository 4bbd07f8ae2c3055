"""A bare in-memory database for the workflow writer: every table, no foreign keys enforced, no jurisdictions.

Rows are inserted with only the columns a machine needs, so a test states the statuses it starts from.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table)
from models.clock import SHANGHAI
from models.enums import Role
from models.workflow_writer import SystemActor

AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


class Person:
    def __init__(self, username: str, role: Role, jurisdiction_code: str = "130102"):
        self.username, self.role, self.jurisdiction_code = username, role, jurisdiction_code


REVIEWER = Person("reviewer-130102", Role.reviewer)
CLERK = Person("clerk-130000", Role.clerk, "130000")
APPLICANT = Person("applicant-1", Role.applicant)
SYSTEM = SystemActor("130102")


def bare_engine():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def bare():
    engine = bare_engine()
    yield engine
    engine.dispose()


def application_rows(n: int, status: str = "pending", level: str = "county") -> list[dict]:
    return [{"ref": f"SQ-{i:06d}", "call_id": "c1", "enterprise_id": i, "jurisdiction_code": "130102", "level": level,
             "review_jurisdiction_code": "130102", "status": status, "version": 1, "facts": {}} for i in range(1, n + 1)]


def notice_rows(n: int, status: str = "open") -> list[dict]:
    return [{"call_id": "c1", "programme_id": "p1", "level": "provincial", "jurisdiction_code": "130000", "round": i,
             "title": f"公示{i}", "opens_at": AT, "closes_at": AT, "length": 5, "unit": "working_days", "status": status}
            for i in range(1, n + 1)]
