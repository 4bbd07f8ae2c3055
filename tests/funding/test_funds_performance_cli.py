"""`srdi funds` 绩效 commands: the province's 绩效目标表 and its check, the platforms' 点对点 check,
整改 items opened and closed, and the ministry's grade."""

from __future__ import annotations

import csv
import json
from decimal import Decimal

from sqlalchemy import select
from typer.testing import CliRunner

from models.deadline import Deadline, DeadlineState
from models.performance import GradeSource, PerformanceReview, ProvincialTargetValue, Rectification, RectificationStatus
from srdi.cli.main import app, main
from tasks.funding.performance import record_actuals, record_targets, review_year
from tasks.people.users import add_user
from tests.funding.conftest import BEIJING, at
from tests.funding.test_performance import _province_rows

runner = CliRunner()


def _csv(path, columns, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_the_provincial_table_is_recorded_once_and_checked(engine, clock, tmp_path, capsys):
    sheet = _csv(tmp_path / "绩效目标表.csv", ["indicator", "segment", "target_y1"], _province_rows())
    recorded = runner.invoke(app, ["funds", "province-table", "--province", BEIJING, "--year", "2021", "--file", sheet, "--json"])
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.output)["created"] == 8
    again = runner.invoke(app, ["funds", "province-table", "--province", BEIJING, "--year", "2021", "--file", sheet])
    assert again.exit_code == 0 and "新增 0 行" in again.output
    with engine.connect() as c:
        rows = dict(c.execute(select(ProvincialTargetValue.indicator, ProvincialTargetValue.target_y1)
                              .where(ProvincialTargetValue.segment == "national_giant")).all())
    assert rows["served_training_count"] == Decimal(114) and rows["avg_rd_ratio_pct"] == Decimal("8.2")

    checked = runner.invoke(app, ["funds", "province-check", "--province", BEIJING, "--year", "2021", "--json"])
    assert checked.exit_code == 0, checked.output
    failed = {f["check"] for f in json.loads(checked.output) if not f["ok"]}
    assert failed == {"coverage:served_training_count"}
    shown = runner.invoke(app, ["funds", "province-check", "--province", BEIJING, "--year", "2021"])
    assert shown.exit_code == 0 and "未达" in shown.output

    bad = _csv(tmp_path / "bad.csv", ["indicator", "segment", "target_y1"], [{"indicator": "x", "segment": "all", "target_y1": "五"}])
    assert main(["funds", "province-table", "--province", "120000", "--year", "2021", "--file", bad]) == 1
    assert "第1行 字段 target_y1：应为数值，实际为 '五'" in capsys.readouterr().err
    assert main(["funds", "province-check", "--province", "120000", "--year", "2021"]) == 1
    assert "120000 2021 年的绩效目标表尚未录入" in capsys.readouterr().err


def test_the_p2p_check_names_the_platform_that_falls_short(engine, approved):
    platform = approved.rows[-1]["uscc"]
    with engine.begin() as c:
        record_actuals(c, approved.plan_id, [
            {"uscc": platform, "indicator": "p2p_served_giant_count", "period_end": "2021-12-31", "value": 9}])
    result = runner.invoke(app, ["funds", "p2p-check", "--province", BEIJING, "--year", "1", "--json"])
    assert result.exit_code == 0, result.output
    [finding] = json.loads(result.output)
    assert (Decimal(str(finding["value"])), Decimal(str(finding["threshold"])), finding["ok"]) == (Decimal(9), Decimal(10), False)


def test_rectification_items_are_opened_with_deadlines_and_closed(engine, approved, tmp_path, capsys):
    u = approved.enterprises[0]["uscc"]
    items = _csv(tmp_path / "整改.csv", ["issue", "required_action", "uscc"],
                 [{"issue": "研发投入未达目标", "required_action": "补充研发投入计划", "uscc": u},
                  {"issue": "资金拨付进度滞后", "required_action": "加快拨付", "uscc": ""}])
    args = ["funds", "rectify", "--province", BEIJING, "--year", "1", "--file", items, "--due", "2022-06-30T17:30"]
    opened = runner.invoke(app, [*args, "--json"])
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["created"] == 2
    assert "新增 0 项" in runner.invoke(app, args).output
    with engine.connect() as c:
        first, second = c.execute(select(Rectification.id).order_by(Rectification.id)).scalars().all()
    closed = runner.invoke(app, ["funds", "rectify-close", str(first), "--at", "2022-06-01T10:00"])
    assert closed.exit_code == 0, closed.output
    with engine.connect() as c:
        statuses = c.execute(select(Rectification.status).order_by(Rectification.id)).scalars().all()
        deadlines = c.execute(select(Deadline.state, Deadline.due_at).where(Deadline.kind == "rectification").order_by(Deadline.id)).all()
    assert statuses == [RectificationStatus.done, RectificationStatus.open]
    assert [d.state for d in deadlines] == [DeadlineState.met, DeadlineState.open] and deadlines[1].due_at == at("2022-06-30 17:30")
    assert main(["funds", "rectify-close", "999999"]) == 1
    assert "整改事项 999999 不存在" in capsys.readouterr().err


def test_the_ministry_grade_replaces_the_computed_one(engine, approved, capsys):
    u = approved.enterprises[0]["uscc"]
    with engine.begin() as c:
        record_targets(c, approved.plan_id, [{"uscc": u, "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 6, "target_y2": 7}])
        record_actuals(c, approved.plan_id, [{"uscc": u, "indicator": "rd_ratio_pct", "period_end": "2021-12-31", "value": "5.7"}])
        review_year(c, approved.plan_id, 1, reviewed_at=at("2022-03-15 10:00"))
        add_user(c, "miit-clerk", "clerk", "000000", "工业和信息化部经办人")
    base = ["funds", "grade", "--province", BEIJING, "--uscc", u, "--year", "1", "--reason", "现场核查研发投入已达标", "--by", "nobody"]
    assert main([*base, "--grade", "良好"]) == 1                       # the decider must be an existing, active user
    assert "--as 指定的用户 nobody 不存在" in capsys.readouterr().err
    base[-1] = "miit-clerk"
    assert main([*base, "--grade", "较好"]) == 1
    assert "等次应为 优秀、良好、合格、不合格 之一" in capsys.readouterr().err
    result = runner.invoke(app, [*base, "--grade", "良好"])
    assert result.exit_code == 0 and "改定为“良好”" in result.output
    with engine.connect() as c:
        review = c.execute(select(PerformanceReview.grade, PerformanceReview.grade_source, PerformanceReview.decided_by,
                                  PerformanceReview.reason)).one()
    assert tuple(review) == ("良好", GradeSource.ministry, "miit-clerk", "现场核查研发投入已达标")
