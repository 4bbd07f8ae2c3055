"""The 实施方案 as versioned documents, and the checks each version must pass.

Rules: 财建〔2021〕2号 (seed 001): 二(一) L31 ≤3 platforms per province per batch; 三(四) L49 90%以上
直接支持重点"小巨人"企业, the three tranche dates 批复当年、实施期满1年及满2年. The compliance-review
pre-notice (seed 000): L47 原则上支持每家服务机构不超过200万元 (final amount per the formal opinion);
L61 工作安排 于5月12日（周三）上午8:00前函报，逾期未报送视同不申请. Sichuan call (seed 004) L79: a platform
may not be in both categories; L10: enterprises already funded in batch 1 are excluded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from models import Enterprise, ImplementationPlan, PlanItem, PlanVersion, Recognition
from models.deadline import Deadline
from models.errors import RuleViolation
from models.funding import FundingRecipient, FundTranche
from models.funding_plan import OpinionStage, PlanStatus, VersionKind, WorkArrangementStatus
from tasks.funding.plan import approve_plan, open_plan, record_opinion, submit_version, submit_work_arrangement
from tasks.funding.plan_checks import PlanRejected
from tests.funding.conftest import BEIJING, approve, at, enterprises, key_rows, platform

pytestmark = pytest.mark.postgres     # runs on SQLite, and on PostgreSQL when SRDI_TEST_POSTGRES_URL is set



def _versions(engine) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(PlanVersion)).scalar()


def _submit(engine, profile, rows, batch=1, province=BEIJING):
    with engine.begin() as c:
        plan_id = open_plan(c, province, batch, profile)
        return submit_version(c, plan_id, VersionKind.submission, rows, submitted_at=at("2021-03-25 10:00"), profile=profile)


def test_plan_moves_through_versions_and_opinions_to_approval_with_three_tranche_dates(engine, profile, clock):
    ents = enterprises(engine, 4)
    rows = key_rows(ents) + [platform(BEIJING, 1, "key_support", 150), platform(BEIJING, 2, "overall_support", 190)]
    plan_id = approve(engine, profile, rows, institution_amounts={rows[-1]["uscc"]: Decimal(120)})
    with engine.connect() as c:
        plan = c.execute(select(ImplementationPlan)).one()
        kinds = c.execute(select(PlanVersion.kind).order_by(PlanVersion.version_no)).scalars().all()
        amounts = dict(c.execute(select(FundingRecipient.uscc, FundingRecipient.approved_amount_wan)).all())
        tranches = c.execute(select(FundTranche.tranche_index, FundTranche.label, FundTranche.scheduled_on,
                                    FundTranche.requires_review).order_by(FundTranche.tranche_index)).all()
        due = dict(c.execute(select(Deadline.key, Deadline.due_at).where(Deadline.kind == "tranche")).all())
    assert plan.status == PlanStatus.approved and plan.implementation_start == date(2021, 7, 20)
    assert kinds == [VersionKind.submission, VersionKind.filed]
    assert len(amounts) == 6
    # the formal opinion fixes the service institution's amount (pre-notice L47 "以正式反馈合规性审核意见为准")
    assert amounts[rows[-1]["uscc"]] == Decimal(120) and amounts[rows[0]["uscc"]] == Decimal(400)
    # 财建〔2021〕2号 三(四): 批复当年、实施期满1年及满2年; only the later two depend on the review
    assert [(t.tranche_index, t.scheduled_on, t.requires_review) for t in tranches] == [
        (1, date(2021, 7, 20), False), (2, date(2022, 7, 20), True), (3, date(2023, 7, 20), True)]
    assert [t.label for t in tranches] == ["批复当年", "实施期满1年", "实施期满2年"]
    assert due[f"tranche:{plan_id}:3"] == at("2023-07-20 23:59:59")


def test_four_key_support_platforms_are_refused_and_nothing_is_written(engine, profile, clock):
    """财建〔2021〕2号 二(一): 每省份每批次自主确定不超过3个平台."""
    rows = key_rows(enterprises(engine, 30)) + [platform(BEIJING, n, "key_support", 100) for n in range(1, 5)]
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, rows)
    assert "重点支持类平台 4 个" in str(refused.value) and "不超过3个平台" in str(refused.value)
    assert _versions(engine) == 0
    assert _submit(engine, profile, rows[:-1]).version_no == 1   # three is allowed


def test_a_platform_in_both_categories_is_refused(engine, profile, clock):
    """Sichuan call 四(一) (seed 004 L79): 不得同时申报 重点支持 与 统筹支持."""
    both = [platform(BEIJING, 1, "key_support", 100), platform(BEIJING, 1, "overall_support", 100)]
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, key_rows(enterprises(engine, 3)) + both)
    assert "同时列入重点支持类与统筹支持类" in str(refused.value) and "第5行" in str(refused.value)


def test_less_than_ninety_percent_to_key_enterprises_is_refused(engine, profile, clock):
    """财建〔2021〕2号 三(四): 奖补资金90%以上用于直接支持重点“小巨人”企业 — 90% itself passes."""
    ents = enterprises(engine, 2)
    exactly_90 = [{"item_type": "key_enterprise", "uscc": e["uscc"], "amount_wan": a} for e, a in zip(ents, (440, 460))] + [
        platform(BEIJING, 1, "key_support", 100)]
    below = exactly_90[:2] + [platform(BEIJING, 1, "key_support", Decimal("100.01"))]
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, below)
    assert "资金占比 89.99%" in str(refused.value) and "90%以上" in str(refused.value)
    assert _submit(engine, profile, exactly_90).warnings == []


def test_an_even_split_among_key_enterprises_is_flagged(engine, profile, clock):
    """财建〔2021〕2号 三(四): 避免简单分配 — recorded as a warning on the version."""
    recorded = _submit(engine, profile, [
        {"item_type": "key_enterprise", "uscc": e["uscc"], "amount_wan": 500} for e in enterprises(engine, 3, start=20)])
    assert recorded.warnings == ["3 家重点“小巨人”企业金额完全相同（500 万元） —— 财建〔2021〕2号 三(四)（避免简单分配）"]


def test_each_key_enterprise_recipient_points_at_its_recognition_row_and_a_platform_at_none(engine, profile, clock):
    """财建〔2021〕2号 二(一): 从已认定的“小巨人”企业中择优 — the recognition is resolved once, at approval."""
    ents = enterprises(engine, 3)
    rows = key_rows(ents) + [platform(BEIJING, 1, "overall_support", 150)]
    approve(engine, profile, rows)
    with engine.connect() as c:
        pointed = dict(c.execute(select(FundingRecipient.uscc, FundingRecipient.recognition_id)).all())
        recognitions = dict(c.execute(select(Enterprise.uscc, Recognition.id)
                                      .join(Recognition, Recognition.enterprise_id == Enterprise.id)).all())
    assert {e["uscc"]: pointed[e["uscc"]] for e in ents} == {e["uscc"]: recognitions[e["uscc"]] for e in ents}
    assert pointed[rows[-1]["uscc"]] is None
    with pytest.raises(IntegrityError):
        with engine.begin() as c:
            c.execute(update(FundingRecipient).where(FundingRecipient.uscc == ents[0]["uscc"]).values(recognition_id=None))


def test_a_recognition_revoked_before_approval_refuses_the_approval_naming_row_and_credit_code(engine, profile, clock):
    ents = enterprises(engine, 2)
    rows = key_rows(ents)
    with engine.begin() as c:
        plan_id = open_plan(c, BEIJING, 1, profile)
        submit_version(c, plan_id, VersionKind.submission, rows, submitted_at=at("2021-03-25 10:00"), profile=profile)
        record_opinion(c, plan_id, OpinionStage.preliminary, issued_at=at("2021-05-06 10:00"))
        record_opinion(c, plan_id, OpinionStage.formal, issued_at=at("2021-06-10 10:00"))
        submit_version(c, plan_id, VersionKind.filed, rows, submitted_at=at("2021-06-25 10:00"), profile=profile)
        c.execute(update(Recognition).where(Recognition.enterprise_id == ents[1]["id"]).values(status="revoked"))
    with pytest.raises(PlanRejected) as refused:
        with engine.begin() as c:
            approve_plan(c, plan_id, approved_at=at("2021-07-20 10:00"), doc_no="工信部联企业函〔2021〕1号", profile=profile)
    (finding,) = refused.value.findings
    assert finding.startswith(f"第2行 {ents[1]['name']}（{ents[1]['uscc']}）："
                              "不是有效的国家级专精特新“小巨人”企业（2021-07-20 无有效的小巨人认定）")
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(FundingRecipient)).scalar() == 0


def test_service_institution_above_two_million_is_a_warning_not_a_refusal(engine, profile, clock):
    """Pre-notice 二(一)3 (seed 000 L47): 原则上支持每家服务机构不超过200万元."""
    rows = key_rows(enterprises(engine, 3)) + [platform(BEIJING, 1, "overall_support", Decimal("200.5"), "服务中心")]
    recorded = _submit(engine, profile, rows)
    assert any("服务中心 支持金额 200.5 万元，超过 200 万元" in w and "原则上" in w for w in recorded.warnings)
    with engine.connect() as c:
        assert c.execute(select(PlanVersion.warnings)).scalar() == recorded.warnings


def test_enterprises_funded_in_an_earlier_batch_are_excluded(engine, profile, clock):
    ents = enterprises(engine, 3)
    approve(engine, profile, key_rows(ents), batch=1)
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, key_rows(ents[:1]) + key_rows(enterprises(engine, 1, start=50)), batch=2)
    assert "已是第1批重点“小巨人”企业" in str(refused.value) and refused.value.findings[0].startswith("第1行")


def test_unrecognised_and_listed_enterprises_are_refused(engine, profile, clock):
    """财建〔2021〕2号 二(一): chosen from recognised 小巨人, not listed on the named boards."""
    ents = enterprises(engine, 3)
    with engine.begin() as c:
        c.execute(update(Recognition).where(Recognition.enterprise_id == ents[0]["id"]).values(status="revoked"))
        c.execute(update(Enterprise).where(Enterprise.id == ents[1]["id"]).values(listed_board="创业板"))
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, key_rows(ents))
    text = str(refused.value)
    assert "第1行" in text and "不是有效的国家级专精特新“小巨人”企业" in text
    assert "第2行" in text and "已在创业板上市" in text and "第3行" not in text


def test_bad_rows_name_row_field_and_value_and_change_nothing(engine, profile, clock):
    ents = enterprises(engine, 2)
    rows = [{"item_type": "key_enterprise", "uscc": ents[0]["uscc"], "amount_wan": "四百"},
            {"item_type": "enterprise", "uscc": ents[1]["uscc"], "amount_wan": 100},
            {"item_type": "key_enterprise", "uscc": "91110101000000001X", "amount_wan": 100}]
    with pytest.raises(PlanRejected) as refused:
        _submit(engine, profile, rows)
    assert refused.value.findings[:3] == [
        "第1行 字段 amount_wan：应为以万元计的金额，实际为 '四百'",
        "第2行 字段 item_type：应为 key_enterprise 或 platform，实际为 'enterprise'",
        "第3行 字段 uscc：统一社会信用代码 91110101000000001X 校验位错误（GB 32100-2015）"]
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(PlanItem)).scalar() == 0
        assert c.execute(select(func.count()).select_from(ImplementationPlan)).scalar() == 0


def test_steps_out_of_order_are_refused(engine, profile, clock):
    ents = enterprises(engine, 2)
    recorded = _submit(engine, profile, key_rows(ents))
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="收到正式合规性审核意见后报送"):
            submit_version(c, recorded.plan_id, VersionKind.filed, key_rows(ents), profile=profile)
        with pytest.raises(RuleViolation, match="不能登记正式合规性审核意见"):
            record_opinion(c, recorded.plan_id, OpinionStage.formal, issued_at=at("2021-06-10 10:00"))
        with pytest.raises(RuleViolation, match="初步意见不能确定额度"):
            record_opinion(c, recorded.plan_id, OpinionStage.preliminary, issued_at=at("2021-05-06 10:00"),
                           institution_amounts={"x": Decimal(1)})


@pytest.mark.parametrize("submitted, status", [
    ("2021-05-12 07:59:59", WorkArrangementStatus.submitted),
    ("2021-05-12 08:00:00", WorkArrangementStatus.deemed_not_applied),
])
def test_work_arrangement_at_eight_oclock_is_late_and_deemed_not_applied(engine, clock, submitted, status):
    """Pre-notice 三 (seed 000 L61): 于5月12日（周三）上午8:00前函报，逾期未报送视同不申请公共服务体系奖补资金."""
    with engine.begin() as c:
        recorded = submit_work_arrangement(c, BEIJING, 2021, submitted_at=at(submitted), sealed=True,
                                           requested_amount_wan=Decimal(600))
    assert recorded.status == status
    assert (recorded.note is not None and "视同不申请公共服务体系奖补资金" in recorded.note) == (status != WorkArrangementStatus.submitted)


def test_provinces_that_never_submitted_are_deemed_not_to_apply_after_the_cutoff(engine, clock):
    from models import WorkArrangement
    from tasks.funding.plan import deem_unsubmitted_work_arrangements

    with engine.begin() as c:
        submit_work_arrangement(c, BEIJING, 2021, submitted_at=at("2021-05-11 16:00"), sealed=True, requested_amount_wan=Decimal(600))
        with pytest.raises(RuleViolation, match="截止时间 2021-05-12 08:00 未到"):
            deem_unsubmitted_work_arrangements(c, 2021, [BEIJING, "120000"], now=at("2021-05-12 07:59"))
        assert deem_unsubmitted_work_arrangements(c, 2021, [BEIJING, "120000", "130000"], now=at("2021-05-12 08:00")) == 2
        assert deem_unsubmitted_work_arrangements(c, 2021, [BEIJING, "120000", "130000"], now=at("2021-05-13 08:00")) == 0
        statuses = dict(c.execute(select(WorkArrangement.province_code, WorkArrangement.status)).all())
    assert statuses == {BEIJING: WorkArrangementStatus.submitted, "120000": WorkArrangementStatus.deemed_not_applied,
                        "130000": WorkArrangementStatus.deemed_not_applied}


def test_each_year_s_work_arrangement_cutoff_comes_from_the_profile_and_an_unstated_year_is_refused(engine, clock, profile):
    """The 2021 cut-off is the 2021 pre-notice's; a later year's pre-notice states its own (funding.work_arrangement_deadlines)."""
    from models.profile import DeadlineRule, ProfileError
    from tasks.funding.plan import deem_unsubmitted_work_arrangements

    with engine.begin() as c:
        with pytest.raises(ProfileError, match="未载明 2022 年工作安排的报送截止"):
            submit_work_arrangement(c, BEIJING, 2022, submitted_at=at("2022-05-10 10:00"), sealed=True,
                                    requested_amount_wan=Decimal(600), profile=profile)
    rule_2022 = DeadlineRule(kind="fixed", at=at("2022-05-20 17:00"), exclusive=False, cite="测试：2022年预通知")
    deadlines = {**profile.funding.work_arrangement_deadlines, 2022: rule_2022}
    next_year = profile.model_copy(update={"funding": profile.funding.model_copy(update={"work_arrangement_deadlines": deadlines})})
    with engine.begin() as c:
        on_time = submit_work_arrangement(c, BEIJING, 2022, submitted_at=at("2022-05-20 17:00"), sealed=True,
                                          requested_amount_wan=Decimal(600), profile=next_year)
        with pytest.raises(RuleViolation, match="截止时间 2022-05-20 17:00 未到"):
            deem_unsubmitted_work_arrangements(c, 2022, ["120000"], profile=next_year, now=at("2022-05-20 17:00"))
        assert deem_unsubmitted_work_arrangements(c, 2022, ["120000"], profile=next_year, now=at("2022-05-20 17:01")) == 1
        late = submit_work_arrangement(c, "130000", 2022, submitted_at=at("2022-05-20 17:01"), sealed=True,
                                       requested_amount_wan=Decimal(600), profile=next_year)
    assert on_time.status == WorkArrangementStatus.submitted
    assert late.status == WorkArrangementStatus.deemed_not_applied and "测试：2022年预通知" in late.note


def test_unsealed_work_arrangement_is_refused(engine, clock):
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="加盖公章"):
            submit_work_arrangement(c, BEIJING, 2021, submitted_at=at("2021-05-10 10:00"), sealed=False,
                                    requested_amount_wan=Decimal(600))
