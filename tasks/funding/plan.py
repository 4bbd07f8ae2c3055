"""The 实施方案 lifecycle: 报送版 → 合规性审核意见（初步、正式） → 备案版 → 批复, and the 工作安排.

Each step is one domain function that checks the current state and the rules and writes its rows in
the caller's transaction (``with engine.begin() as connection``). A refused step raises and changes
nothing. Approval creates the recipients and their tranche schedule (tasks/funding/tranches.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from models.clock import clock, local
from models.enums import JurisdictionLevel
from models.errors import Conflict, NotFound, RuleViolation
from models.funding import FundingRecipient
from models.funding_plan import (
    ComplianceOpinion,
    ImplementationPlan,
    OpinionStage,
    PlanItem,
    PlanStatus,
    PlanVersion,
    VersionKind,
    WorkArrangement,
    WorkArrangementStatus,
)
from models.jurisdiction import Jurisdiction
from models.profile import DeadlineRule, Profile
from models.workflow import PLAN
from models.workflow_writer import SystemActor, apply, create, initial, record_created
from tasks.funding.plan_checks import PlanRejected, check_list
from tasks.funding.rules import funding_of, funding_profile
from tasks.insert_once import insert_new

# The plan's action for each document; which states accept it is the workflow table's (models/workflow.py).
_VERSION_ACTION = {VersionKind.submission: "submit", VersionKind.filed: "file"}
_OPINION_ACTION = {OpinionStage.preliminary: "preliminary_opinion", OpinionStage.formal: "formal_opinion"}


@dataclass(frozen=True)
class VersionRecorded:
    plan_id: int
    version_id: int
    version_no: int
    warnings: list[str]


def get_plan(connection: Connection, plan_id: int) -> ImplementationPlan:
    row = connection.execute(select(ImplementationPlan).where(ImplementationPlan.id == plan_id)).first()
    if row is None:
        raise NotFound(f"实施方案 {plan_id} 不存在")
    return ImplementationPlan.model_validate(row._mapping)


def find_plan(connection: Connection, province_code: str, batch: Optional[int] = None,
              profile_id: Optional[str] = None) -> ImplementationPlan:
    """The plan of a province (and batch); ambiguous or missing is a clear refusal."""
    query = select(ImplementationPlan).where(ImplementationPlan.province_code == province_code)
    if batch is not None:
        query = query.where(ImplementationPlan.batch == batch)
    if profile_id is not None:
        query = query.where(ImplementationPlan.profile_id == profile_id)
    rows = connection.execute(query.order_by(ImplementationPlan.batch)).all()
    if not rows:
        raise NotFound(f"{province_code} 没有{'第' + str(batch) + '批' if batch else ''}实施方案")
    if len(rows) > 1:
        batches = "、".join(str(r.batch) for r in rows)
        raise RuleViolation(f"{province_code} 有多个批次的实施方案（第 {batches} 批），请指定批次")
    return ImplementationPlan.model_validate(rows[0]._mapping)


def profile_for(plan: ImplementationPlan, profile: Optional[Profile]) -> Profile:
    return profile or funding_profile(plan.profile_id)


def open_plan(connection: Connection, province_code: str, batch: int, profile: Profile,
              title: Optional[str] = None) -> int:
    """Create the plan of a province and batch (编制中); an existing one is returned as it is."""
    province = connection.execute(select(Jurisdiction).where(Jurisdiction.code == province_code)).first()
    if province is None or province.level != JurisdictionLevel.province:
        raise RuleViolation(f"{province_code} 不是省级行政区划代码，实施方案按省份编报")
    funding_of(profile)
    existing = connection.execute(select(ImplementationPlan.id).where(
        ImplementationPlan.profile_id == profile.id, ImplementationPlan.province_code == province_code,
        ImplementationPlan.batch == batch)).scalar()
    if existing:
        return existing
    title = title or f"{province.name}第{batch}批支持专精特新“小巨人”企业工作实施方案"
    now = clock.now()
    [plan_id] = create(connection, "plan", "open", [dict(profile_id=profile.id, province_code=province_code, batch=batch,
                                                         title=title, created_at=now)], actor=SystemActor(province_code), at=now)
    return plan_id


def _move(connection: Connection, plan: ImplementationPlan, action: str, at: datetime, actor: str = "system", **values) -> None:
    """One move of the plan from the status it was read in; moved meanwhile by someone else, it refuses."""
    apply(connection, "plan", action, [plan.id], actor=SystemActor(plan.province_code, actor), at=at,
          guard={"status": plan.status}, values=values, conflict=f"实施方案 {plan.id} 的状态已被他人修改，请刷新后重试")


def submit_version(connection: Connection, plan_id: int, kind: VersionKind, rows: Iterable[dict], *,
                   submitted_at: Optional[datetime] = None, actor: str = "system",
                   document_ref: Optional[str] = None, profile: Optional[Profile] = None) -> VersionRecorded:
    """Record a 报送版 or 备案版 with its 名单 after every check; a hard finding refuses it whole."""
    plan = get_plan(connection, plan_id)
    move = PLAN.action(_VERSION_ACTION[kind])
    if plan.status not in move.sources:
        raise RuleViolation(f"实施方案当前为“{plan.status.label}”，不能报送{kind.label}"
                            + ("（备案版须在收到正式合规性审核意见后报送）" if kind == VersionKind.filed else ""))
    funding = funding_of(profile_for(plan, profile))
    submitted_at = submitted_at or clock.now()
    result = check_list(connection, plan, rows, funding, local(submitted_at).date())
    if result.errors:
        raise PlanRejected(f"《实施方案》{kind.label}", result.errors)
    version_no = (connection.execute(select(func.max(PlanVersion.version_no)).where(PlanVersion.plan_id == plan_id)).scalar() or 0) + 1
    version_id = connection.execute(PlanVersion.__table__.insert().values(
        plan_id=plan_id, version_no=version_no, kind=kind, submitted_at=submitted_at,
        document_ref=document_ref, actor=actor, warnings=result.warnings)).inserted_primary_key[0]
    connection.execute(PlanItem.__table__.insert(), [
        {"version_id": version_id, "item_type": i.item_type, "enterprise_id": i.enterprise_id, "name": i.name,
         "uscc": i.uscc, "platform_category": i.platform_category, "amount_wan": i.amount_wan}
        for i in result.items])
    if plan.status != move.target:
        _move(connection, plan, move.name, submitted_at, actor)
    return VersionRecorded(plan_id, version_id, version_no, result.warnings)


def latest_version(connection: Connection, plan_id: int, kind: Optional[VersionKind] = None) -> PlanVersion:
    query = select(PlanVersion).where(PlanVersion.plan_id == plan_id)
    if kind:
        query = query.where(PlanVersion.kind == kind)
    row = connection.execute(query.order_by(PlanVersion.version_no.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"实施方案 {plan_id} 还没有{kind.label if kind else '任何版本'}")
    return PlanVersion.model_validate(row._mapping)


def record_opinion(connection: Connection, plan_id: int, stage: OpinionStage, *, issued_at: datetime,
                   issued_by: str = "工业和信息化部中小企业局 财政部经济建设司", items: Iterable[dict] = (),
                   institution_amounts: Optional[dict[str, Decimal]] = None, doc_ref: Optional[str] = None) -> int:
    """合规性审核意见 on the latest 报送版: the preliminary one first, then the formal one."""
    plan = get_plan(connection, plan_id)
    move = PLAN.action(_OPINION_ACTION[stage])
    if plan.status not in move.sources:
        after = "、".join(PlanStatus(s).label for s in sorted(move.sources))
        raise RuleViolation(f"实施方案当前为“{plan.status.label}”，不能登记{stage.label}（应在“{after}”之后）")
    if institution_amounts and stage != OpinionStage.formal:
        raise RuleViolation("服务机构支持额度以正式反馈的合规性审核意见为准，初步意见不能确定额度（合规性审核意见预通知 二(一)3）")
    version = latest_version(connection, plan_id, VersionKind.submission)
    opinion_id = connection.execute(ComplianceOpinion.__table__.insert().values(
        plan_id=plan_id, version_id=version.id, stage=stage, issued_at=issued_at, issued_by=issued_by,
        doc_ref=doc_ref, items=list(items),
        institution_amounts={k: str(v) for k, v in (institution_amounts or {}).items()})).inserted_primary_key[0]
    _move(connection, plan, move.name, issued_at)
    return opinion_id


def approve_plan(connection: Connection, plan_id: int, *, approved_at: datetime, doc_no: str,
                 implementation_start: Optional[date] = None, profile: Optional[Profile] = None) -> int:
    """批复 of the latest 备案版: recipients from its 名单, the tranche schedule and its deadlines.

    Each key enterprise's recipient row points at the 小巨人 recognition in force on the approval day.

    Service-institution amounts follow the formal opinion where it fixed one (seed 000 L47).
    Returns the number of recipients.
    """
    from tasks.funding.tranches import schedule_tranches

    plan = get_plan(connection, plan_id)
    if plan.status not in PLAN.action("approve").sources:
        raise RuleViolation(f"实施方案当前为“{plan.status.label}”，只有已报送备案版的方案才能批复")
    profile = profile_for(plan, profile)
    version = latest_version(connection, plan_id, VersionKind.filed)
    items = connection.execute(select(PlanItem).where(PlanItem.version_id == version.id)).all()
    rows = [dict(r._mapping) for r in items]
    recheck = check_list(connection, plan, rows, funding_of(profile), local(approved_at).date())
    if recheck.errors:
        raise PlanRejected("批复前复核", recheck.errors)
    formal = connection.execute(select(ComplianceOpinion.institution_amounts).where(
        ComplianceOpinion.plan_id == plan_id, ComplianceOpinion.stage == OpinionStage.formal)).scalar() or {}
    now = clock.now()
    recognition = {item.uscc: item.recognition_id for item in recheck.items}   # resolved once, here, as of the approval
    # one multi-row INSERT … RETURNING (the writer's create keeps row order, which SQLite can only do row by row)
    enrolled = connection.execute(FundingRecipient.__table__.insert().returning(FundingRecipient.id), [
        {"plan_id": plan_id, "item_type": r["item_type"], "enterprise_id": r["enterprise_id"], "name": r["name"],
         "uscc": r["uscc"], "recognition_id": recognition.get(r["uscc"]), "platform_category": r["platform_category"],
         "approved_amount_wan": Decimal(formal.get(r["uscc"], r["amount_wan"])), **initial("recipient", "enrol"),
         "created_at": now} for r in rows]).scalars().all()
    record_created(connection, "recipient", "enrol", enrolled, actor=SystemActor(plan.province_code), at=approved_at)
    start = implementation_start or local(approved_at).date()
    _move(connection, plan, "approve", approved_at, approved_at=approved_at, approval_doc_no=doc_no, implementation_start=start)
    schedule_tranches(connection, plan_id, profile, approved_on=local(approved_at).date(), implementation_start=start)
    return len(rows)


def work_arrangement_deadline(year: int, profile: Optional[Profile] = None) -> tuple[DeadlineRule, datetime]:
    """The 工作安排 cut-off of ``year`` as the funding profile states it (each year's pre-notice), and its instant."""
    rule = funding_of(profile or funding_profile()).work_arrangement_deadline(year)
    return rule, rule.due_at(year)


def submit_work_arrangement(connection: Connection, province_code: str, year: int, *, submitted_at: datetime,
                            sealed: bool, requested_amount_wan: Decimal, letter_ref: Optional[str] = None,
                            profile: Optional[Profile] = None) -> WorkArrangement:
    """Record the 工作安排 函报. After the year's cut-off (8:00前 is exclusive) it is recorded as
    逾期 — 视同不申请公共服务体系奖补资金 — rather than refused, so the fact stays on file."""
    rule, cutoff = work_arrangement_deadline(year, profile)
    if not sealed:
        raise RuleViolation(f"工作安排须加盖公章后函报 —— {rule.cite}")
    if requested_amount_wan is None or Decimal(requested_amount_wan) <= 0:
        raise RuleViolation(f"申请金额应为大于0的万元数，实际为 {requested_amount_wan!r}")
    exists = connection.execute(select(WorkArrangement.id).where(
        WorkArrangement.province_code == province_code, WorkArrangement.year == year)).scalar()
    if exists:
        raise Conflict(f"{province_code} {year} 年的工作安排已登记（编号 {exists}）")
    late = not rule.in_time(submitted_at, cutoff)
    action = "submit_late" if late else "submit"
    note = (f"{local(submitted_at):%Y-%m-%d %H:%M:%S} 报送，已过 {local(cutoff):%m月%d日 %H:%M} 截止，"
            f"视同不申请公共服务体系奖补资金 —— {rule.cite}") if late else None
    values = dict(province_code=province_code, year=year, submitted_at=submitted_at, sealed=sealed,
                  requested_amount_wan=Decimal(requested_amount_wan), letter_ref=letter_ref, note=note)
    [new_id] = create(connection, "work_arrangement", action, [values], actor=SystemActor(province_code), at=submitted_at, reason=note)
    return WorkArrangement(id=new_id, status=WorkArrangementStatus(initial("work_arrangement", action)["status"]), **values)


def deem_unsubmitted_work_arrangements(connection: Connection, year: int, province_codes: Iterable[str], *,
                                       profile: Optional[Profile] = None, now: Optional[datetime] = None) -> int:
    """After the year's cut-off, every listed province without a 工作安排 is recorded as 视同不申请 (one statement)."""
    now = now or clock.now()
    rule, cutoff = work_arrangement_deadline(year, profile)
    if rule.in_time(now, cutoff):
        raise RuleViolation(f"工作安排截止时间 {local(cutoff):%Y-%m-%d %H:%M} 未到，不能认定逾期未报送")
    note = f"截至 {local(cutoff):%m月%d日 %H:%M} 未报送工作安排，视同不申请公共服务体系奖补资金 —— {rule.cite}"
    rows = [{"province_code": code, "year": year, **initial("work_arrangement", "deem_not_applied"), "sealed": False,
             "note": note} for code in dict.fromkeys(province_codes)]
    created = insert_new(connection, WorkArrangement.__table__, rows, ["province_code", "year"])
    return record_created(connection, "work_arrangement", "deem_not_applied", created, actor=SystemActor(), at=now, reason=note,
                          jurisdiction_column="province_code")
