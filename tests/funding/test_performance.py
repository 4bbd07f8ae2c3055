"""Performance review: the 目标表 compared automatically, score, grade, checks and 整改.

★ = 年末累计数据 (year-end stock), unmarked = 当年全年数据 (the year's flow) — pre-notice 附件3 (seed 000
L100–137). Targets per indicator: 实施期初始值, 满一年目标, 满两年目标 (seed 004 附件3). Coverage 100% and the
soft 8% / 65% / 80% targets: pre-notice 二(二)3 (seed 000 L55). Point-to-point service for every key
enterprise: 财建〔2021〕2号 二(二) (seed 001 L37). Rectification: 财建〔2021〕2号 三(三) (seed 001 L47).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.deadline import Deadline, DeadlineState
from models.errors import RuleViolation
from models.performance import Direction, GradeSource, PerformanceReview, PerformanceTarget, Rectification
from tasks.funding.disbursement import run_disbursement
from tasks.funding.performance import attainment, record_actuals, record_targets, review_year, set_ministry_grade
from tasks.funding.performance_checks import (
    check_platform_p2p,
    check_provincial_table,
    close_rectification,
    open_rectifications,
    record_provincial_table,
)
from tasks.funding.tranches import record_continuation_list
from tests.funding.conftest import BEIJING, at

pytestmark = pytest.mark.postgres     # runs on SQLite, and on PostgreSQL when SRDI_TEST_POSTGRES_URL is set



@pytest.mark.parametrize("direction, initial, target, actual, expected", [
    (Direction.higher_better, 5, 6, 6, 1), (Direction.higher_better, 5, 6, "5.5", "0.5"), (Direction.higher_better, 5, 6, 4, 0),
    (Direction.lower_better, 55, 50, 50, 1), (Direction.lower_better, 55, 50, 54, "0.2"), (Direction.lower_better, 55, 50, 58, 0),
    (Direction.higher_better, 6, 6, "5.9", 0), (Direction.higher_better, 5, 6, None, 0),
])
def test_attainment_runs_from_the_initial_value_to_the_target(direction, initial, target, actual, expected):
    actual = None if actual is None else Decimal(str(actual))
    assert attainment(direction, Decimal(initial), Decimal(target), actual) == Decimal(str(expected))


def test_grades_of_the_review_rules_and_factors_of_the_funding_rules_match(profile, rules):
    """Every grade the review can give must carry a tranche factor, and the other way round."""
    from models.profile import ProfileError
    from tasks.funding.rules import check_consistent

    check_consistent(profile.funding, rules)
    renamed = rules.model_copy(update={"grades": [g.model_copy(update={"grade": "较差"}) if g.grade == "不合格" else g
                                                  for g in rules.grades]})
    with pytest.raises(ProfileError, match="绩效等次不一致.*优秀、良好、合格、较差.*优秀、良好、合格、不合格"):
        check_consistent(profile.funding, renamed)


def _one_enterprise(approved):
    return approved.enterprises[0]["uscc"]


def test_cumulative_indicators_take_the_year_end_stock_and_flows_add_up(engine, approved, rules):
    u = _one_enterprise(approved)
    with engine.begin() as c:
        record_targets(c, approved.plan_id, [
            {"uscc": u, "indicator": "valid_invention_patent_count", "initial_value": 4, "target_y1": 6, "target_y2": 8},   # ★
            {"uscc": u, "indicator": "rd_commercialisation_project_count", "initial_value": 0, "target_y1": 3, "target_y2": 3},
            {"uscc": u, "indicator": "asset_liability_ratio_pct", "initial_value": 55, "target_y1": 50, "target_y2": 45}])
        record_actuals(c, approved.plan_id, [
            {"uscc": u, "indicator": "valid_invention_patent_count", "period_end": "2021-06-30", "value": 6},
            {"uscc": u, "indicator": "valid_invention_patent_count", "period_end": "2021-12-31", "value": 5},    # two expired
            {"uscc": u, "indicator": "rd_commercialisation_project_count", "period_end": "2021-06-30", "value": 1},
            {"uscc": u, "indicator": "rd_commercialisation_project_count", "period_end": "2021-12-31", "value": 2},
            {"uscc": u, "indicator": "rd_commercialisation_project_count", "period_end": "2022-06-30", "value": 9},  # next year
            {"uscc": u, "indicator": "asset_liability_ratio_pct", "period_end": "2021-12-31", "value": 54}])
        summary = review_year(c, approved.plan_id, 1, reviewed_at=at("2022-03-15 10:00"))
        review = c.execute(select(PerformanceReview)).one()
    detail = {d["indicator"]: d for d in review.detail}
    assert detail["valid_invention_patent_count"]["actual"] == "5" and detail["valid_invention_patent_count"]["attainment"] == "0.5000"
    assert detail["rd_commercialisation_project_count"]["actual"] == "3" and detail["rd_commercialisation_project_count"]["met"]
    assert detail["asset_liability_ratio_pct"]["attainment"] == "0.2000"          # lower is better
    assert review.score == Decimal("56.67") and review.grade == "不合格" and review.indicators_met == 1
    assert summary.created == 1 and summary.grades == {"不合格": 1} and len(summary.without_targets) == 10
    with engine.begin() as c:
        assert review_year(c, approved.plan_id, 1, reviewed_at=at("2022-04-01 10:00")).created == 0


def test_a_year_cannot_be_reviewed_before_it_ends(engine, approved):
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="实施期第1年度（2021年）尚未结束"):
            review_year(c, approved.plan_id, 1, reviewed_at=at("2021-12-31 18:00"))


def test_bad_target_rows_are_refused_with_row_field_and_value(engine, approved):
    u, platform = _one_enterprise(approved), approved.rows[-1]["uscc"]
    cases = [
        ([{"uscc": u, "indicator": "rd_ratio", "initial_value": 1, "target_y1": 2, "target_y2": 3}],
         "第1行 字段 indicator：未知指标 'rd_ratio'"),
        ([{"uscc": u, "indicator": "rd_ratio_pct", "initial_value": 1, "target_y1": 2, "target_y2": 3},
          {"uscc": platform, "indicator": "rd_ratio_pct", "initial_value": 1, "target_y1": 2, "target_y2": 3}],
         "第2行 指标 rd_ratio_pct（研发经费支出占营业收入比重）不适用于平台"),
        ([{"uscc": u, "indicator": "rd_ratio_pct", "initial_value": "五", "target_y1": 2, "target_y2": 3}],
         "第1行 字段 initial_value：应为数值，实际为 '五'"),
        ([{"uscc": "91110101000000999X", "indicator": "rd_ratio_pct", "initial_value": 1, "target_y1": 2, "target_y2": 3}],
         "不是本方案的批复对象"),
    ]
    for rows, message in cases:
        with pytest.raises(RuleViolation) as refused:
            with engine.begin() as c:
                record_targets(c, approved.plan_id, rows)
        assert message in str(refused.value)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(PerformanceTarget)).scalar() == 0


def test_the_ministry_grade_replaces_the_computed_one_until_the_tranche_is_paid(engine, approved, tmp_path):
    u = _one_enterprise(approved)
    with engine.begin() as c:
        record_targets(c, approved.plan_id, [{"uscc": u, "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 6, "target_y2": 7}])
        record_actuals(c, approved.plan_id, [{"uscc": u, "indicator": "rd_ratio_pct", "period_end": "2021-12-31", "value": "5.7"}])
        review_year(c, approved.plan_id, 1, reviewed_at=at("2022-03-15 10:00"))
        with pytest.raises(RuleViolation, match="等次应为 优秀、良好、合格、不合格 之一"):
            set_ministry_grade(c, approved.plan_id, u, 1, "较好", decided_by="miit", reason="x")
        set_ministry_grade(c, approved.plan_id, u, 1, "良好", decided_by="miit-clerk", reason="现场核查研发投入已达标")
        review = c.execute(select(PerformanceReview.grade, PerformanceReview.grade_source, PerformanceReview.score)).one()
        record_continuation_list(c, approved.plan_id, 1, [u], published_at=at("2022-05-20 10:00"))
    assert (review.grade, review.grade_source, review.score) == ("良好", GradeSource.ministry, Decimal("70.00"))
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    run_disbursement(engine, BEIJING, 2, received_at=at("2022-08-10 09:00"), out_dir=tmp_path)
    with engine.begin() as c:
        with pytest.raises(RuleViolation, match="资金已拨付，不能再改定等次"):
            set_ministry_grade(c, approved.plan_id, u, 1, "优秀", decided_by="miit-clerk", reason="复议")


def _province_rows(giants=120, covered=120, cloud=80, rd="8.2", tools=85):
    rows = [{"indicator": "national_giant_count", "segment": "all", "target_y1": giants}]
    rows += [{"indicator": name, "segment": "national_giant", "target_y1": covered}
             for name in ("served_policy_count", "served_innovation_count", "served_consulting_count")]
    rows += [{"indicator": "served_training_count", "segment": "national_giant", "target_y1": covered - 6},
             {"indicator": "cloud_enterprise_count", "segment": "national_giant", "target_y1": cloud},
             {"indicator": "avg_rd_ratio_pct", "segment": "national_giant", "target_y1": rd},
             {"indicator": "giant_digital_rd_tool_penetration_pct", "segment": "all", "target_y1": tools}]
    return rows


def test_provincial_targets_must_cover_every_little_giant_and_the_soft_targets_only_warn(engine, clock):
    with engine.begin() as c:
        record_provincial_table(c, BEIJING, 2021, _province_rows())
        findings = {f.check: f for f in check_provincial_table(c, BEIJING, 2021)}
    assert findings["coverage:served_policy_count"].ok
    training = findings["coverage:served_training_count"]
    assert (training.ok, training.soft, training.value) == (False, False, Decimal("95.00")) and "100%覆盖" in training.cite
    cloud = findings["soft:cloud_ratio_pct"]
    assert (cloud.ok, cloud.soft, cloud.value, cloud.threshold) == (True, True, Decimal("66.67"), Decimal(65))
    assert findings["soft:avg_rd_ratio_pct"].ok and findings["soft:giant_digital_rd_tool_penetration_pct"].ok
    with engine.begin() as c:
        record_provincial_table(c, "120000", 2021, _province_rows(cloud=70, rd="7.5", tools=79))
        weak = {f.check: f for f in check_provincial_table(c, "120000", 2021) if not f.ok}
    assert set(weak) == {"coverage:served_training_count", "soft:cloud_ratio_pct", "soft:avg_rd_ratio_pct",
                         "soft:giant_digital_rd_tool_penetration_pct"}
    assert all(weak[k].soft for k in weak if k.startswith("soft:")) and "原则上" in weak["soft:cloud_ratio_pct"].cite


def test_a_key_support_platform_must_serve_every_key_enterprise_point_to_point(engine, approved):
    platform = approved.rows[-1]["uscc"]
    with engine.begin() as c:
        record_actuals(c, approved.plan_id, [
            {"uscc": platform, "indicator": "p2p_served_giant_count", "period_end": "2021-06-30", "value": 4},
            {"uscc": platform, "indicator": "p2p_served_giant_count", "period_end": "2021-12-31", "value": 5}])
        [finding] = check_platform_p2p(c, approved.plan_id, 1)
    assert (finding.value, finding.threshold, finding.ok) == (Decimal(9), Decimal(10), False) and "点对点" in finding.cite


def test_rectification_items_get_registry_deadlines_and_close_when_done(engine, approved, clock):
    u = _one_enterprise(approved)
    with engine.begin() as c:
        items = [{"issue": "研发投入未达目标", "required_action": "补充研发投入计划", "uscc": u},
                 {"issue": "资金拨付进度滞后", "required_action": "加快拨付"}]
        assert open_rectifications(c, approved.plan_id, 1, items, due_at=at("2022-06-30 17:30")) == 2
        assert open_rectifications(c, approved.plan_id, 1, items, due_at=at("2022-06-30 17:30")) == 0
        with pytest.raises(RuleViolation, match="第1项 整改须写明"):
            open_rectifications(c, approved.plan_id, 1, [{"issue": " ", "required_action": "x"}], due_at=at("2022-06-30 17:30"))
        first = c.execute(select(Rectification.id).order_by(Rectification.id)).scalars().first()
        close_rectification(c, first, at=at("2022-06-01 10:00"))
        deadlines = c.execute(select(Deadline.state, Deadline.due_at).where(Deadline.kind == "rectification").order_by(Deadline.id)).all()
    assert [d.state for d in deadlines] == [DeadlineState.met, DeadlineState.open]
    assert deadlines[1].due_at == at("2022-06-30 17:30")
