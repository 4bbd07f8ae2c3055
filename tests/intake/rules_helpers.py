"""Judging one made-up enterprise against a shipped profile, without a database.

Thresholds in the tests are copied from the documents (not read from the profiles), so a test
fails when a profile misstates its document.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Optional

from tasks.eligibility.metrics import Subject
from tasks.eligibility.rules import Background, Compiled, Outcome, Row, evaluate
from tasks.reference.calls import get_profile

CALL_YEAR = 2026
R = CALL_YEAR - 1          # 上年


def year(revenue, main=None, rd=None, net=None, profit=None, assets=None, liabilities=None, employees=None, rd_staff=None) -> dict:
    """One fiscal year of raw figures in 万元 (Decimal from strings, as stored)."""
    def d(value):
        return None if value is None else Decimal(str(value))
    revenue = d(revenue)
    figures = {"revenue_wan": revenue, "main_business_revenue_wan": d(main) if main is not None else revenue,
               "rd_expense_wan": d(rd), "net_profit_wan": d(net), "total_profit_wan": d(profit),
               "total_assets_wan": d(assets), "total_liabilities_wan": d(liabilities),
               "employees": employees, "rd_staff": rd_staff}
    return {k: v for k, v in figures.items() if v is not None}


def judge(profile_id: str, years: dict[int, dict], facts: dict, *, batch: Optional[int] = None,
          listed_board: Optional[str] = None, banned_until: Optional[date] = None,
          recognitions: tuple = (), call_id: str = "this-call") -> Outcome:
    profile = get_profile(profile_id)
    compiled = Compiled(profile.eligibility, R)
    background = Background(call_id, CALL_YEAR, batch, date(CALL_YEAR, 3, 2), profile.tier, listed_board, banned_until,
                            list(recognitions))
    return evaluate(compiled, Subject(1, R, years, dict(facts)), background)


def row(outcome: Outcome, node_id: str):
    """The stored row of a node; for a group (not stored) a row carrying its verdict."""
    found = next((r for r in outcome.rows if r.node_id == node_id), None)
    return found if found is not None else Row(node_id, "group", outcome.results[node_id])
