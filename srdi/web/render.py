"""Jinja2 set-up for the console: templates/web/, zh-CN labels, Beijing-time formatting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from models.citation import public_citation
from models.clock import clock, local
from models.enums import ApplicationStatus, EnterpriseSize, ReviewLevel, Role
from models.settings import settings
from tasks.reports.labels import ACTION_LABELS as PIPELINE_ACTION_LABELS
from tasks.reports.labels import STATUS_LABELS

ROLE_LABELS = {Role.applicant: "申报企业", Role.reviewer: "审核人", Role.clerk: "经办人", Role.admin: "管理员",
               Role.system: "系统"}
# the pipeline's own labels win; these cover the notice, objection and recognition steps
ACTION_LABELS = {
    "notice-open": "进入公示", "objection": "收到异议", "objection-upheld": "异议成立，移出名单",
    "objection-rejected": "异议不成立，恢复公示", "recognise": "认定", "revoke": "撤销认定",
    **PIPELINE_ACTION_LABELS,
}
DEADLINE_KINDS = {"level_decision": "层级审核截止", "notice_close": "公示结束", "re_review": "复核",
                  "name_change": "更名备案", "annual_report": "年度数据报送", "allocation_plan": "资金分配方案",
                  "tranche": "资金拨付"}
OTHER_LABELS = {"active": "有效", "revoked": "已撤销", "expired": "已期满", "working_days": "个工作日", "natural_days": "天",
                "failed": "失败", "partial": "部分受阻", "interrupted": "运行中断", "succeeded": "完成"}


def label(value: Any) -> str:
    """The Chinese label of an enum value (level, status, role, size, action, deadline kind)."""
    if value is None:
        return ""
    text = getattr(value, "value", value)
    for enum, table in ((ApplicationStatus, STATUS_LABELS), (Role, ROLE_LABELS)):
        if text in enum.__members__:
            return table[enum(text)]
    if text in ReviewLevel.__members__:
        return ReviewLevel(text).label
    if text in EnterpriseSize.__members__:
        return EnterpriseSize(text).label
    return ACTION_LABELS.get(text) or DEADLINE_KINDS.get(text) or OTHER_LABELS.get(text) or str(text)


def beijing(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant on the Beijing wall clock (北京时间)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local(value).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def number(value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0").rstrip(".")
    return str(value)


def wan(value: Decimal | int | float | str | None) -> str:
    """An amount in 万元 for the screen: two decimals, thousands separated (exports keep the exact value)."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount:,.2f}"


def _profile_documents() -> list:
    """Every profile's documents: they name the document of a citation that starts with a file name."""
    from models.errors import SrdiError
    from tasks.reference.programmes import load_all

    try:
        return [document for profile in load_all().values() for document in profile.documents]
    except (SrdiError, OSError):   # a broken programmes directory must not break a page: the cite shows its text
        return []


def cite(value: str | None) -> Markup:
    """出处 on the console: the document number, with our file and line reference on hover."""
    if not value:
        return Markup("")
    shown = public_citation(value, _profile_documents()) or value
    if shown == value:
        return Markup('<span class="cite">{}</span>').format(shown)
    return Markup('<span class="cite" title="{}">{}</span>').format(value, shown)


def page_url(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (for pagination and exports)."""
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items() if v is not None})
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


def simulated_clock() -> str | None:
    """The simulated time, shown on every page while one runs (never in production)."""
    return f"{local(clock.now()):%Y-%m-%d %H:%M}" if clock.simulated else None


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(settings().templates_dir / "web"))
    env = templates.env
    env.filters.update(label=label, beijing=beijing, number=number, wan=wan, cite=cite)
    env.globals.update(page_url=page_url, statuses=list(ApplicationStatus), levels=list(ReviewLevel),
                       simulated_clock=simulated_clock)
    return templates
