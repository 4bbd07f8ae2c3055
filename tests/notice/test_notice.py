"""公示 → 异议 → 认定 on a Hebei provincial call (5 working days, published by the province)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Application, Deadline, Notice, NoticeEntry, Recognition, Transition
from models.deadline import DeadlineState
from models.enums import ApplicationStatus
from models.errors import Conflict, Forbidden, RuleViolation
from models.notice import NoticeStatus
from models.review import LevelWindow
from models.state_change import StateChange
from tasks.notice.objections import record_objection, resolve_objection
from tasks.notice.publication import close_due_notices, open_due_notices, open_notice

from .conftest import HEBEI, beijing, dump, recommended_list

CLOSES = beijing(2026, 3, 13, 17, 30)   # opened Fri 2026-03-06 09:00 + 5 working days (03-09 … 03-13)


def statuses(engine, call_id):
    with engine.connect() as c:
        return dict(c.execute(select(Application.ref, Application.status).where(Application.call_id == call_id)
                              .order_by(Application.ref)).all())


def refs(engine, call_id):
    return sorted(statuses(engine, call_id))


def test_opening_lists_the_final_level_and_stores_the_close_time(engine, clock, hebei_call):
    with engine.begin() as c:
        [notice_id] = open_notice(c, hebei_call)
    with engine.connect() as c:
        notice = c.execute(select(Notice).where(Notice.id == notice_id)).one()
        entries = c.execute(select(NoticeEntry).where(NoticeEntry.notice_id == notice_id)).all()
        deadline = c.execute(select(Deadline).where(Deadline.key == f"notice:{notice_id}")).one()
        actions = c.execute(select(Transition.action, Transition.to_status).where(Transition.action == "notice-open")).all()
    assert (notice.jurisdiction_code, notice.closes_at, notice.status) == ("130000", CLOSES, NoticeStatus.open)
    assert "河北省" in notice.title and len(entries) == 5
    assert set(statuses(engine, hebei_call).values()) == {ApplicationStatus.on_notice}
    assert len(actions) == 5 and deadline.due_at == CLOSES and deadline.kind == "notice_close"


def test_a_notice_is_not_opened_while_the_final_level_is_still_deciding(engine, clock, hebei_call):
    with engine.begin() as c:
        c.execute(LevelWindow.__table__.update().values(closed_at=None))
    with engine.begin() as c, pytest.raises(RuleViolation, match="尚未结束"):
        open_notice(c, hebei_call)
    with engine.begin() as c:
        assert open_due_notices(c) == {"notices_opened": 0}
    assert set(statuses(engine, hebei_call).values()) == {ApplicationStatus.recommended}


def test_an_objection_inside_the_window_puts_the_application_on_hold(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    first = refs(engine, hebei_call)[0]
    clock.set(beijing(2026, 3, 13, 17, 29))
    with engine.begin() as c:
        record_objection(c, first, objector="张某", contact="13800000000", grounds="研发投入数据不实", username="hb-clerk")
    assert statuses(engine, hebei_call)[first] == ApplicationStatus.on_hold


def test_an_objection_after_the_close_is_refused_naming_the_close_in_beijing_time(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    first = refs(engine, hebei_call)[0]
    clock.set(CLOSES)
    with engine.begin() as c, pytest.raises(RuleViolation, match=r"已于 2026年03月13日 17:30（北京时间） 截止"):
        record_objection(c, first, objector="张某", contact="138", grounds="数据不实", username="hb-clerk")
    assert statuses(engine, hebei_call)[first] == ApplicationStatus.on_notice


def test_only_a_bureau_covering_the_publisher_records_objections(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    with engine.begin() as c, pytest.raises(Forbidden, match="130100"):
        record_objection(c, refs(engine, hebei_call)[0], objector="张某", contact="138", grounds="x", username="sjz-clerk")


def test_upheld_removes_with_the_finding_kept_and_rejected_puts_it_back(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    a, b = refs(engine, hebei_call)[:2]
    with engine.begin() as c:
        oa = record_objection(c, a, objector="甲", contact="1", grounds="虚报营业收入", username="hb-clerk")
        ob = record_objection(c, b, objector="乙", contact="2", grounds="专利不属实", username="hb-clerk")
    clock.advance(timedelta(days=1))
    with engine.begin() as c:
        resolve_objection(c, oa, "upheld", "经核查，2025年营业收入虚报", "hb-clerk")
        resolve_objection(c, ob, "rejected", "专利权属经核实无误", "hb-clerk")
    now = statuses(engine, hebei_call)
    assert (now[a], now[b]) == (ApplicationStatus.removed, ApplicationStatus.on_notice)
    with engine.connect() as c:
        reason = c.execute(select(Transition.reason).join(Application, Application.id == Transition.application_id)
                           .where(Application.ref == a, Transition.to_status == ApplicationStatus.removed)).scalar_one()
    assert "营业收入虚报" in reason


def test_closing_recognises_only_applications_without_open_or_upheld_objections(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    a, b, c_ref, *rest = refs(engine, hebei_call)
    with engine.begin() as c:
        oa = record_objection(c, a, objector="甲", contact="1", grounds="g", username="hb-clerk")
        record_objection(c, b, objector="乙", contact="2", grounds="g", username="hb-clerk")       # stays open
        oc = record_objection(c, c_ref, objector="丙", contact="3", grounds="g", username="hb-clerk")
        resolve_objection(c, oa, "upheld", "属实", "hb-clerk")
        resolve_objection(c, oc, "rejected", "不属实", "hb-clerk")
    clock.set(CLOSES)
    with engine.begin() as c:
        assert close_due_notices(c) == {"notices_closed": 1, "recognised": 3}
    now = statuses(engine, hebei_call)
    assert now[a] == ApplicationStatus.removed and now[b] == ApplicationStatus.on_hold
    assert {now[r] for r in [c_ref, *rest]} == {ApplicationStatus.recognised}
    with engine.connect() as c:
        recognised = c.execute(select(Application.ref).join(Recognition, Recognition.application_id == Application.id)).scalars().all()
        state = c.execute(select(Deadline.state).where(Deadline.kind == "notice_close")).scalar_one()
    assert sorted(recognised) == sorted([c_ref, *rest]) and state == DeadlineState.met


def test_an_objection_rejected_after_the_close_recognises_at_once(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    held = refs(engine, hebei_call)[0]
    with engine.begin() as c:
        objection = record_objection(c, held, objector="甲", contact="1", grounds="g", username="hb-clerk")
    clock.set(CLOSES + timedelta(days=3))
    with engine.begin() as c:
        close_due_notices(c)
    with engine.begin() as c:
        result = resolve_objection(c, objection, "rejected", "经调查不属实", "hb-clerk")
    assert result["application_status"] == ApplicationStatus.recognised
    with engine.connect() as c:
        valid_from = c.execute(select(Recognition.valid_from).join(Application, Application.id == Recognition.application_id)
                               .where(Application.ref == held)).scalar_one()
    assert valid_from == date(2026, 3, 13)   # the notice's close date, as for the others


@pytest.mark.parametrize("at_once", [5000, 3])   # 3: a long list is issued in parts; the numbering runs on across them
def test_certificates_are_numbered_per_programme_and_year_without_gaps_or_repeats(engine, clock, hebei_call, at_once, monkeypatch):
    monkeypatch.setattr("tasks.recognition.titles.ISSUE_AT_ONCE", at_once)
    second = recommended_list(engine, HEBEI, 2026, 3, opens_at=clock.now() - timedelta(days=1), first=100, batch=2)
    with engine.begin() as c:
        open_notice(c, hebei_call)
        open_notice(c, second)
    clock.set(CLOSES)
    with engine.begin() as c:
        assert close_due_notices(c)["recognised"] == 8
    with engine.connect() as c:
        rows = c.execute(select(Recognition).order_by(Recognition.certificate_no)).all()
        deadlines = c.execute(select(Deadline.key, Deadline.due_at).where(Deadline.kind == "re_review")).all()
    assert [r.certificate_no for r in rows] == [f"HEBEI-PROVINCIAL-SRDI-2026-{i:05d}" for i in range(1, 9)]
    assert {(r.valid_from, r.valid_to, r.re_review_due) for r in rows} == {(date(2026, 3, 13), date(2029, 3, 12), date(2029, 3, 12))}
    assert {key for key, _ in deadlines} == {f"rereview:{r.id}:2029" for r in rows}
    assert {due for _, due in deadlines} == {beijing(2029, 3, 12, 23, 59).replace(second=59)}


def test_every_step_run_twice_leaves_the_database_as_once(engine, clock, hebei_call):
    with engine.begin() as c:
        open_due_notices(c)
    once = dump(engine)
    with engine.begin() as c:
        assert open_due_notices(c) == {"notices_opened": 0}
    assert dump(engine) == once
    clock.set(CLOSES + timedelta(hours=1))
    with engine.begin() as c:
        close_due_notices(c)
    once = dump(engine)
    with engine.begin() as c:
        assert close_due_notices(c) == {"notices_closed": 0, "recognised": 0}
    assert dump(engine) == once


def test_a_failed_close_changes_nothing(engine, clock, hebei_call, monkeypatch):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    clock.set(CLOSES)
    before = dump(engine)
    import tasks.notice.publication as notice_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(notice_module, "issue_recognitions", broken)
    with pytest.raises(RuntimeError), engine.begin() as c:
        close_due_notices(c)
    assert dump(engine) == before


def test_an_objection_is_resolved_once_the_second_clerk_is_told_who_did_it(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    with engine.begin() as c:
        objection = record_objection(c, refs(engine, hebei_call)[0], objector="甲", contact="1", grounds="g", username="hb-clerk")
    with engine.begin() as c:
        resolve_objection(c, objection, "rejected", "不属实", "hb-clerk")
    with engine.begin() as c, pytest.raises(Conflict, match="由 hb-clerk 处理"):
        resolve_objection(c, objection, "upheld", "属实", "hb-clerk")


def test_a_resolution_needs_an_outcome_and_a_finding(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
        objection = record_objection(c, refs(engine, hebei_call)[0], objector="甲", contact="1", grounds="g", username="hb-clerk")
    for outcome, finding, message in (("maybe", "x", "upheld（异议成立）或 rejected"), ("upheld", " ", "须写明调查结论")):
        with engine.begin() as c, pytest.raises(RuleViolation, match=message):
            resolve_objection(c, objection, outcome, finding, "hb-clerk")
    assert statuses(engine, hebei_call)[refs(engine, hebei_call)[0]] == ApplicationStatus.on_hold


def test_no_objection_against_an_application_removed_from_the_list(engine, clock, hebei_call):
    with engine.begin() as c:
        open_notice(c, hebei_call)
    first = refs(engine, hebei_call)[0]
    with engine.begin() as c:
        objection = record_objection(c, first, objector="甲", contact="1", grounds="g", username="hb-clerk")
        resolve_objection(c, objection, "upheld", "属实", "hb-clerk")
    with engine.begin() as c, pytest.raises(RuleViolation, match="已不在公示名单上"):
        record_objection(c, first, objector="乙", contact="2", grounds="g", username="hb-clerk")


def test_the_notice_its_entries_and_objections_keep_their_history_in_the_state_change_log(engine, clock, hebei_call):
    with engine.begin() as c:
        [notice_id] = open_notice(c, hebei_call)
    a = refs(engine, hebei_call)[0]
    with engine.begin() as c:
        objection = record_objection(c, a, objector="甲", contact="1", grounds="g", username="hb-clerk")
        resolve_objection(c, objection, "rejected", "不属实", "hb-clerk")
    clock.set(CLOSES)
    with engine.begin() as c:
        close_due_notices(c)
        entry = c.execute(select(NoticeEntry.id).join(Application, Application.id == NoticeEntry.application_id)
                          .where(Application.ref == a)).scalar_one()
        log = c.execute(select(StateChange.machine, StateChange.subject_id, StateChange.action, StateChange.from_status,
                               StateChange.to_status, StateChange.actor).order_by(StateChange.id)).all()
    history = lambda machine, subject: [(r.action, r.from_status, r.to_status, r.actor)  # noqa: E731
                                        for r in log if (r.machine, r.subject_id) == (machine, subject)]
    assert history("notice", notice_id) == [("open", None, "open", "system"), ("close", "open", "closed", "system")]
    assert history("objection", objection) == [("record", None, "open", "hb-clerk"), ("reject", "open", "rejected", "hb-clerk")]
    assert history("notice_entry", entry) == [("list", None, "listed", "system"), ("hold", "listed", "on_hold", "hb-clerk"),
                                              ("restore", "on_hold", "listed", "hb-clerk"),
                                              ("recognise", "listed", "recognised", "system")]
