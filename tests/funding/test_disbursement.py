"""Disbursement runs: one payment per recipient per tranche, whatever happens to the run.

财建〔2021〕2号 三(四) (seed 001 L49): funds arrive 于批复当年、实施期满1年及满2年; the province decides
the 分配方案 (90%以上用于直接支持重点"小巨人"企业) and reports it 接到中央直达资金指标发文后30日内.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import Bureau
from models.deadline import Deadline, DeadlineState
from models.errors import RuleViolation
from models.funding import (
    AdjustmentKind,
    AdjustmentReason,
    DisbursementRun,
    FundingRecipient,
    FundTranche,
    Payment,
    RunStatus,
    TrancheStatus,
)
from tasks.funding.disbursement import run_disbursement
from tasks.funding.payments import find_payment, funds_status, record_adjustment, report_allocation_plan
from tasks.reminders.deadlines import mark_missed
from tests.funding.conftest import BEIJING, at, money


class InjectedFailure(RuntimeError):
    pass


def _payments(engine, tranche_index=1):
    with engine.connect() as c:
        return c.execute(select(Payment.recipient_id, Payment.amount_wan).join(FundTranche, FundTranche.id == Payment.tranche_id)
                         .where(FundTranche.tranche_index == tranche_index).order_by(Payment.recipient_id)).all()


def _expected_first_tranche(engine, profile):
    share = profile.funding.tranches[0].share_pct
    with engine.connect() as c:
        return [(r.id, money(Decimal(r.approved_amount_wan) * share / 100))
                for r in c.execute(select(FundingRecipient.id, FundingRecipient.approved_amount_wan).order_by(FundingRecipient.id))]


@pytest.mark.postgres
def test_a_run_pays_every_recipient_once_and_a_rerun_creates_nothing(engine, profile, approved, tmp_path, db_backend):
    first = run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    again = run_disbursement(engine, BEIJING, 1, received_at=at("2021-09-01 09:00"), out_dir=tmp_path)
    assert (first.created, again.created) == (11, 0)
    assert [(rid, money(amount)) for rid, amount in _payments(engine)] == _expected_first_tranche(engine, profile)
    assert again.status == TrancheStatus.disbursed and again.payments == 11
    # the first receipt starts the 30-day clock; a re-run does not move it
    assert again.allocation_plan_due_at == at("2021-09-09 23:59:59")


@pytest.mark.postgres
def test_a_run_killed_half_way_is_completed_by_the_next_run_without_duplicates_or_gaps(engine, profile, approved, tmp_path, db_backend):
    def die_after_two_chunks(created: int) -> None:
        if created >= 6:
            raise InjectedFailure("进程在写入6笔后被终止")

    with pytest.raises(InjectedFailure):
        run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), chunk_size=3,
                         after_chunk=die_after_two_chunks, out_dir=tmp_path)
    assert len(_payments(engine)) == 6
    with engine.connect() as c:
        assert c.execute(select(DisbursementRun.status)).scalar() == RunStatus.failed
        assert c.execute(select(FundTranche.status).where(FundTranche.tranche_index == 1)).scalar() == TrancheStatus.received
    resumed = run_disbursement(engine, BEIJING, 1, chunk_size=3, out_dir=tmp_path)
    assert resumed.created == 5 and resumed.status == TrancheStatus.disbursed
    assert [(rid, money(amount)) for rid, amount in _payments(engine)] == _expected_first_tranche(engine, profile)


@pytest.mark.postgres
def test_the_database_itself_refuses_a_second_payment_for_the_same_tranche_and_recipient(engine, approved, tmp_path, db_backend):
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.connect() as c:
        row = dict(c.execute(select(Payment)).first()._mapping)
    row.pop("id")
    with pytest.raises(IntegrityError):
        with engine.begin() as c:
            c.execute(Payment.__table__.insert(), [row])


def test_the_allocation_plan_deadline_is_in_the_registry_and_goes_to_provincial_finance(engine, approved, tmp_path, clock):
    from notifications.recipients import responsible

    with engine.begin() as c:
        c.execute(Bureau.__table__.insert(), [
            {"name": "北京市经济和信息化局", "kind": "sme", "jurisdiction_code": BEIJING, "email": "sme@bj.example"},
            {"name": "北京市财政局", "kind": "finance", "jurisdiction_code": BEIJING, "email": "czj@bj.example"}])
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.connect() as c:
        deadline = c.execute(select(Deadline).where(Deadline.kind == "allocation_plan")).one()
        mailboxes = {r.email for r in responsible(c, [deadline])[deadline.id]}
    assert deadline.due_at == at("2021-09-09 23:59:59") and deadline.jurisdiction_code == BEIJING
    assert deadline.state == DeadlineState.open and "分配方案报财政部" in deadline.title
    assert {"sme@bj.example", "czj@bj.example"} <= mailboxes
    clock.set(at("2021-09-10 00:00"))
    with engine.begin() as c:
        assert mark_missed(c) == 1     # only the allocation plan: tranche 1 arrived, tranches 2 and 3 are not yet due
        assert report_allocation_plan(c, BEIJING, 1, reported_at=at("2021-09-12 10:00")) is True
    with engine.connect() as c:
        states = dict(c.execute(select(Deadline.key, Deadline.state)).all())
    assert states[f"allocation_plan:{approved.plan_id}:1"] == DeadlineState.missed


def test_reporting_in_time_closes_the_deadline_as_met(engine, approved, tmp_path, clock):
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    with engine.begin() as c:
        assert report_allocation_plan(c, BEIJING, 1, reported_at=at("2021-09-09 17:00")) is True
        assert report_allocation_plan(c, BEIJING, 1, reported_at=at("2021-09-10 17:00")) is False
    with engine.connect() as c:
        assert c.execute(select(Deadline.state).where(Deadline.kind == "allocation_plan")).scalar() == DeadlineState.met
        assert c.execute(select(Deadline.state).where(Deadline.key == f"tranche:{approved.plan_id}:1")).scalar() == DeadlineState.met


def test_the_allocation_workbook_lists_each_payment_and_the_direct_share(engine, approved, tmp_path, clock):
    outcome = run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), doc_no="财建〔2021〕100号", out_dir=tmp_path)
    sheet = load_workbook(outcome.workbook)["分配方案"]
    values = list(sheet.iter_rows(values_only=True))
    lines = [row for row in values[3:] if isinstance(row[0], int)]
    assert len(lines) == 11 and {row[3] for row in lines} == {r["uscc"] for r in approved.rows}
    total = next(row for row in values if row[0] == "合计")[9]
    assert total == pytest.approx(float(sum(money(a) for _, a in _payments(engine))))
    share = next(row for row in values if str(row[0]).startswith("直接支持"))[2]
    assert share == pytest.approx(95.69, abs=0.01) and "财建〔2021〕100号" in values[1][0] and "2021-09-09" in values[1][0]


def test_deductions_and_clawbacks_are_recorded_against_payments_and_never_exceed_them(engine, approved, tmp_path, clock):
    run_disbursement(engine, BEIJING, 1, received_at=at("2021-08-10 09:00"), out_dir=tmp_path)
    platform_uscc = approved.rows[-1]["uscc"]
    with engine.begin() as c:
        payment_id = find_payment(c, BEIJING, 1, platform_uscc)
        record_adjustment(c, payment_id, AdjustmentKind.deduction, Decimal(20), AdjustmentReason.platform_working_expenses,
                          decided_by="bj-finance", legal_basis="财建〔2021〕2号 四(二)")
        with pytest.raises(RuleViolation, match="超过该笔拨付尚余的"):
            record_adjustment(c, payment_id, AdjustmentKind.clawback, Decimal(60), AdjustmentReason.enterprise_fraud,
                              decided_by="bj-finance")
    with engine.connect() as c:
        tranche = funds_status(c, BEIJING)[0]["tranches"][0]
        paid = c.execute(select(Payment.amount_wan).where(Payment.id == payment_id)).scalar()
    assert money(paid) == money(Decimal(200) * Decimal("33.34") / 100)   # the payment row itself is unchanged
    assert tranche["adjustments_wan"] == Decimal(20) and tranche["net_wan"] == tranche["amount_wan"] - 20


def test_a_province_without_an_approved_plan_cannot_run(engine, approved, tmp_path, clock):
    with pytest.raises(Exception, match="没有"):
        run_disbursement(engine, "120000", 1, out_dir=tmp_path)
    with pytest.raises(Exception, match="没有第4笔资金"):
        run_disbursement(engine, BEIJING, 4, out_dir=tmp_path)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(DisbursementRun)).scalar() == 0
