"""The pipeline advance carries a final list through 公示 to 认定; each run twice = once."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Application, Recognition
from models.enums import ApplicationStatus
from models.recognition import RecognitionStatus
from tasks.pipeline.due import DUE_STEPS, run_due_step

from .conftest import HEBEI, dump, legacy_recognition


def advance(now) -> dict:
    """What one advance does, step by step, without Prefect (the flow runs the same function per step)."""
    return {step.ref: run_due_step(step, now) for step in DUE_STEPS}


def test_the_notice_steps_follow_the_level_close_in_the_registry():
    names = [step.run.__name__ for step in DUE_STEPS]
    assert names.index("close_due_levels") < names.index("open_due_notices") < names.index("close_due_notices")
    assert names.index("settle_rereviews") < names.index("expire_recognitions")


def test_advance_opens_the_notice_then_recognises_and_reruns_change_nothing(engine, clock, hebei_call):
    first = advance(clock.now())
    assert first["tasks.notice.publication:open_due_notices"] == {"notices_opened": 1}
    once = dump(engine)
    advance(clock.now())
    assert dump(engine) == once
    clock.advance(timedelta(days=8))
    assert advance(clock.now())["tasks.notice.publication:close_due_notices"] == {"notices_closed": 1, "recognised": 5}
    once = dump(engine)
    advance(clock.now())
    assert dump(engine) == once
    with engine.connect() as c:
        assert set(c.execute(select(Application.status)).scalars()) == {ApplicationStatus.recognised}


def test_advance_expires_titles_once(engine, clock, users):
    old = legacy_recognition(engine, HEBEI, 7, date(2023, 2, 1))     # valid to 2026-01-31
    assert advance(clock.now())["tasks.recognition.titles:expire_recognitions"]["recognitions_expired"] == 1
    once = dump(engine)
    assert advance(clock.now())["tasks.recognition.titles:expire_recognitions"]["recognitions_expired"] == 0
    assert dump(engine) == once
    with engine.connect() as c:
        assert c.execute(select(Recognition.status).where(Recognition.id == old)).scalar_one() == RecognitionStatus.expired


@pytest.mark.slow
def test_the_advance_flow_runs_the_same_steps_through_prefect(engine, clock, hebei_call, prefect_harness):
    from flows.advance import advance_flow

    assert advance_flow()["tasks.notice.publication:open_due_notices"] == {"notices_opened": 1}
    once = dump(engine)
    clock.advance(timedelta(days=8))
    assert advance_flow()["tasks.notice.publication:close_due_notices"] == {"notices_closed": 1, "recognised": 5}
    assert dump(engine) != once
    once = dump(engine)
    advance_flow()
    assert dump(engine) == once
    with engine.connect() as c:
        assert set(c.execute(select(Application.status)).scalars()) == {ApplicationStatus.recognised}
        assert c.execute(select(Recognition.id)).scalars().all() != []
