"""Level close: quotas (择优), lapse or escalate, forwarding up the route, and when a level may close."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Deadline, LevelWindow
from models.deadline import DeadlineState
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import RuleViolation
from tasks.review.level_close import close_due_levels, close_level

from .conftest import bj, dump, level, write_profile

pytestmark = pytest.mark.postgres  # also runs on PostgreSQL when SRDI_TEST_POSTGRES_URL is set

S, P = ApplicationStatus, ReviewLevel


def close_due(world):
    with world.engine.begin() as c:
        return close_due_levels(c, world.clock.now())


def close(world, call, lvl, code, by="system"):
    with world.engine.begin() as c:
        return close_level(c, call, lvl, code, world.clock.now(), by)


def window(world, call, lvl, code):
    with world.engine.connect() as c:
        return c.execute(select(LevelWindow).where(LevelWindow.call_id == call, LevelWindow.level == lvl,
                                                   LevelWindow.jurisdiction_code == code)).first()


def deadline_state(world, call, lvl, code):
    with world.engine.connect() as c:
        return c.execute(select(Deadline.state).where(Deadline.key == f"level:{call}:{lvl}:{code}")).scalar()


def test_a_county_whose_applications_are_all_decided_closes_and_forwards_its_recommended_list(world, programmes_dir):
    call = world.open("ladder")
    a, b, c, d = world.apply(call, {"130102": 4})
    world.decide(a, "recommend", score=Decimal(91))
    world.decide(b, "recommend")
    world.decide(c, "reject", reason="不符合条件")
    world.decide(d, "return", reason="补材料")
    with pytest.raises(RuleViolation, match="尚有 1 件未办结，截止时间 2026-03-20 17:30"):
        close(world, call, "county", "130102")
    with world.engine.begin() as conn:
        from tasks.review.decisions import withdraw
        withdraw(conn, d, world.applicant(d))
    summary = close(world, call, "county", "130102")
    assert (summary["closed"], summary["forwarded"], summary["windows_opened"]) == (1, 2, 1)
    up = world.app(a)
    assert (up.level, up.review_jurisdiction_code, up.status, up.score) == (P.municipal, "130100", S.pending, None)
    forward = world.log(a)[-1]
    assert (forward.action, forward.from_level, forward.to_level, forward.actor, forward.jurisdiction_code, forward.step_key) == (
        "forward", P.county, P.municipal, "system", "130102", f"close:{call}:county:130102")
    assert world.app(c).status == S.rejected and world.app(d).status == S.withdrawn
    county = window(world, call, "county", "130102")
    assert (county.close_reason, county.closed_by, county.outcome["forwarded"]) == ("all_decided", "system", 2)
    assert window(world, call, "municipal", "130100").due_at == bj(2026, 4, 10, 17, 30)
    assert deadline_state(world, call, "county", "130102") == DeadlineState.met
    assert deadline_state(world, call, "municipal", "130100") == DeadlineState.open


def test_at_the_deadline_undecided_ones_escalate_with_the_lateness_and_unresubmitted_returns_lapse(world, programmes_dir, clock):
    call = world.open("ladder")
    pending, returned, done = world.apply(call, {"130104": 3})
    world.decide(returned, "return", reason="补材料")
    world.decide(done, "recommend")
    assert close_due(world)["closed"] == 0
    clock.set(bj(2026, 3, 21, 9))
    summary = close_due(world)["calls"][call]
    assert (summary["forwarded"], summary["escalated"], summary["lapsed"]) == (1, 1, 1)
    late = world.app(pending)
    assert (late.level, late.status) == (P.municipal, S.pending)
    escalation = world.log(pending)[-1]
    assert escalation.action == "escalate" and "桥西区county审核逾期未审核（截止 2026-03-20 17:30），按规定报送上级" in escalation.reason
    lapse = world.log(returned)[-1]
    assert (world.app(returned).status, lapse.action) == (S.lapsed, "lapse")
    assert "退回修改后逾期未重新提交，视同未申报" in lapse.reason
    assert deadline_state(world, call, "county", "130104") == DeadlineState.missed
    assert window(world, call, "county", "130104").close_reason == "deadline"


@pytest.mark.parametrize("at_once", [20_000, 2])      # 2: the windows are closed a group at a time (bounded memory)
def test_a_level_closed_in_groups_of_windows_ends_as_one_close_does(world, programmes_dir, clock, at_once, monkeypatch):
    monkeypatch.setattr("tasks.review.level_close.CLOSE_AT_ONCE", at_once)
    call = world.open("ladder")
    apps = world.apply(call, {"130102": 3, "130104": 2, "130105": 2, "130108": 1})
    for app_id in apps[:5]:
        world.decide(app_id, "recommend")
    world.decide(apps[5], "return", reason="补材料")
    clock.set(bj(2026, 3, 21, 9))
    summary = close_due(world)["calls"][call]
    assert (summary["closed"], summary["forwarded"], summary["escalated"], summary["lapsed"], summary["windows_opened"]) == (4, 5, 2, 1, 1)
    assert {world.app(a).status for a in apps[:5] + apps[6:]} == {S.pending}
    assert {world.app(a).review_jurisdiction_code for a in apps[:5] + apps[6:]} == {"130100"}
    assert all(window(world, call, "county", code).closed_at for code in ("130102", "130104", "130105", "130108"))


def test_a_profile_that_says_lapse_treats_undecided_applications_as_not_applied(world, programmes_dir, clock):
    write_profile(programmes_dir, "lapsing", [level("county", "2026-03-20T17:30:00+08:00", on_missed="lapse"),
                                              level("municipal", "2026-04-10T17:30:00+08:00")])
    call = world.open("lapsing")
    [app_id] = world.apply(call, {"130102": 1})
    clock.set(bj(2026, 3, 23))
    close_due(world)
    assert world.app(app_id).status == S.lapsed
    assert "逾期未审核，视同未申报（长安区county审核截止 2026-03-20 17:30）" == world.log(app_id)[-1].reason


def test_the_provincial_quota_chooses_by_score_then_tie_break_with_a_category_sub_cap(world, programmes_dir, clock):
    """ladder: ≤3 at the province, of which ≤1 of class c (the shape of 79号's 200 / 10)."""
    call = world.open("ladder")
    [early] = world.apply(call, {"130203": 1}, start=30)               # submitted an hour before the others
    clock.advance(timedelta(hours=1))
    ids = world.apply(call, {"130102": 3}, category="c") + world.apply(call, {"130602": 2}, start=10) + [early]
    for app_id in ids:
        world.decide(app_id)
    clock.set(bj(2026, 3, 21))
    close_due(world)
    for app_id in ids:
        world.decide(app_id)
    clock.set(bj(2026, 4, 11))
    close_due(world)
    c1, c2, c3, n1, n2, n3 = ids
    for app_id, value in {c1: 95, c2: 99, c3: 80, n1: 70, n2: 70, n3: 70}.items():
        world.decide(app_id, score=Decimal(value))
    clock.set(bj(2026, 4, 20))          # all decided, every lower level closed: the province may close early
    summary = close_due(world)["calls"][call]
    assert (summary["kept"], summary["quota_cut"]) == (3, 3)
    kept = {app_id for app_id in ids if world.app(app_id).status == S.recommended}
    assert kept == {c2, n3, n1}        # 99; then the 70s: the earliest submitted, then the lower 申报编号
    assert world.app(c2).level == P.provincial            # final level: stays recommended for the 公示
    assert world.log(c1)[-1].reason == "超出c类名额（1名），按评分从高到低、提交时间先后、申报编号排第2名"
    assert world.log(n2)[-1].reason == "超出河北省省级推荐名额（3名），按评分从高到低、提交时间先后、申报编号排第6名"
    assert world.app(n2).status == S.quota_cut and world.app(c3).status == S.quota_cut


def test_per_city_caps_and_a_soft_quota(world, programmes_dir, clock):
    write_profile(programmes_dir, "capped", [
        level("county", "2026-03-20T17:30:00+08:00"),
        level("provincial", "2026-04-30T17:30:00+08:00", quota={"per_jurisdiction": {"130100": 1}}),
    ])
    write_profile(programmes_dir, "soft", [
        level("county", "2026-03-20T17:30:00+08:00"), level("provincial", "2026-04-30T17:30:00+08:00", quota={"max": 1, "soft": True}),
    ])
    results = {}
    for pid in ("capped", "soft"):
        call = world.open(pid)
        ids = world.apply(call, {"130102": 1, "130104": 1, "130602": 1}, start=1 if pid == "capped" else 20)
        for app_id in ids:
            world.decide(app_id, score=Decimal(90))
        clock.set(bj(2026, 3, 21))
        close_due(world)
        for n, app_id in enumerate(ids):
            world.decide(app_id, score=Decimal(90 - n))
        results[pid] = (ids, close(world, call, "provincial", "130000"))
        clock.set(bj(2026, 3, 2, 9))
    ids, summary = results["capped"]
    assert [world.app(i).status for i in ids] == [S.recommended, S.quota_cut, S.recommended]   # ≤1 from 石家庄
    assert "超出石家庄市推荐名额（1名）" in world.log(ids[1])[-1].reason
    ids, summary = results["soft"]
    assert summary["over_soft_quota"] == 2 and {world.app(i).status for i in ids} == {S.recommended}


def test_a_level_waits_for_every_lower_level_inside_it_even_past_its_own_deadline(world, programmes_dir, clock):
    write_profile(programmes_dir, "late-county", [level("county", "2026-05-20T17:30:00+08:00"),
                                                  level("municipal", "2026-04-10T17:30:00+08:00")])
    call = world.open("late-county")
    fast, slow = world.apply(call, {"130102": 1, "130104": 1})
    world.decide(fast)
    close(world, call, "county", "130102")
    clock.set(bj(2026, 4, 11))
    summary = close_due(world)["calls"][call]
    assert summary["waiting_examples"] == {"county:130104": "尚有 1 件未办结，截止时间 2026-05-20 17:30",
                                           "municipal:130100": "下级尚有 1 个审核未结束"}
    assert window(world, call, "municipal", "130100").closed_at is None


def test_an_early_close_waits_until_the_call_stops_taking_applications(world, programmes_dir, clock):
    call = world.open("ladder", closes_at=clock.now() + timedelta(days=5))
    [app_id] = world.apply(call, {"130102": 1})
    world.decide(app_id)
    with pytest.raises(RuleViolation, match="批次仍在受理申报"):
        close(world, call, "county", "130102")
    clock.advance(timedelta(days=6))
    assert close_due(world)["closed"] == 1


def test_a_final_level_that_escalates_waits_for_its_decisions_and_marks_them_late(world, programmes_dir, clock):
    write_profile(programmes_dir, "two", [level("county", "2026-03-20T17:30:00+08:00"),
                                          level("municipal", "2026-04-10T17:30:00+08:00")])
    call = world.open("two")
    [app_id] = world.apply(call, {"130102": 1})
    world.decide(app_id)
    close(world, call, "county", "130102")
    clock.set(bj(2026, 4, 13))
    waiting = close_due(world)["calls"][call]["waiting_examples"]["municipal:130100"]
    assert "终审层级已逾期（截止 2026-04-10 17:30），尚有 1 件待办理" in waiting
    world.decide(app_id, "recommend", reason="同意")
    assert world.log(app_id)[-1].reason == "同意；逾期办理（截止 2026-04-10 17:30）"
    assert close_due(world)["closed"] == 1 and world.app(app_id).status == S.recommended
    assert deadline_state(world, call, "municipal", "130100") == DeadlineState.met


def test_closing_by_a_bureau_user_is_recorded_and_a_closed_window_is_left_alone(world, programmes_dir):
    call = world.open("ladder")
    [app_id] = world.apply(call, {"130102": 1})
    world.decide(app_id)
    clerk = world.reviewer("130100", Role.clerk)
    close(world, call, "county", "130102", by=clerk)
    assert window(world, call, "county", "130102").closed_by == clerk
    assert world.log(app_id)[-1].actor == clerk
    before = dump(world.engine)
    again = close(world, call, "county", "130102")
    assert again["already_closed"] is True and again["forwarded"] == 1 and dump(world.engine) == before


def test_running_the_due_step_twice_changes_nothing_the_second_time(world, programmes_dir, clock):
    call = world.open("ladder")
    ids = world.apply(call, {"130102": 2, "130602": 2})
    world.decide(ids[0])
    world.decide(ids[1], "return", reason="补材料")
    clock.set(bj(2026, 3, 21))
    assert close_due(world)["closed"] == 2
    before = dump(world.engine)
    clock.advance(timedelta(minutes=5))
    assert close_due(world)["closed"] == 0
    assert dump(world.engine) == before
