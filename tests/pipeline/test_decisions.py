"""Reviewers' and applicants' acts: every transition, and every refusal with its reason."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from models import Application, LevelWindow, Transition
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import Conflict, Forbidden, NotFound, RuleViolation
from tasks.review.decisions import DecisionItem, decide_many, resubmit, withdraw

from .conftest import LADDER, bj, write_profile

pytestmark = pytest.mark.postgres  # also runs on PostgreSQL when SRDI_TEST_POSTGRES_URL is set


@pytest.fixture
def one(world, programmes_dir):
    call = world.open("ladder")
    [app_id] = world.apply(call, {"130102": 1})
    return app_id


def test_recommend_with_a_score_records_who_what_when_and_bumps_the_version(world, one, clock):
    outcome = world.decide(one, "recommend", score=Decimal("88.50"), reason="材料齐全")
    app = world.app(one)
    assert (outcome.status, outcome.version, app.status, app.version, app.score) == (
        ApplicationStatus.recommended, 2, ApplicationStatus.recommended, 2, Decimal("88.50"))
    last = world.log(one)[-1]
    assert (last.action, last.actor, last.role, last.jurisdiction_code, last.from_status, last.to_status,
            last.reason, last.score, last.at) == (
        "recommend", "reviewer-130102", Role.reviewer, "130102", ApplicationStatus.pending, ApplicationStatus.recommended,
        "材料齐全", Decimal("88.50"), clock.now())


def test_return_then_resubmit_brings_it_back_to_the_same_level_then_reject_is_terminal(world, one):
    world.decide(one, "return", reason="缺少审计报告")
    assert world.app(one).status == ApplicationStatus.returned
    with pytest.raises(RuleViolation, match="只有被退回修改的申报可以重新提交"):
        with world.engine.begin() as c:
            resubmit(c, one, world.applicant(one))
            resubmit(c, one, world.applicant(one))
    with world.engine.begin() as c:
        resubmit(c, one, world.applicant(one), reason="已补充审计报告")
    app = world.app(one)
    assert (app.level, app.review_jurisdiction_code, app.status) == (ReviewLevel.county, "130102", ApplicationStatus.pending)
    world.decide(one, "reject", reason="研发投入不达标")
    with pytest.raises(Conflict, match="已由 reviewer-130102 于 .* 作出“不予推荐”（当前状态：不予推荐），您的决定未保存"):
        world.decide(one, "recommend")
    assert [t.action for t in world.log(one)] == ["submit", "return", "resubmit", "reject"]
    assert world.app(one).version == 4


def test_return_and_reject_need_a_reason(world, one):
    for decision in ("return", "reject"):
        with pytest.raises(RuleViolation, match="须写明原因"):
            world.decide(one, decision, reason="  ")
    assert world.app(one).status == ApplicationStatus.pending and len(world.log(one)) == 1


def test_a_reviewer_outside_the_jurisdiction_or_at_another_level_is_refused(world, one):
    with pytest.raises(Forbidden, match="不在用户 reviewer-130602 的辖区 竞秀区 内"):
        world.decide(one, by=world.reviewer("130602"))
    with pytest.raises(Forbidden, match="当前由长安区区县级审核，石家庄市的用户 reviewer-130100 不能作出决定"):
        world.decide(one, by=world.reviewer("130100"))
    with pytest.raises(Forbidden, match="当前由长安区区县级审核，河北省的用户"):
        world.decide(one, by=world.reviewer("130000"))
    with pytest.raises(Forbidden, match="须为审核人员"):
        world.decide(one, by=world.reviewer("130102", Role.clerk))
    with pytest.raises(NotFound, match="用户 nobody 不存在"):
        world.decide(one, by="nobody")
    assert len(world.log(one)) == 1


def test_an_applicant_can_neither_decide_nor_touch_another_enterprises_application(world, programmes_dir):
    call = world.open("ladder")
    mine, theirs = world.apply(call, {"130102": 2})
    me = world.applicant(mine)
    with pytest.raises(Forbidden, match="申报企业用户 .* 不能对申报 .* 作出审核决定"):
        world.decide(mine, by=me)
    world.decide(theirs, "return", reason="补材料")
    with world.engine.begin() as c:
        with pytest.raises(Forbidden, match="不是用户 .* 所在企业的申报，不能重新提交"):
            resubmit(c, theirs, me)
        with pytest.raises(Forbidden, match="不能撤回申报"):
            withdraw(c, theirs, me)
        with pytest.raises(Forbidden, match="只有申报企业可以撤回申报"):
            withdraw(c, mine, world.reviewer("130102"))


def test_decisions_after_the_deadline_or_on_a_closed_level_are_refused(world, one, clock, engine):
    clock.set(bj(2026, 3, 20, 17, 30))          # an inclusive cut-off: 17:30:00 itself is in time (DeadlineRule.in_time)
    world.decide(one, "return", reason="补材料")
    clock.advance(timedelta(microseconds=1))
    with pytest.raises(RuleViolation, match=r"已超过长安区区县级审核截止时间（2026-03-20 17:30）"):
        with engine.begin() as c:
            resubmit(c, one, world.applicant(one))
    clock.set(bj(2026, 3, 10))
    with engine.begin() as c:
        c.execute(update(LevelWindow).values(closed_at=clock.now()))
    with pytest.raises(RuleViolation, match="长安区区县级审核已于 2026-03-10 09:00 结束"):
        with engine.begin() as c:
            resubmit(c, one, world.applicant(one))


def test_withdraw_is_possible_below_the_provincial_level_only(world, programmes_dir, engine):
    call = world.open("ladder")
    county_app, provincial_app = world.apply(call, {"130102": 2})
    with engine.begin() as c:
        outcome = withdraw(c, county_app, world.applicant(county_app), reason="企业自愿撤回")
        c.execute(update(Application).where(Application.id == provincial_app)
                  .values(level=ReviewLevel.provincial, review_jurisdiction_code="130000"))
    assert outcome.status == ApplicationStatus.withdrawn
    with pytest.raises(RuleViolation, match="报送省级后不能撤回"):
        with engine.begin() as c:
            withdraw(c, provincial_app, world.applicant(provincial_app))
    with pytest.raises(RuleViolation, match="已终结（已撤回），不能撤回"):
        with engine.begin() as c:
            withdraw(c, county_app, world.applicant(county_app))


def test_a_stale_version_or_an_already_decided_application_is_a_conflict(world, one):
    with pytest.raises(Conflict, match="您看到的是第3版，当前为第1版"):
        world.decide(one, expected_version=3)
    world.decide(one, "recommend", expected_version=1)
    with pytest.raises(Conflict, match=r"已由 reviewer-130102 于 .* 作出“同意推荐”（当前状态：同意推荐），您的决定未保存"):
        world.decide(one, "reject", reason="另一位审核员的意见")
    assert [t.action for t in world.log(one)] == ["submit", "recommend"]


def test_a_batch_of_decisions_is_written_whole_or_not_at_all(world, programmes_dir, engine):
    call = world.open("ladder")
    a, b, c_id = world.apply(call, {"130102": 3})
    reviewer = world.reviewer("130102")
    items = [DecisionItem(a, "recommend", score=Decimal(90)), DecisionItem(b, "reject"), DecisionItem(c_id, "recommend")]
    with pytest.raises(RuleViolation, match="须写明原因"):
        with engine.begin() as conn:
            decide_many(conn, items, reviewer)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Transition)).scalar() == 3
    items[1] = DecisionItem(b, "reject", reason="不符合条件")
    with engine.begin() as conn:
        outcomes = decide_many(conn, items, reviewer)
    assert [o.status for o in outcomes] == [ApplicationStatus.recommended, ApplicationStatus.rejected, ApplicationStatus.recommended]


def test_a_score_must_be_a_number_with_at_most_two_decimals(world, one):
    for bad in ("abc", Decimal("-1"), Decimal("1.234")):
        with pytest.raises(RuleViolation, match="评分"):
            world.decide(one, score=bad)
    assert world.app(one).status == ApplicationStatus.pending


def test_a_profile_states_its_score_range_and_a_score_outside_it_is_refused(world, programmes_dir, engine):
    """评分: a profile that states 0–100 (专家评分) refuses 100.5 whether decided alone or in a batch."""
    write_profile(programmes_dir, "expert", LADDER, scoring={"min": 0, "max": 100, "decimals": 1, "assumed": False,
                                                             "cite": "测试〔2026〕1号 专家评分百分制"})
    call = world.open("expert")
    a, b = world.apply(call, {"130102": 2})
    with pytest.raises(RuleViolation, match="评分应在 0–100 之间、最多一位小数，实际为 100.5"):
        world.decide(a, "recommend", score=Decimal("100.5"))
    with pytest.raises(RuleViolation, match="最多一位小数"):
        world.decide(a, "recommend", score=Decimal("99.25"))
    with pytest.raises(RuleViolation, match="申报 .*：评分应在 0–100 之间"):
        with engine.begin() as c:
            decide_many(c, [DecisionItem(a, "recommend", score=Decimal(90)), DecisionItem(b, "recommend", score=Decimal(101))],
                        world.reviewer("130102"))
    with engine.begin() as c:
        decide_many(c, [DecisionItem(a, "recommend", score=Decimal(100)), DecisionItem(b, "recommend", score=Decimal("99.5"))],
                    world.reviewer("130102"))
    assert (world.app(a).score, world.app(b).score) == (Decimal(100), Decimal("99.5"))


def test_a_profile_states_the_levels_an_applicant_may_withdraw_at(world, programmes_dir, engine):
    write_profile(programmes_dir, "county-only", LADDER, withdrawal={"levels": ["county"], "assumed": False, "cite": "测试〔2026〕1号"})
    call = world.open("county-only")
    [app_id] = world.apply(call, {"130102": 1})
    with engine.begin() as c:
        c.execute(update(Application).where(Application.id == app_id)
                  .values(level=ReviewLevel.municipal, review_jurisdiction_code="130100"))
    with pytest.raises(RuleViolation, match="已报送市（州）级，报送市（州）级后不能撤回"):
        with engine.begin() as c:
            withdraw(c, app_id, world.applicant(app_id))


def test_recommending_an_application_that_failed_the_eligibility_check_needs_a_recorded_reason(world, programmes_dir):
    """Issue 12 (7): a 不符合 verdict is not silently overridden — the batch and the single path both refuse without a reason."""
    call = world.open("ladder")
    failed, passed = world.apply(call, {"130102": 2})
    with world.engine.begin() as c:
        c.execute(update(Application).where(Application.id == failed).values(eligible=False))
    with pytest.raises(RuleViolation, match="资格审查结论为“不符合”，仍要同意推荐须写明推荐理由"):
        with world.engine.begin() as c:
            decide_many(c, [DecisionItem(passed, "recommend"), DecisionItem(failed, "recommend")], world.reviewer("130102"))
    assert [world.app(i).status for i in (failed, passed)] == [ApplicationStatus.pending] * 2
    with world.engine.begin() as c:
        decide_many(c, [DecisionItem(passed, "recommend"), DecisionItem(failed, "recommend", override=" 已补正审计报告，核实符合 ")],
                    world.reviewer("130102"))
    app = world.app(failed)
    assert (app.status, app.eligibility_override) == (ApplicationStatus.recommended, "已补正审计报告，核实符合")
    assert world.log(failed)[-1].reason == "资格审查不符合，仍予推荐：已补正审计报告，核实符合"
    assert (world.app(passed).eligibility_override, world.log(passed)[-1].reason) == (None, None)
