"""National 小巨人: province → ministry; the ministry scores and decides, publishes the 公示, recognises;
the recognised list is what the 重点"小巨人" selection reads."""

from datetime import timedelta

from sqlalchemy import select

from models import Application, Notice, Recognition, Transition
from models.clock import SHANGHAI
from tasks.notice.publication import close_due_notices, open_due_notices
from tasks.recognition.titles import active_recognitions

from .conftest import NATIONAL, through_pipeline


def test_the_ministry_publishes_and_its_recognised_list_feeds_funding(engine, clock, users):
    call_id = through_pipeline(engine, clock, NATIONAL, 2026, range(1, 7), reject=[4])
    with engine.connect() as c:
        scored = c.execute(select(Transition.actor, Transition.score).where(
            Transition.action == "recommend", Transition.to_level == "ministry")).all()
    assert {actor for actor, _ in scored} == {"rv-000000"} and len(scored) == 5 and all(s is not None for _, s in scored)
    with engine.begin() as c:
        assert open_due_notices(c) == {"notices_opened": 1}
        notice = c.execute(select(Notice)).one()
    assert (notice.jurisdiction_code, notice.level, notice.call_id) == ("000000", "ministry", call_id)
    assert "工业和信息化部" in notice.title
    clock.set(notice.closes_at + timedelta(seconds=1))
    with engine.begin() as c:
        close_due_notices(c)
        giants = active_recognitions(c, "little_giant")
        none_provincial = active_recognitions(c, "provincial_srdi")
    assert len(giants) == 5 and none_provincial == []
    assert {g["certificate_no"][:len("NATIONAL-LITTLE-GIANT-2026-")] for g in giants} == {"NATIONAL-LITTLE-GIANT-2026-"}
    recognised_on = notice.closes_at.astimezone(SHANGHAI).date()
    assert {(g["jurisdiction_code"], g["valid_from"], g["valid_to"]) for g in giants} == {
        ("000000", recognised_on, recognised_on.replace(year=recognised_on.year + 3) - timedelta(days=1))}


def test_a_list_that_confers_no_title_is_published_and_closed_without_certificates(engine, clock, users):
    # 重点"小巨人" funding selection: a 公示 by the ministry, but the profile grants no validity.
    call_id = through_pipeline(engine, clock, "key-little-giant-funding", 2026, range(1, 4))
    with engine.begin() as c:
        open_due_notices(c)
        closes_at = c.execute(select(Notice.closes_at)).scalar_one()
    clock.set(closes_at)
    with engine.begin() as c:
        assert close_due_notices(c) == {"notices_closed": 1, "recognised": 3}
        assert c.execute(select(Recognition.id)).first() is None
        assert set(c.execute(select(Application.status).where(Application.call_id == call_id)).scalars()) == {"recognised"}
