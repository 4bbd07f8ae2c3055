"""The real Prefect flows: a whole notice and a recognition sweep, each run twice = once."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Application, Recognition
from models.enums import ApplicationStatus
from models.recognition import RecognitionStatus

from .conftest import HEBEI, dump, legacy_recognition

pytestmark = pytest.mark.slow


def test_notice_step_opens_then_recognises_and_a_rerun_changes_nothing(engine, clock, hebei_call, prefect_harness):
    from flows.notice import notice_step

    assert notice_step()["notices_opened"] == 1
    once = dump(engine)
    assert notice_step() == {"notices_opened": 0, "notices_closed": 0, "recognised": 0}
    assert dump(engine) == once
    clock.advance(timedelta(days=8))
    assert notice_step()["recognised"] == 5
    once = dump(engine)
    notice_step()
    assert dump(engine) == once
    with engine.connect() as c:
        assert set(c.execute(select(Application.status)).scalars()) == {ApplicationStatus.recognised}
        assert c.execute(select(Recognition.id)).scalars().all() != []


def test_recognition_sweep_expires_titles_once(engine, clock, users, prefect_harness):
    from flows.rereview import recognition_sweep

    old = legacy_recognition(engine, HEBEI, 7, date(2023, 2, 1))     # valid to 2026-01-31
    assert recognition_sweep()["recognitions_expired"] == 1
    once = dump(engine)
    assert recognition_sweep()["recognitions_expired"] == 0
    assert dump(engine) == once
    with engine.connect() as c:
        assert c.execute(select(Recognition.status).where(Recognition.id == old)).scalar_one() == RecognitionStatus.expired
