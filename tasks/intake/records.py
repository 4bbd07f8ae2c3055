"""Checking intake records before anything is written: each problem names row, field, value, expectation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.clock import local
from models.enterprise import Enterprise, InvalidUSCC, normalise_uscc
from models.enums import EnterpriseSize, JurisdictionLevel, ReviewLevel, Role
from models.errors import Forbidden, NotFound, RuleViolation
from models.jurisdiction import User
from models.review import LevelWindow
from tasks.reference.calls import CallContext
from tasks.reference.routing import Tree
from tasks.review.moves import Actor, chunks

LABELS = {
    "uscc": "统一社会信用代码", "name": "企业名称", "size": "企业规模", "industry_code": "所属行业代码",
    "jurisdiction_code": "所在区（县）", "registered_on": "成立日期", "financials": "财务数据",
    "fiscal_year": "年度", "revenue_wan": "营业收入（万元）", "main_business_revenue_wan": "主营业务收入（万元）",
    "entry_level": "申报起始层级", "facts": "申报事实", "category": "分类",
}
REQUIRED_MONEY = ("revenue_wan", "main_business_revenue_wan")
OPTIONAL_MONEY = ("rd_expense_wan", "total_profit_wan", "net_profit_wan", "total_assets_wan",
                  "total_liabilities_wan", "taxes_paid_wan")
COUNTS = ("employees", "rd_staff")
SIZE_LABELS = {size.label: size for size in EnterpriseSize}
INDUSTRY = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")

LOOKUP = 5000  # keys per IN (…) lookup


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    value: Any
    expected: str

    @property
    def message(self) -> str:
        return f"第{self.row}行 {LABELS.get(self.field, self.field)}（{self.value!r}）：{self.expected}"


def resolve_actor(connection: Connection, username: str, call_jurisdiction: str) -> Actor:
    """``system``, or an active user: applicants act for their enterprise, bureau staff in their subtree."""
    if username == "system":
        return Actor.system(call_jurisdiction)
    user = connection.execute(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        raise NotFound(f"用户 {username} 不存在或已停用")
    if user.role == Role.applicant and user.enterprise_id is None:
        raise Forbidden(f"申报用户 {username} 未关联企业，不能提交申报")
    return Actor(user.username, Role(user.role), user.jurisdiction_code)


def _money(value: Any) -> Optional[Decimal]:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidOperation
    return Decimal(str(value))


def _financials(row: int, years: Any, problems: list[Problem]) -> list[dict]:
    if years is None:
        return []
    if not isinstance(years, list):
        problems.append(Problem(row, "financials", years, "应为按年度排列的财务数据列表"))
        return []
    clean, seen = [], set()
    for item in years:
        fiscal_year = item.get("fiscal_year") if isinstance(item, dict) else None
        if not isinstance(fiscal_year, int) or not 1990 <= fiscal_year <= 2100 or fiscal_year in seen:
            problems.append(Problem(row, "fiscal_year", fiscal_year, "应为不重复的四位年度（如 2025）"))
            continue
        seen.add(fiscal_year)
        out = {"fiscal_year": fiscal_year}
        for name in REQUIRED_MONEY + OPTIONAL_MONEY:
            try:
                out[name] = _money(item.get(name))
            except (InvalidOperation, ValueError):
                problems.append(Problem(row, name, item.get(name), f"{fiscal_year}年应为金额（万元）"))
                continue
            if name in REQUIRED_MONEY and (out[name] is None or out[name] < 0):
                problems.append(Problem(row, name, item.get(name), f"{fiscal_year}年必填，且不得为负"))
        out["rd_expense_wan"] = out.get("rd_expense_wan") or Decimal(0)
        for name in COUNTS:
            value = item.get(name)
            if value is not None and (not isinstance(value, int) or value < 0):
                problems.append(Problem(row, name, value, f"{fiscal_year}年应为非负整数"))
            out[name] = value
        clean.append(out)
    return clean


def _entry_level(row: int, value: Any, context: CallContext, problems: list[Problem]) -> Optional[ReviewLevel]:
    if value in (None, ""):
        return context.entry.level
    levels = [step.level for step in context.levels]
    try:
        level = ReviewLevel(value)
        index = levels.index(level)
    except ValueError:
        problems.append(Problem(row, "entry_level", value, f"应为本批次审核路线中的层级 {[level.value for level in levels]}"))
        return None
    skipped = [step for step in context.levels[:index] if not step.optional]
    if skipped:
        problems.append(Problem(row, "entry_level", value, f"不能跳过必经的{skipped[0].label}"))
        return None
    return level


def _one(record: Any, index: int, context: CallContext, tree: Tree, who: Actor, seen: dict[str, int],
         problems: list[Problem]) -> Optional[dict]:
    if not isinstance(record, dict):
        problems.append(Problem(index, "(记录)", record, "应为一个字段映射"))
        return None
    row = record.get("row") or index
    before = len(problems)
    try:
        uscc = normalise_uscc(str(record.get("uscc") or ""))
    except InvalidUSCC as exc:
        problems.append(Problem(row, "uscc", record.get("uscc"), str(exc)))
        uscc = None
    if uscc and uscc in seen:
        problems.append(Problem(row, "uscc", uscc, f"与第{seen[uscc]}行重复"))
    elif uscc:
        seen[uscc] = row
    name = str(record.get("name") or "").strip()
    if not name or len(name) > 128:
        problems.append(Problem(row, "name", record.get("name"), "必填，不超过128个字"))
    size = record.get("size")
    size = SIZE_LABELS.get(size, size)
    if size not in set(EnterpriseSize):
        problems.append(Problem(row, "size", record.get("size"), "应为 中型/小型/微型（medium/small/micro）"))
    industry = str(record.get("industry_code") or "").strip().upper()
    if not INDUSTRY.match(industry):
        problems.append(Problem(row, "industry_code", record.get("industry_code"), "应为 GB/T 4754-2017 行业代码（门类字母加2–4位数字，如 C3484）"))
    code = str(record.get("jurisdiction_code") or "").strip()
    node = tree.get(code)
    call_node = tree.get(context.call.jurisdiction_code)
    if node is None or not (node.level == JurisdictionLevel.county or (node.level == JurisdictionLevel.prefecture and tree.is_leaf(code))):
        problems.append(Problem(row, "jurisdiction_code", code, "应为区（县）级行政区划代码"))
    elif not call_node.covers(node.path):
        problems.append(Problem(row, "jurisdiction_code", code, f"不在本批次组织辖区 {call_node.name} 内"))
    elif who.role not in (Role.system, Role.applicant) and not tree.get(who.jurisdiction_code).covers(node.path):
        problems.append(Problem(row, "jurisdiction_code", code, f"不在用户 {who.username} 的辖区 {tree.name(who.jurisdiction_code)} 内"))
    registered_on = record.get("registered_on")
    if registered_on is not None and not isinstance(registered_on, date):
        problems.append(Problem(row, "registered_on", registered_on, "应为日期"))
    facts = record.get("facts") or {}
    if not isinstance(facts, dict):
        problems.append(Problem(row, "facts", facts, "应为字段映射"))
    financials = _financials(row, record.get("financials"), problems)
    level = _entry_level(row, record.get("entry_level"), context, problems)
    if len(problems) > before:
        return None
    return {
        "row": row, "uscc": uscc, "name": name, "size": EnterpriseSize(size), "industry_code": industry,
        "jurisdiction_code": code, "registered_on": registered_on, "listed_board": record.get("listed_board"),
        "category": record.get("category"), "eligible": record.get("eligible"), "facts": facts,
        "financials": financials, "entry_level": level,
    }


def _check_call_open(context: CallContext, now: datetime) -> None:
    call = context.call
    if call.status != "open":
        raise RuleViolation(f"批次 {call.id} 状态为 {call.status}，不再受理申报")
    if now < call.opens_at:
        raise RuleViolation(f"批次 {call.id} 于 {local(call.opens_at):%Y-%m-%d %H:%M} 开始受理，现在尚未开始")
    if call.closes_at is not None and now > call.closes_at:
        raise RuleViolation(f"批次 {call.id} 已于 {local(call.closes_at):%Y-%m-%d %H:%M} 截止申报")


def validate_records(connection: Connection, context: CallContext, tree: Tree, who: Actor, records: list[dict],
                     now: datetime) -> tuple[list[Problem], list[dict]]:
    """(problems, normalised records). Database facts checked too: bans, own enterprise, closed levels."""
    _check_call_open(context, now)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    clean = [r for r in (_one(rec, i, context, tree, who, seen, problems) for i, rec in enumerate(records, start=1)) if r]
    today = local(now).date()
    known: dict[str, tuple] = {}
    for chunk in chunks([r["uscc"] for r in clean], LOOKUP):
        for row in connection.execute(select(Enterprise.uscc, Enterprise.id, Enterprise.banned_until, Enterprise.ban_reason)
                                      .where(Enterprise.uscc.in_(chunk))):
            known[row.uscc] = row
    own_enterprise = None
    if who.role == Role.applicant:
        own_enterprise = connection.execute(select(User.enterprise_id).where(User.username == who.username)).scalar()
    for r in clean:
        found = known.get(r["uscc"])
        if found is not None and found.banned_until is not None and found.banned_until >= today:
            why = f"（{found.ban_reason}）" if found.ban_reason else ""
            problems.append(Problem(r["row"], "uscc", r["uscc"], f"该企业被禁止申报至 {found.banned_until}{why}"))
        if own_enterprise is not None and (found is None or found.id != own_enterprise):
            problems.append(Problem(r["row"], "uscc", r["uscc"], f"申报用户 {who.username} 只能为本企业申报"))
    order = [step.level for step in context.levels]
    any_closed = connection.execute(select(LevelWindow.id).where(
        LevelWindow.call_id == context.call.id, LevelWindow.closed_at.is_not(None)).limit(1)).first()
    for level in order if any_closed else []:
        # a record starting at or below ``level`` would reach ``level``'s window: it must not be closed
        reaching = [r for r in clean if order.index(r["entry_level"]) <= order.index(level)]
        desks = {id(r): tree.reviewer_at(r["jurisdiction_code"], level) for r in reaching}
        closed = _closed_windows(connection, context.call.id, level, set(desks.values()))
        for r in reaching:
            desk = desks[id(r)]
            if desk in closed:
                problems.append(Problem(r["row"], "jurisdiction_code", r["jurisdiction_code"],
                                        f"{tree.name(desk)}{level.label}级审核已于 {local(closed[desk]):%Y-%m-%d %H:%M} 结束，不再受理"))
    problems.sort(key=lambda p: p.row)
    return problems, clean


def _closed_windows(connection: Connection, call_id: str, level: str, codes: set[str]) -> dict[str, datetime]:
    closed: dict[str, datetime] = {}
    for chunk in chunks(sorted(codes)):
        closed.update(connection.execute(select(LevelWindow.jurisdiction_code, LevelWindow.closed_at).where(
            LevelWindow.call_id == call_id, LevelWindow.level == level, LevelWindow.jurisdiction_code.in_(chunk),
            LevelWindow.closed_at.is_not(None))).all())
    return closed
