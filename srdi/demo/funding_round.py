"""Demo: two provinces take a batch of 重点"小巨人" through approval and three annual tranches.

Beijing and Tianjin each recommend about 30 key enterprises and two platforms; the plan goes 报送版 →
初步/正式合规性审核意见 → 备案版 → 批复 (2021-07-20); tranche 1 is paid in 2021, the 2021 and 2022
performance reviews gate tranches 2 and 3. One Beijing enterprise misses its targets, is graded 不合格,
is left off the continuation list and receives nothing more. Runs against the engine it is given,
creates what it needs and can be run again (it then creates nothing new).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.clock import SHANGHAI
from models.funding import FundingRecipient, RecipientStatus
from models.funding_plan import OpinionStage, PlanStatus, VersionKind
from models.performance import ContinuationList, PerformanceReview
from srdi.demo.funding_seed import create_key_enterprises, make_uscc
from tasks.funding.disbursement import run_disbursement
from tasks.funding.payments import funds_status, report_allocation_plan
from tasks.funding.performance import record_actuals, record_targets, review_year
from tasks.funding.plan import approve_plan, get_plan, open_plan, record_opinion, submit_version
from tasks.funding.rules import funding_profile
from tasks.funding.tranches import record_continuation_list

PROVINCES = {"110000": "北京", "120000": "天津"}
APPROVED_AT = datetime(2021, 7, 20, 10, 0, tzinfo=SHANGHAI)
FAILING_SERIAL = 7          # the Beijing enterprise that misses its targets


def beijing_time(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=SHANGHAI)


@dataclass(frozen=True)
class DemoResult:
    plans: list[dict]
    stopped: list[str]


def _plan_rows(enterprises: list[dict], region: str, short: str) -> list[dict]:
    rows = [{"item_type": "key_enterprise", "uscc": e["uscc"], "name": e["name"], "amount_wan": 300 + (i % 7) * 50}
            for i, e in enumerate(enterprises)]
    rows.append({"item_type": "platform", "platform_category": "key_support", "uscc": make_uscc(region, 900001),
                 "name": f"{short}中小企业公共服务示范平台（重点支持）", "amount_wan": 300})
    rows.append({"item_type": "platform", "platform_category": "overall_support", "uscc": make_uscc(region, 900002),
                 "name": f"{short}专精特新服务中心（统筹支持）", "amount_wan": 180})
    return rows


def _targets(plan_rows: list[dict]) -> list[dict]:
    out = []
    for row in plan_rows:
        if row["item_type"] == "key_enterprise":
            out += [{"uscc": row["uscc"], "indicator": "rd_ratio_pct", "initial_value": 5, "target_y1": 5.5, "target_y2": 6},
                    {"uscc": row["uscc"], "indicator": "valid_invention_patent_count", "initial_value": 4, "target_y1": 6, "target_y2": 8},
                    {"uscc": row["uscc"], "indicator": "rd_commercialisation_project_count", "initial_value": 1,
                     "target_y1": 3, "target_y2": 3},
                    {"uscc": row["uscc"], "indicator": "asset_liability_ratio_pct", "initial_value": 55, "target_y1": 52, "target_y2": 50}]
        else:
            out += [{"uscc": row["uscc"], "indicator": "p2p_served_giant_count", "initial_value": 0, "target_y1": 30, "target_y2": 30},
                    {"uscc": row["uscc"], "indicator": "platform_satisfaction_pct", "initial_value": 85, "target_y1": 90, "target_y2": 92}]
    return out


def _actuals(plan_rows: list[dict], year: int, failing: set[str]) -> list[dict]:
    """Half-yearly reports: ★ figures are stocks (the 12-31 one counts), flows add up over the year."""
    out, h1, h2 = [], f"{year}-06-30", f"{year}-12-31"
    step = year - 2020
    for i, row in enumerate(plan_rows):
        u, spread = row["uscc"], Decimal(i % 5) / 10
        if row["item_type"] != "key_enterprise":
            out += [{"uscc": u, "indicator": "p2p_served_giant_count", "period_end": h1, "value": 15},
                    {"uscc": u, "indicator": "p2p_served_giant_count", "period_end": h2, "value": 16},
                    {"uscc": u, "indicator": "platform_satisfaction_pct", "period_end": h2, "value": 93}]
            continue
        bad = u in failing
        short_patent, short_projects = i % 3 == 1, i % 4 == 0
        out += [{"uscc": u, "indicator": "rd_ratio_pct", "period_end": h2,
                 "value": Decimal("4.2") if bad else Decimal("5.5") + spread * step},
                {"uscc": u, "indicator": "valid_invention_patent_count", "period_end": h1, "value": 4 + step},
                {"uscc": u, "indicator": "valid_invention_patent_count", "period_end": h2,
                 "value": 4 if bad else 4 + 2 * step - short_patent},
                {"uscc": u, "indicator": "rd_commercialisation_project_count", "period_end": h1, "value": 0 if bad else 1},
                {"uscc": u, "indicator": "rd_commercialisation_project_count", "period_end": h2, "value": 0 if bad else 2 - short_projects},
                {"uscc": u, "indicator": "asset_liability_ratio_pct", "period_end": h2, "value": 61 if bad else 52 - i % 3}]
    return out


def approve_demo_plan(engine: Engine, code: str, short: str, enterprises: list[dict], region: str) -> tuple[int, list[dict]]:
    profile = funding_profile()
    rows = _plan_rows(enterprises, region, short)
    with engine.begin() as c:
        plan_id = open_plan(c, code, 1, profile)
        if get_plan(c, plan_id).status != PlanStatus.drafting:
            return plan_id, rows
        submit_version(c, plan_id, VersionKind.submission, rows, submitted_at=beijing_time("2021-03-25"), actor=f"{code}-sme",
                       document_ref=f"{short}经信〔2021〕报送版", profile=profile)
        record_opinion(c, plan_id, OpinionStage.preliminary, issued_at=beijing_time("2021-05-06"),
                       items=[{"issue": "部分企业目标表未量化", "required_change": "补充满一年、满两年目标值"}])
        record_opinion(c, plan_id, OpinionStage.formal, issued_at=beijing_time("2021-06-10"),
                       institution_amounts={rows[-1]["uscc"]: Decimal(150)})
        submit_version(c, plan_id, VersionKind.filed, rows, submitted_at=beijing_time("2021-06-25"), actor=f"{code}-sme",
                       document_ref=f"{short}经信〔2021〕备案版", profile=profile)
        approve_plan(c, plan_id, approved_at=APPROVED_AT, doc_no="工信部联企业函〔2021〕示例号", profile=profile)
        record_targets(c, plan_id, _targets(rows))
    return plan_id, rows


def review_and_continue(engine: Engine, plan_id: int, rows: list[dict], year_index: int, failing: set[str]) -> None:
    with engine.begin() as c:
        record_actuals(c, plan_id, _actuals(rows, 2020 + year_index, failing))
        review_year(c, plan_id, year_index, reviewed_at=beijing_time(f"{2021 + year_index}-03-15"))
        if c.execute(select(ContinuationList.id).where(ContinuationList.plan_id == plan_id,
                                                       ContinuationList.year_index == year_index)).scalar():
            return
        passed = c.execute(select(FundingRecipient.uscc).join(PerformanceReview, PerformanceReview.recipient_id == FundingRecipient.id)
                           .where(PerformanceReview.plan_id == plan_id, PerformanceReview.year_index == year_index,
                                  PerformanceReview.grade != "不合格", FundingRecipient.item_type == "key_enterprise")).scalars().all()
        record_continuation_list(c, plan_id, year_index, passed, published_at=beijing_time(f"{2021 + year_index}-05-20"),
                                 doc_ref=f"{2021 + year_index}年度继续支持名单")


def run_funding_demo(engine: Engine, *, per_province: int = 30, out_dir: Optional[Path] = None,
                     echo: Callable[[str], None] = print) -> DemoResult:
    """Approval, three tranches and two reviews for Beijing and Tianjin; prints a short summary."""
    for code, short in PROVINCES.items():
        region = f"{code[:2]}0101"
        with engine.begin() as c:
            enterprises = create_key_enterprises(c, code, per_province, name_prefix=f"{short}精密制造", county=region,
                                                 valid_from=date(2021, 1, 1), valid_to=date(2023, 12, 31))
        failing = {enterprises[FAILING_SERIAL - 1]["uscc"]} if code == "110000" else set()
        plan_id, rows = approve_demo_plan(engine, code, short, enterprises, region)
        for index in (1, 2, 3):
            if index > 1:
                review_and_continue(engine, plan_id, rows, index - 1, failing)
            run_disbursement(engine, code, index, batch=1, received_at=beijing_time(f"{2020 + index}-08-10"),
                             doc_no=f"财建〔{2020 + index}〕直达资金指标", out_dir=out_dir)
            with engine.begin() as c:
                report_allocation_plan(c, code, index, batch=1, reported_at=beijing_time(f"{2020 + index}-08-30"))
    with engine.connect() as c:
        plans = funds_status(c)
        stopped = [f"{r.name}：{r.discontinued_reason.split(' —— ')[0]}" for r in c.execute(
            select(FundingRecipient.name, FundingRecipient.discontinued_reason).where(
                FundingRecipient.status == RecipientStatus.discontinued).order_by(FundingRecipient.id))]
    for plan in plans:
        tranches = "；".join(f"第{t['tranche']}笔 {t['payments']} 笔共 {t['amount_wan']:.2f} 万元" for t in plan["tranches"])
        echo(f"{plan['title']}：实施中 {plan['recipients'].get('active', 0)} 个、停止支持 "
             f"{plan['recipients'].get('discontinued', 0)} 个；{tranches}")
    for line in stopped:
        echo(f"停止支持 {line}")
    return DemoResult(plans, stopped)
