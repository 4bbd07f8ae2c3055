"""Later tranches follow the previous year's performance review.

财建〔2021〕2号 三(三) (seed 001 L47): 分年度绩效考核，明确绩效考核等次，以及继续支持的重点"小巨人"企业，
考核结果与后续奖补资金安排挂钩; 三(四) (seed 001 L49): 实施期满1年及满2年时…按照…分年度绩效考核结果…滚动安排.
The profile maps each grade to a factor (优秀 1.0 / 良好 0.9 / 合格 0.8 / 不合格 0).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.errors import RuleViolation
from models.funding import DisbursementRun, FundingRecipient, FundTranche, Payment, RecipientStatus, TrancheStatus
from tasks.funding.disbursement import run_disbursement
from tasks.funding.performance import record_actuals, record_targets, review_year
from tasks.funding.tranches import record_continuation_list
from tests.funding.conftest import BEIJING, at, money

# rd_ratio_pct: initial 5, 满一年 6, 满两年 7 → actual 6 = 优秀, 5.8 = 良好 (80), 5.65 = 合格 (65), 4.9 = 不合格
YEAR1 = {0: "4.9", 1: "5.65", 2: "5.8"}

pytestmark = pytest.mark.postgres     # runs on SQLite, and on PostgreSQL when SRDI_TEST_POSTGRES_URL is set



def _targets(approved, skip=()):
    rows = [{"uscc": e["uscc"], "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 6, "target_y2": 7}
            for i, e in enumerate(approved.enterprises) if i not in skip]
    rows.append({"uscc": approved.rows[-1]["uscc"], "indicator": "p2p_served_giant_count", "initial_value": 0,
                 "target_y1": 10, "target_y2": 10})
    return rows


def _actuals(approved, year, values):
    rows = [{"uscc": e["uscc"], "indicator": "rd_ratio_pct", "period_end": f"{year}-12-31", "value": values.get(i, "7")}
            for i, e in enumerate(approved.enterprises)]
    rows.append({"uscc": approved.rows[-1]["uscc"], "indicator": "p2p_served_giant_count", "period_end": f"{year}-12-31", "value": 10})
    return rows


def _paid(engine, index):
    with engine.connect() as c:
        return dict(c.execute(select(FundingRecipient.uscc, Payment.amount_wan)
                              .join(Payment, Payment.recipient_id == FundingRecipient.id)
                              .join(FundTranche, FundTranche.id == Payment.tranche_id)
                              .where(FundTranche.tranche_index == index)).all())


@pytest.fixture
def first_year(engine, approved, tmp_path, clock):
    """Tranche 1 paid; 目标表 recorded (enterprise 5 has none yet); 2021 figures reported and reviewed."""
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.begin() as c:
        record_targets(c, approved.plan_id, _targets(approved, skip={5}))
        record_actuals(c, approved.plan_id, _actuals(approved, 2021, YEAR1))
        review_year(c, approved.plan_id, 1, reviewed_at=at("2022-03-15 10:00"))
    return approved


def test_tranche_two_waits_for_the_ministry_continuation_list(engine, first_year, tmp_path):
    with pytest.raises(RuleViolation, match="尚未录入实施期第1年度继续支持.*考核结果与后续奖补资金安排挂钩"):
        run_disbursement(engine, BEIJING, 2, received_at=at("2022-08-10 09:00"), out_dir=tmp_path)
    with engine.connect() as c:
        assert c.execute(select(FundTranche.received_at).where(FundTranche.tranche_index == 2)).scalar() is None
        assert c.execute(select(func.count()).select_from(DisbursementRun)).scalar() == 1
    assert _paid(engine, 2) == {}


def test_grade_sets_the_amount_and_failing_or_unlisted_enterprises_get_nothing_more(engine, first_year, tmp_path, profile):
    ents, platform = first_year.enterprises, first_year.rows[-1]["uscc"]
    listed = [e["uscc"] for i, e in enumerate(ents) if i not in (0, 3)]          # 0 failed; 3 left off by the ministry
    with engine.begin() as c:
        record_continuation_list(c, first_year.plan_id, 1, listed, published_at=at("2022-05-20 10:00"))
    outcome = run_disbursement(engine, BEIJING, 2, received_at=at("2022-08-10 09:00"), out_dir=tmp_path)
    paid = _paid(engine, 2)
    share = profile.funding.tranches[1].share_pct

    def due(i, factor):
        return money(money(Decimal(400 + 10 * i) * share / 100) * Decimal(factor))

    assert money(paid[ents[1]["uscc"]]) == due(1, "0.8")     # 合格
    assert money(paid[ents[2]["uscc"]]) == due(2, "0.9")     # 良好
    assert money(paid[ents[4]["uscc"]]) == due(4, "1.0")     # 优秀
    assert platform in paid
    assert ents[0]["uscc"] not in paid and ents[3]["uscc"] not in paid
    assert ents[5]["uscc"] not in paid                        # no 目标表, no review yet: waits
    assert [name for _, name, _ in outcome.pending] == [ents[5]["name"]]
    assert {name: why.split(" —— ")[0] for _, name, why in outcome.stopped} == {
        ents[0]["name"]: "实施期第1年度绩效考核为“不合格”，停止后续资金",
        ents[3]["name"]: "未列入实施期第1年度继续支持名单，停止后续资金"}
    assert outcome.status == TrancheStatus.received           # not complete while someone waits for a review
    with engine.connect() as c:
        statuses = dict(c.execute(select(FundingRecipient.uscc, FundingRecipient.status)).all())
    assert statuses[ents[0]["uscc"]] == statuses[ents[3]["uscc"]] == RecipientStatus.discontinued

    # the late review arrives: the same run now pays exactly the one that waited
    with engine.begin() as c:
        record_targets(c, first_year.plan_id, [{"uscc": ents[5]["uscc"], "indicator": "rd_ratio_pct",
                                                 "initial_value": 5, "target_y1": 6, "target_y2": 7}])
        assert review_year(c, first_year.plan_id, 1, reviewed_at=at("2022-09-01 10:00")).created == 1
    rerun = run_disbursement(engine, BEIJING, 2, out_dir=tmp_path)
    assert rerun.created == 1 and rerun.status == TrancheStatus.disbursed and len(_paid(engine, 2)) == 9


def test_a_stopped_enterprise_stays_stopped_in_tranche_three(engine, first_year, tmp_path):
    ents = first_year.enterprises
    with engine.begin() as c:
        record_continuation_list(c, first_year.plan_id, 1, [e["uscc"] for e in ents[1:]], published_at=at("2022-05-20 10:00"))
    run_disbursement(engine, BEIJING, 2, received_at=at("2022-08-10 09:00"), out_dir=tmp_path)
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="已停止支持，不能恢复"):
            record_continuation_list(c, first_year.plan_id, 2, [e["uscc"] for e in ents], published_at=at("2023-05-20 10:00"))
    with engine.begin() as c:
        record_actuals(c, first_year.plan_id, _actuals(first_year, 2022, {}))
        review_year(c, first_year.plan_id, 2, reviewed_at=at("2023-03-15 10:00"))
        record_continuation_list(c, first_year.plan_id, 2, [e["uscc"] for e in ents[1:]], published_at=at("2023-05-20 10:00"))
    third = run_disbursement(engine, BEIJING, 3, received_at=at("2023-08-10 09:00"), out_dir=tmp_path)
    paid = _paid(engine, 3)
    assert ents[0]["uscc"] not in paid and ents[1]["uscc"] in paid and len(paid) == 9 == third.created
    assert [name for _, name, _ in third.stopped] == [ents[0]["name"]]
    assert [name for _, name, _ in third.pending] == [ents[5]["name"]]     # still has no 目标表


def test_the_ninety_percent_rule_is_checked_again_on_each_tranche(engine, profile, clock, tmp_path):
    """财建〔2021〕2号 三(四): the share must hold for the allocation of every tranche, after grade factors."""
    from tests.funding.conftest import approve, enterprises, platform

    ents = enterprises(engine, 9)
    rows = [{"item_type": "key_enterprise", "uscc": e["uscc"], "amount_wan": 100} for e in ents[:8]] + [
        {"item_type": "key_enterprise", "uscc": ents[8]["uscc"], "amount_wan": 100}, platform(BEIJING, 1, "key_support", 100)]
    plan_id = approve(engine, profile, rows)                                  # exactly 90% at approval
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.begin() as c:
        record_targets(c, plan_id, [{"uscc": e["uscc"], "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 6,
                                     "target_y2": 7} for e in ents] + [
            {"uscc": rows[-1]["uscc"], "indicator": "p2p_served_giant_count", "initial_value": 0, "target_y1": 9, "target_y2": 9}])
        record_actuals(c, plan_id, [{"uscc": e["uscc"], "indicator": "rd_ratio_pct", "period_end": "2021-12-31", "value": "5.65"}
                                    for e in ents] + [
            {"uscc": rows[-1]["uscc"], "indicator": "p2p_served_giant_count", "period_end": "2021-12-31", "value": 9}])
        review_year(c, plan_id, 1, reviewed_at=at("2022-03-15 10:00"))          # enterprises 合格 (0.8), platform 优秀 (1.0)
        record_continuation_list(c, plan_id, 1, [e["uscc"] for e in ents], published_at=at("2022-05-20 10:00"))
    with pytest.raises(RuleViolation, match="资金占比 87.80%，低于 90%"):
        run_disbursement(engine, BEIJING, 2, received_at=at("2022-08-10 09:00"), out_dir=tmp_path)
    assert _paid(engine, 2) == {}
