"""Exact money (issue 12 item 2): every Decimal column is exact on SQLite and PostgreSQL, in SQL too.

The probe: on SQLite ``typeof(amount_wan)`` was ``real`` and 20,002 payments summed to
3000700.02000015 万元. Now SQL SUM over 20,002 payments is the exact Decimal on both backends, and
migration 0002 converts the REAL values a 0001 database holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, StatementError

from models import Application, Transition
from models.db import make_engine
from models.enterprise import EnterpriseFinancialYear
from models.exact import ExactDecimal
from models.funding import FundingRecipient, FundTranche, Payment, PaymentAdjustment
from models.funding_plan import ImplementationPlan
from srdi.migrate import alembic_config, head_revision, upgrade

pytestmark = pytest.mark.postgres  # runs on SQLite and, with SRDI_TEST_POSTGRES_URL, on PostgreSQL

N = 20_002


def amount(i: int) -> Decimal:
    """150.00, 150.01 or 150.02 万元, and now and then a 分 more: sums that binary floats cannot hold."""
    return Decimal(150) + Decimal(i % 3).scaleb(-2) + (Decimal("0.0001") if i % 7 == 0 else 0)


EXPECTED = sum(amount(i) for i in range(N))


def payment_rows(n: int = N) -> tuple[list[dict], list[dict]]:
    recipients = [{"id": i + 1, "plan_id": 1, "item_type": "platform", "name": f"平台{i}", "uscc": f"P{i:017d}",
                   "platform_category": "key_support", "approved_amount_wan": Decimal(500), "status": "active"} for i in range(n)]
    payments = [{"id": i + 1, "tranche_id": 1, "recipient_id": i + 1, "base_amount_wan": amount(i), "factor": Decimal(1),
                 "amount_wan": amount(i)} for i in range(n)]
    return recipients, payments


PLAN = {"id": 1, "profile_id": "key-little-giant-funding", "province_code": "110000", "batch": 1, "title": "北京市实施方案",
        "status": "approved"}
TRANCHE = {"id": 1, "plan_id": 1, "tranche_index": 1, "label": "第一批", "years_after_approval": 0,
           "share_pct": Decimal("33.3333"), "requires_review": False, "scheduled_on": date(2026, 3, 2), "status": "scheduled"}


@pytest.fixture
def paid(engine):
    """20,002 payments of one tranche, written through the models' tables."""
    recipients, payments = payment_rows()
    with engine.begin() as c:
        c.execute(ImplementationPlan.__table__.insert(), [PLAN])
        c.execute(FundTranche.__table__.insert(), [TRANCHE])
        c.execute(FundingRecipient.__table__.insert(), recipients)
        c.execute(Payment.__table__.insert(), payments)
    return engine


def test_sql_sum_of_20002_payments_is_exact(paid):
    with paid.connect() as c:
        total, count = c.execute(select(func.sum(Payment.amount_wan), func.count())).one()
        paid_or_zero = c.execute(select(func.coalesce(func.sum(Payment.amount_wan), 0))).scalar_one()
        nothing = c.execute(select(func.coalesce(func.sum(Payment.amount_wan), 0)).where(Payment.id < 0)).scalar_one()
        stored = c.execute(text("SELECT DISTINCT typeof(amount_wan) FROM payment")).scalars().all() \
            if c.dialect.name == "sqlite" else ["integer"]
    assert (count, total, paid_or_zero) == (N, EXPECTED, EXPECTED)
    assert str(total) == str(EXPECTED) == "3000500.2958"   # as REALs: 3000500.2957997276
    assert Decimal(nothing) == 0
    assert stored == ["integer"]


def test_comparisons_order_and_extremes_in_sql_use_the_amounts(paid):
    amounts = [amount(i) for i in range(N)]
    with paid.connect() as c:
        at_least = c.execute(select(func.count()).where(Payment.amount_wan >= Decimal("150.01"))).scalar_one()
        above_int = c.execute(select(func.count()).where(Payment.amount_wan > 150)).scalar_one()
        between = c.execute(select(func.count()).where(Payment.amount_wan.between(Decimal("150.0001"), Decimal("150.0101")))).scalar_one()
        exactly = c.execute(select(func.count()).where(Payment.amount_wan == Decimal("150.0201"))).scalar_one()
        top = c.execute(select(Payment.amount_wan).order_by(Payment.amount_wan.desc(), Payment.id).limit(1)).scalar_one()
        low, high = c.execute(select(func.min(Payment.amount_wan), func.max(Payment.amount_wan))).one()
        doubled = c.execute(select(func.sum(Payment.amount_wan * 2) + 1)).scalar_one()
        share = c.execute(select(FundTranche.share_pct).where(FundTranche.share_pct < 50)).scalar_one()
    assert at_least == sum(a >= Decimal("150.01") for a in amounts)
    assert above_int == sum(a > 150 for a in amounts)
    assert between == sum(Decimal("150.0001") <= a <= Decimal("150.0101") for a in amounts)
    assert exactly == sum(a == Decimal("150.0201") for a in amounts)
    assert (top, low, high) == (max(amounts), min(amounts), max(amounts))
    assert doubled == EXPECTED * 2 + 1
    assert share == Decimal("33.3333")


def test_mixing_scales_in_sql_is_refused_when_the_expression_is_built():
    with pytest.raises(TypeError, match="相乘除"):
        Payment.base_amount_wan * Payment.factor
    with pytest.raises(TypeError, match="小数位数不同"):
        Payment.amount_wan + Application.score


EXTREMES = [Decimal("999999999999.9999"), Decimal("-999999999999.9999"), Decimal(0), Decimal("0.0001"), Decimal("-0.0001"),
            Decimal("123456789012.3456")]


def test_extreme_values_round_trip_and_extra_decimals_round_half_up(paid):
    decided = datetime(2026, 3, 2, tzinfo=timezone.utc)
    rows = [{"id": i + 1, "payment_id": 1, "kind": "deduction", "reason": "assessment_result", "amount_wan": v, "decided_by": "测试",
             "decided_at": decided}
            for i, v in enumerate([*EXTREMES, Decimal("1.00005"), Decimal("-1.00005"), Decimal("2.00004999")])]
    valid = {c.name for c in PaymentAdjustment.__table__.columns}
    with paid.begin() as c:
        c.execute(PaymentAdjustment.__table__.insert(), [{k: v for k, v in r.items() if k in valid} for r in rows])
    with paid.connect() as c:
        back = c.execute(select(PaymentAdjustment.amount_wan).order_by(PaymentAdjustment.id)).scalars().all()
    assert back == [*EXTREMES, Decimal("1.0001"), Decimal("-1.0001"), Decimal("2.0000")]
    assert all(v.as_tuple().exponent == -4 for v in back)
    too_large = {k: v for k, v in {**rows[0], "id": 99, "amount_wan": Decimal("1000000000000")}.items() if k in valid}
    with pytest.raises(StatementError):       # SQLite: refused by the type; PostgreSQL: numeric field overflow
        with paid.begin() as c:
            c.execute(PaymentAdjustment.__table__.insert(), [too_large])


def test_the_type_refuses_what_the_column_cannot_hold():
    money, score = ExactDecimal(16, 4), ExactDecimal(7, 2)
    assert money.exact(Decimal("0.00005")) == Decimal("0.0001")
    assert score.exact(Decimal("99999.994")) == Decimal("99999.99") and score.exact(Decimal("-99999.99")) == Decimal("-99999.99")
    assert money.exact(7) == Decimal("7.0000")
    for column, bad in ((money, Decimal("1e12")), (money, "abc"), (money, Decimal("NaN")), (score, Decimal("99999.995"))):
        with pytest.raises(ValueError):
            column.exact(bad)


# --- migration 0002: a 0001 database holding REAL money becomes exact ---------------------------

class RawWriter:
    """Writes through the DB-API connection itself, as a 0001-era srdi did: no engine events (which now
    belong to newer schemas, e.g. sealing the audit tables) run on a database still at 0001."""

    def __init__(self, engine):
        self.raw = engine.raw_connection()
        self.pyformat = engine.dialect.name != "sqlite"      # sqlite3 takes :name as it is; psycopg wants %(name)s

    def execute(self, sql: str, parameters=None) -> None:
        rows = parameters if isinstance(parameters, list) else [parameters or {}]
        if self.pyformat:
            sql = re.sub(r":(\w+)", r"%(\1)s", sql)
        cursor = self.raw.cursor()
        cursor.executemany(sql, rows)
        cursor.close()

    def commit(self) -> None:
        self.raw.commit()
        self.raw.close()


def _insert_0001_rows(writer: RawWriter, as_stored) -> None:
    """Rows a 0001-era srdi wrote, through raw SQL (the 0001 columns only): on SQLite, REALs."""
    now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    recipients, payments = payment_rows()
    sql = {
        "jurisdiction": "INSERT INTO jurisdiction (code, name, level, path) VALUES ('110000', '北京市', 'province', '110000')",
        "programme": "INSERT INTO programme (id, name, tier, documents, profile_sha256) "
                     "VALUES ('p', '专精特新', 'provincial_srdi', '[]', 'x')",
        "call": "INSERT INTO call (id, programme_id, name, year, jurisdiction_code, opens_at, status, kind) "
                "VALUES ('c', 'p', '2026年第一批', 2026, '110000', :at, 'open', 'new')",
        "enterprise": "INSERT INTO enterprise (id, uscc, name, size, industry_code, jurisdiction_code) "
                      "VALUES (1, '91110000600037341L', '样例企业', 'small', 'C34', '110000')",
        "application": "INSERT INTO application (id, ref, call_id, enterprise_id, jurisdiction_code, level, status, version, facts, score) "
                       "VALUES (1, 'A1', 'c', 1, '110000', 'county', 'pending', 1, '{}', :score)",
        "transition": "INSERT INTO transition (application_id, at, actor, role, jurisdiction_code, action, to_level, to_status, score) "
                      "VALUES (1, :at, 'system', 'system', '110000', 'submit', 'county', 'pending', :score)",
        "financials": "INSERT INTO enterprise_financial_year (enterprise_id, fiscal_year, revenue_wan, main_business_revenue_wan, "
                      "rd_expense_wan, net_profit_wan) VALUES (1, 2025, :revenue, :main, :rd, NULL)",
    }
    for key in ("jurisdiction", "programme", "call", "enterprise"):
        writer.execute(sql[key], {"at": now})
    writer.execute(sql["application"], {"score": as_stored(Decimal("87.65"))})
    writer.execute(sql["transition"], {"at": now, "score": as_stored(Decimal("87.65"))})
    writer.execute(sql["financials"],
                   {"revenue": as_stored(Decimal("69420.1234")), "main": as_stored(Decimal(5000)), "rd": as_stored(Decimal("0.1"))})
    plan = {**PLAN, "province_code": "110000"}
    writer.execute("INSERT INTO implementation_plan (id, profile_id, province_code, batch, title, status) "
                   "VALUES (:id, :profile_id, :province_code, :batch, :title, :status)", plan)
    writer.execute("INSERT INTO fund_tranche (id, plan_id, tranche_index, label, years_after_approval, share_pct, "
                   "requires_review, scheduled_on, status) VALUES (:id, :plan_id, :tranche_index, :label, "
                   ":years_after_approval, :share_pct, :requires_review, :scheduled_on, :status)",
                   {**TRANCHE, "share_pct": as_stored(TRANCHE["share_pct"])})
    writer.execute("INSERT INTO funding_recipient (id, plan_id, item_type, name, uscc, platform_category, "
                   "approved_amount_wan, status) VALUES (:id, :plan_id, :item_type, :name, :uscc, :platform_category, "
                   ":approved_amount_wan, :status)",
                   [{**r, "approved_amount_wan": as_stored(r["approved_amount_wan"])} for r in recipients])
    writer.execute("INSERT INTO payment (id, tranche_id, recipient_id, base_amount_wan, factor, amount_wan) "
                   "VALUES (:id, :tranche_id, :recipient_id, :base_amount_wan, :factor, :amount_wan)",
                   [{**p, **{k: as_stored(p[k]) for k in ("base_amount_wan", "factor", "amount_wan")}} for p in payments])


def _exact_values(engine) -> dict:
    with engine.connect() as c:
        return {
            "sum": c.execute(select(func.sum(Payment.amount_wan))).scalar_one(),
            "factors": c.execute(select(func.sum(Payment.factor))).scalar_one(),
            "first": c.execute(select(Payment.amount_wan).where(Payment.id == 1)).scalar_one(),
            "share": c.execute(select(FundTranche.share_pct)).scalar_one(),
            "score": c.execute(select(Application.score)).scalar_one(),
            "logged": c.execute(select(Transition.score)).scalar_one(),
            "financials": c.execute(select(EnterpriseFinancialYear.revenue_wan, EnterpriseFinancialYear.main_business_revenue_wan,
                                           EnterpriseFinancialYear.rd_expense_wan, EnterpriseFinancialYear.net_profit_wan)).one()._tuple(),
        }


EXACT = {"sum": EXPECTED, "factors": Decimal(N), "first": Decimal("150.0001"), "share": Decimal("33.3333"),
         "score": Decimal("87.65"), "logged": Decimal("87.65"),
         "financials": (Decimal("69420.1234"), Decimal(5000), Decimal("0.1000"), None)}


def _storage_classes(engine) -> set[str]:
    with engine.connect() as c:
        return set(c.execute(text("SELECT typeof(amount_wan) FROM payment UNION SELECT typeof(score) FROM transition "
                                  "UNION SELECT typeof(rd_expense_wan) FROM enterprise_financial_year")).scalars())


def test_upgrade_from_0001_makes_stored_real_money_exact(empty_db_url):
    engine = make_engine(empty_db_url)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as c:
        command.upgrade(alembic_config(c), "0001")
    writer = RawWriter(engine)
    _insert_0001_rows(writer, float if sqlite else (lambda v: v))   # 0001 on SQLite bound every Decimal as a float
    writer.commit()
    if sqlite:
        assert _storage_classes(engine) == {"real", "integer"}

    report = upgrade(empty_db_url)

    assert (report.before, report.after) == ("0001", head_revision()) and "0002" in report.applied
    assert _exact_values(engine) == EXACT
    if sqlite:
        assert _storage_classes(engine) == {"integer"}
    with pytest.raises(DatabaseError, match="append-only"):     # the log's triggers are back
        with engine.begin() as c:
            c.execute(text("UPDATE transition SET score = 1"))

    with engine.begin() as c:                                   # and back down: REALs the 0001 code reads
        command.downgrade(alembic_config(c), "0001")
    if sqlite:
        assert "real" in _storage_classes(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT amount_wan FROM payment WHERE id = 1")).scalar_one() == pytest.approx(150.0001)
    upgrade(empty_db_url)
    assert _exact_values(engine) == EXACT
    engine.dispose()
