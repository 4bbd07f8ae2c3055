"""`srdi pipeline advance` carries a final list through 公示 to 认定; each run twice = once."""

from datetime import timedelta

from sqlalchemy import select

from models import Application
from models.enums import ApplicationStatus
from tasks.due import DUE_STEPS, run_due_steps

from .conftest import dump


def test_the_notice_steps_follow_the_level_close_in_the_registry():
    names = [step.__name__ for step in DUE_STEPS]
    assert names.index("close_due_levels") < names.index("open_due_notices") < names.index("close_due_notices")
    assert names.index("settle_rereviews") < names.index("expire_recognitions")


def test_advance_opens_the_notice_then_recognises_and_reruns_change_nothing(engine, clock, hebei_call):
    first = run_due_steps(clock.now())
    assert first["tasks.notice:open_due_notices"] == {"notices_opened": 1}
    once = dump(engine)
    run_due_steps(clock.now())
    assert dump(engine) == once
    clock.advance(timedelta(days=8))
    assert run_due_steps(clock.now())["tasks.notice:close_due_notices"] == {"notices_closed": 1, "recognised": 5}
    once = dump(engine)
    run_due_steps(clock.now())
    assert dump(engine) == once
    with engine.connect() as c:
        assert set(c.execute(select(Application.status)).scalars()) == {ApplicationStatus.recognised}
