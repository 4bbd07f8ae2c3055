"""JSON API (只读接口) for the console's reads, documented on /api/docs.

Same session log-in and the same jurisdiction scope as the pages: a request without a session
gets 401, an application outside the user's subtree 404.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from models.enums import ApplicationStatus, JurisdictionLevel, ReviewLevel, Role
from models.errors import NotFound
from srdi.web import actions, dashboard, funds, notices, queries
from srdi.web.auth import current_user, db_session
from srdi.web.bounds import Code, PageNumber, PerPage, RowId
from srdi.web.pages import SortDirection, SortKey, parse_filter
from tasks.people.actors import Actor

router = APIRouter(prefix="/api/v1", tags=["console"])


class Me(BaseModel):
    username: str
    display_name: str
    role: Role
    jurisdiction_code: str
    jurisdiction_name: str
    jurisdiction_level: JurisdictionLevel


class ApplicationRow(BaseModel):
    id: int
    ref: str
    call_id: str
    call_name: str
    enterprise_name: str
    uscc: str
    jurisdiction_code: str
    jurisdiction_name: str
    level: ReviewLevel
    status: ApplicationStatus
    score: Optional[Decimal] = None
    category: Optional[str] = None
    eligible: Optional[bool] = None
    submitted_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None
    deadline_at: Optional[datetime] = Field(None, description="当前层级审核截止（期限登记中尚未办结的一项）")


class ApplicationPage(BaseModel):
    total: int
    page: int
    per_page: int
    pages: int
    items: list[ApplicationRow]


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    actor_name: Optional[str] = None
    role: Role
    jurisdiction_code: str
    action: str
    from_level: Optional[ReviewLevel] = None
    from_status: Optional[ApplicationStatus] = None
    to_level: ReviewLevel
    to_status: ApplicationStatus
    reason: Optional[str] = None
    score: Optional[Decimal] = None
    audit: Optional[str] = None          # why the row does not verify against the audit chain; None when it does


class ApplicationDetail(ApplicationRow):
    version: int
    review_jurisdiction_code: Optional[str] = None
    facts: dict
    timeline: list[TimelineEntry]


class LevelStatusCount(BaseModel):
    level: ReviewLevel
    status: ApplicationStatus
    count: int


class JurisdictionCount(BaseModel):
    code: str
    name: str
    passed: int
    open: int
    closed: int


class FunnelStage(BaseModel):
    stage: str
    count: int


class DeadlineItem(BaseModel):
    id: int
    kind: str
    title: str
    due_at: datetime
    call_id: Optional[str] = None
    subject: Optional[str] = None
    jurisdiction_code: str
    jurisdiction_name: str
    overdue: bool


class NoticeItem(BaseModel):
    id: int
    title: str
    call_id: str
    opens_at: datetime
    closes_at: datetime
    length: int
    unit: str
    jurisdiction_code: str


class Dashboard(BaseModel):
    call_id: Optional[str]
    call_name: Optional[str]
    counts: list[LevelStatusCount]
    funnel: list[FunnelStage]
    by_jurisdiction: list[JurisdictionCount]
    deadlines_until: Optional[datetime]
    deadlines: list[DeadlineItem]
    deadlines_error: Optional[str] = None
    notices: list[NoticeItem]


@router.get("/me", response_model=Me, summary="当前登录用户及其辖区")
def me(scope: Actor = Depends(current_user)) -> Me:
    return Me(**{name: getattr(scope, name) for name in Me.model_fields})


@router.get("/applications", response_model=ApplicationPage, summary="申报列表：筛选（批次、层级、状态、辖区、名称或信用代码）与排序")
def applications(page: PageNumber = 1, per_page: PerPage = queries.PER_PAGE, sort: SortKey = None, direction: SortDirection = None,
                 flt: queries.ApplicationFilter = Depends(parse_filter), scope: Actor = Depends(current_user),
                 session: Session = Depends(db_session)) -> ApplicationPage:
    result = queries.list_applications(session, scope, flt, page, per_page, sort, direction or "asc")
    return ApplicationPage(total=result.total, page=result.page, per_page=result.per_page, pages=result.pages,
                           items=[ApplicationRow(**row) for row in result.rows])


@router.get("/applications/{application_id}", response_model=ApplicationDetail, summary="申报详情及流转记录",
            responses={404: {"description": "不存在或不在当前用户辖区范围内"}})
def application(application_id: RowId, scope: Actor = Depends(current_user),
                session: Session = Depends(db_session)) -> ApplicationDetail:
    row = queries.get_application(session, scope, application_id)
    return ApplicationDetail(**row, timeline=[TimelineEntry(**t) for t in queries.timeline(session, application_id)])


@router.get("/dashboard", response_model=Dashboard, summary="工作台：分层级状态统计、评审漏斗、按辖区分布、近期截止、公示中")
def dashboard_view(call: Code = None, scope: Actor = Depends(current_user),
                   session: Session = Depends(db_session)) -> Dashboard:
    current = dashboard.current_call(session, scope, call)
    cid = current.id if current else None
    counts = dashboard.counts_by_level_status(session, scope, cid)
    window = dashboard.upcoming_deadlines(session, scope)
    return Dashboard(
        call_id=cid,
        call_name=current.name if current else None,
        counts=[LevelStatusCount(**c) for c in counts],
        funnel=[FunnelStage(stage=s, count=n) for s, n in (dashboard.funnel(current, counts) if current else [])],
        by_jurisdiction=[JurisdictionCount(**r) for r in dashboard.counts_by_child(session, scope, cid)],
        deadlines_until=window.until,
        deadlines=[DeadlineItem(**d) for d in window.rows],
        deadlines_error=window.error,
        notices=[NoticeItem(**n) for n in actions.open_notices(session, scope)],
    )


class NoticeSummary(NoticeItem):
    level: ReviewLevel
    status: str
    closed_at: Optional[datetime] = None
    publisher_name: str
    entries: int = Field(description="本辖区在名单上的申报数")


class NoticeEntryItem(BaseModel):
    position: int
    status: str
    application_id: int
    ref: str
    application_status: ApplicationStatus
    name: str
    uscc: str
    jurisdiction_name: str


class ObjectionItem(BaseModel):
    id: int
    application_id: int
    ref: str
    name: str
    objector: str
    contact: str
    grounds: str
    received_at: datetime
    recorded_by: str
    status: str
    finding: Optional[str] = None
    decided_by: Optional[str] = None
    decided_at: Optional[datetime] = None


class NoticeDetail(NoticeSummary):
    list: list[NoticeEntryItem]
    objections: list[ObjectionItem]


class PlanItem(BaseModel):
    id: int
    title: str
    province_code: str
    province_name: str
    batch: int
    status: str
    approved_at: Optional[datetime] = None
    approval_doc_no: Optional[str] = None


class TrancheItem(BaseModel):
    tranche_index: int
    label: str
    share_pct: Decimal
    scheduled_on: date
    status: str
    allocation_plan_due_at: Optional[datetime] = None
    allocation_reported_at: Optional[datetime] = None
    payments: int
    paid_wan: Decimal


class RecipientItem(BaseModel):
    name: str
    uscc: str
    item_type: str
    approved_amount_wan: Decimal
    paid_wan: Decimal
    status: str
    discontinued_reason: Optional[str] = None
    grades: list[str]


class PlanFunds(PlanItem):
    review_years: list[int]
    tranches: list[TrancheItem]
    recipients: list[RecipientItem]


@router.get("/notices", response_model=list[NoticeSummary], summary="公示列表（本辖区发布或名单含本辖区申报）")
def notices_list(scope: Actor = Depends(current_user), session: Session = Depends(db_session)) -> list[NoticeSummary]:
    return [NoticeSummary(**n) for n in notices.visible_notices(session, scope)]


@router.get("/notices/{notice_id}", response_model=NoticeDetail, summary="公示详情：本辖区名单与异议",
            responses={404: {"description": "不存在或不在当前用户辖区范围内"}})
def notice_detail(notice_id: RowId, scope: Actor = Depends(current_user), session: Session = Depends(db_session)) -> NoticeDetail:
    found = notices.visible_notices(session, scope, notice_id)
    if not found:
        raise NotFound(f"公示 {notice_id} 不存在或不在您的辖区范围内")
    return NoticeDetail(**found[0], list=notices.notice_entries(session, scope, notice_id),
                        objections=notices.notice_objections(session, scope, notice_id))


@router.get("/funds", response_model=list[PlanItem], summary="实施方案列表")
def plans_list(scope: Actor = Depends(current_user), session: Session = Depends(db_session)) -> list[PlanItem]:
    return [PlanItem(**p) for p in funds.visible_plans(session, scope)]


@router.get("/funds/{plan_id}", response_model=PlanFunds, summary="实施方案的分年度资金、本辖区支持对象、拨付与考核",
            responses={404: {"description": "不存在或不在当前用户辖区范围内"}})
def plan_detail(plan_id: RowId, scope: Actor = Depends(current_user), session: Session = Depends(db_session)) -> PlanFunds:
    plan = next((p for p in funds.visible_plans(session, scope) if p["id"] == plan_id), None)
    if plan is None:
        raise NotFound(f"实施方案 {plan_id} 不存在或不在您的辖区范围内")
    return PlanFunds(**plan, **funds.plan_funds(session, scope, plan_id))
