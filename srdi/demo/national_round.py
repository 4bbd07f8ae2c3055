"""The national 小巨人 round (专精特新"小巨人"，工信厅企业函〔2021〕79号): enterprises Hebei has just
recognised apply; the province recommends within its quota (≤200, of which ≤10 class c); the ministry
scores (专家评审), decides, publishes the 公示 and recognises."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.application import Application
from models.clock import SHANGHAI, clock, local
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.enums import ApplicationStatus
from models.notice import Notice
from srdi.demo.mail_room import DemoMailbox
from srdi.demo.setup import HEBEI, MINISTRY, People
from srdi.demo.steps import Echo, Pipeline, judge_desk, pending
from tasks.eligibility.engine import run_eligibility
from tasks.intake.applications import create_applications
from tasks.reference.calls import open_call

PROGRAMME, YEAR = "national-little-giant", 2026
OPENS = datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI)
REVIEW_STARTS = datetime(2026, 5, 7, 9, 0, tzinfo=SHANGHAI)     # first working day after 申报截止 05-06 and 劳动节
MAX_APPLICANTS = 40


@dataclass
class NationalRound:
    call_id: str = ""
    applied: int = 0
    eligible: int = 0
    ineligible: int = 0
    by_category: dict = field(default_factory=dict)
    decisions: Counter = field(default_factory=Counter)
    quota_cut: int = 0
    notice_id: int = 0
    listed: int = 0
    recognised: int = 0
    notes: list[str] = field(default_factory=list)            # what the round was too small to show


def run_national_round(engine: Engine, people: People, hebei, mailbox: DemoMailbox, pipeline: Pipeline,
                       echo: Echo) -> NationalRound | None:
    """The round, or None when Hebei recognised nobody (then nobody can apply; said in the log)."""
    if not hebei.recognised_enterprises:
        echo("\n## 二、国家级专精特新\"小巨人\"：河北本轮没有认定企业，无企业可申报，本轮未进行")
        return None
    result = NationalRound()
    if clock.now() >= OPENS:
        raise RuntimeError(f"河北省一轮结束于 {local(clock.now())}，晚于国家级申报开始 {local(OPENS)}")
    clock.set(OPENS)
    with engine.begin() as connection:
        call = open_call(connection, PROGRAMME, YEAR, opens_at=OPENS, now=clock.now())
    result.call_id = call.id
    echo(f"\n## 二、{call.name}（批次 {call.id}）：申报 {local(OPENS):%m月%d日}—{local(call.closes_at):%m月%d日 %H:%M}")
    _apply(engine, result, hebei.recognised_enterprises, echo)
    clock.set(REVIEW_STARTS)
    provincial = judge_desk(engine, call.id, "provincial", HEBEI, people.reviewer(HEBEI))
    result.decisions.update({("provincial", k): v for k, v in provincial.items()})
    echo(f"省厅推荐和初核：同意推荐 {provincial['recommend']} 家，不予推荐 {provincial['reject']} 家（不符合79号条件）")
    pipeline.advance("省级推荐结束，按名额报部")
    if not provincial["recommend"]:
        _skip(result, echo, "河北申报企业无一符合79号条件，未报部，部级评审与公示未进行")
        return result
    with engine.connect() as connection:
        result.quota_cut = len(connection.execute(select(Application.id).where(
            Application.call_id == call.id, Application.status == ApplicationStatus.quota_cut)).all())
        rows = pending(connection, call.id, "ministry", MINISTRY)
    clock.advance(timedelta(days=14))
    lowest = {rows[-1].id: "专家评审：细分市场占有率佐证材料不足，未达推荐分数线"} if len(rows) > 1 else {}
    if not lowest:
        _skip(result, echo, f"报部只有 {len(rows)} 家，未演示专家评审不予通过")
    ministry = judge_desk(engine, call.id, "ministry", MINISTRY, people.reviewer(MINISTRY), extra_reject=lowest)
    result.decisions.update({("ministry", k): v for k, v in ministry.items()})
    echo(f"工业和信息化部专家评审并审核：同意 {ministry['recommend']} 家（附评分），不予通过 {ministry['reject']} 家")
    pipeline.advance("部审核结束，开启公示")
    mailbox.announce()
    with engine.connect() as connection:
        notice = connection.execute(select(Notice).where(Notice.call_id == call.id)).first()
    if notice is None:
        _skip(result, echo, "部里没有同意的企业，未开启公示，本轮无认定")
        return result
    result.notice_id = notice.id
    result.listed = len(_with_status(engine, call.id, ApplicationStatus.on_notice))
    echo(f"公示《{notice.title}》：{result.listed} 家，至 {local(notice.closes_at):%Y-%m-%d %H:%M}")
    clock.set(notice.closes_at + timedelta(minutes=5))
    pipeline.advance("公示期满，认定")
    mailbox.announce()
    result.recognised = len(_with_status(engine, call.id, ApplicationStatus.recognised))
    return result


def _skip(result: NationalRound, echo: Echo, note: str) -> None:
    result.notes.append(note)
    echo(f"  （{note}）")


def _with_status(engine: Engine, call_id: str, status: ApplicationStatus) -> list[int]:
    with engine.connect() as connection:
        return connection.execute(select(Application.id).where(Application.call_id == call_id,
                                                               Application.status == status)).scalars().all()


def _apply(engine: Engine, result: NationalRound, recognised: list[int], echo: Echo) -> None:
    """Every k-th recognised Hebei enterprise applies with its stored figures, an earlier year (2023)
    for the two-year growth, and the form's facts (patents, market rank, …), some of them short."""
    step = max(1, len(recognised) // MAX_APPLICANTS)
    chosen = recognised[::step][:MAX_APPLICANTS]
    table = EnterpriseFinancialYear.__table__
    with engine.begin() as connection:
        enterprises = connection.execute(select(Enterprise).where(Enterprise.id.in_(chosen)).order_by(Enterprise.id)).all()
        years = {(r.enterprise_id, r.fiscal_year): r for r in connection.execute(
            select(table).where(table.c.enterprise_id.in_(chosen)))}
        records = [_record(i, e, years) for i, e in enumerate(enterprises)]
        created = create_applications(connection, result.call_id, records, "system", clock.now())
        summary = run_eligibility(connection, result.call_id, sorted(created.applications.values()), clock.now())
    result.applied, result.eligible, result.ineligible = created.created, summary.eligible, summary.ineligible
    result.by_category = summary.by_category
    bands = "、".join(f"{k}类 {v} 家" for k, v in summary.by_category.items())
    echo(f"河北省已认定的 {len(recognised)} 家中 {created.created} 家申报；资格审查：符合 {summary.eligible} 家（{bands}），"
         f"不符合 {summary.ineligible} 家")


def _record(i: int, enterprise, years: dict) -> dict:
    size = enterprise.size.value if hasattr(enterprise.size, "value") else enterprise.size
    financials = []
    base = years.get((enterprise.id, YEAR - 2))
    if base is not None and (enterprise.id, YEAR - 3) not in years:
        # 2023 as declared on the national form: two years back, so growth is judged over two years
        earlier = {k: (v / Decimal("1.12")).quantize(Decimal("0.01")) if isinstance(v, Decimal) else v
                   for k, v in base._mapping.items() if k not in ("id", "enterprise_id", "fiscal_year")}
        financials.append({"fiscal_year": YEAR - 3, **earlier})
    facts = {"independent_legal_person": True, "niche_market_years": 3 + i % 6,
             "niche_market_rank_province": 4 if i % 10 == 7 else 1 + i % 3,
             "invention_patents": 1 if i % 9 == 4 else 2 + i % 3, "other_ip_count": 2 + i % 3, "rd_institution": i % 11 != 5,
             "info_system_core_business": True, "own_brand": True, "quality_cert": True, "product_standard": True,
             "equity_financing_2y_wan": 9000 if i % 2 else 0, "key_tech_breakthrough": i % 2 == 1,
             "false_information": False, "tax_evasion_or_violation": False, "main_product_name": "专用设备核心部件"}
    return {"uscc": enterprise.uscc, "name": enterprise.name, "size": size, "industry_code": enterprise.industry_code,
            "jurisdiction_code": enterprise.jurisdiction_code, "registered_on": enterprise.registered_on,
            "listed_board": enterprise.listed_board, "facts": facts, "financials": financials}
