"""The funding demo end to end, and the `srdi funds` commands a clerk uses."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from models.funding import FundingRecipient, FundTranche, Payment, RecipientStatus
from models.funding_plan import PlanStatus
from srdi.cli.main import app
from srdi.demo.funding_round import run_funding_demo
from tasks.funding.plan_checks import PlanRejected
from tests.funding.conftest import BEIJING, enterprises

runner = CliRunner()


def _paid_tranches(engine, recipient_id):
    with engine.connect() as c:
        return c.execute(select(FundTranche.tranche_index).join(Payment, Payment.tranche_id == FundTranche.id)
                         .where(Payment.recipient_id == recipient_id).order_by(FundTranche.tranche_index)).scalars().all()


def test_demo_two_provinces_three_tranches_and_one_enterprise_stopped(engine, tmp_path, clock):
    lines: list[str] = []
    result = run_funding_demo(engine, out_dir=tmp_path, echo=lines.append)
    assert [p["status"] for p in result.plans] == [PlanStatus.approved] * 2
    assert [p["recipients"] for p in result.plans] == [{"active": 31, "discontinued": 1}, {"active": 32}]
    with engine.connect() as c:
        stopped = c.execute(select(FundingRecipient).where(FundingRecipient.status == RecipientStatus.discontinued)).one()
        payments = c.execute(select(func.count()).select_from(Payment)).scalar()
    assert stopped.name == "北京精密制造0007有限公司" and stopped.discontinued_year == 1
    assert "不合格" in stopped.discontinued_reason
    assert _paid_tranches(engine, stopped.id) == [1]                      # tranches 2 and 3 stop
    assert _paid_tranches(engine, stopped.id + 1) == [1, 2, 3]
    assert payments == 32 * 3 - 2 + 32 * 3
    assert len(list(tmp_path.glob("分配方案_*.xlsx"))) == 6
    assert any(line.startswith("停止支持 北京精密制造0007有限公司") for line in lines)
    again = run_funding_demo(engine, out_dir=tmp_path, echo=lambda _: None)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Payment)).scalar() == payments
    assert again.plans == result.plans


def test_cli_run_and_status(engine, approved, tmp_path, clock):
    ran = runner.invoke(app, ["funds", "run", "--province", BEIJING, "--tranche", "1", "--received", "2021-08-10T09:00",
                              "--out", str(tmp_path), "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output)["created"] == 11
    status = runner.invoke(app, ["funds", "status", "--json"])
    [plan] = json.loads(status.output)
    tranche = plan["tranches"][0]
    assert (tranche["payments"], tranche["allocation_plan_due_at"], tranche["allocation_plan_deadline"]) == (
        11, "2021-09-09T15:59:59+00:00", "open")
    again = runner.invoke(app, ["funds", "run", "--province", BEIJING, "--tranche", "1", "--out", str(tmp_path)])
    assert again.exit_code == 0 and "新增拨付 0 笔，共 11 笔" in again.output


def test_cli_plan_submit_refuses_a_bad_list_whole(engine, profile, tmp_path, clock):
    ents = enterprises(engine, 2)
    sheet = tmp_path / "名单.csv"
    sheet.write_text("item_type,uscc,name,platform_category,amount_wan\n"
                     f"key_enterprise,{ents[0]['uscc']},甲,,400\n"
                     f"key_enterprise,{ents[1]['uscc']},乙,,-5\n", encoding="utf-8")
    refused = runner.invoke(app, ["funds", "plan-submit", "--province", BEIJING, "--batch", "1", "--file", str(sheet),
                                  "--at", "2021-03-25T10:00"])
    assert isinstance(refused.exception, PlanRejected)
    assert "第2行 字段 amount_wan：应为大于0的金额（万元），实际为 '-5'" in str(refused.exception)
    sheet.write_text(sheet.read_text(encoding="utf-8").replace(",-5", ",420"), encoding="utf-8")
    accepted = runner.invoke(app, ["funds", "plan-submit", "--province", BEIJING, "--batch", "1", "--file", str(sheet),
                                   "--at", "2021-03-25T10:00"])
    assert accepted.exit_code == 0 and "已登记报送版（第1版，2 行）" in accepted.output
