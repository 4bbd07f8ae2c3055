"""The eligibility engine over a whole call (资格审查): load in a few queries, judge, write at once.

``run_eligibility`` reads the call's applications, their enterprises, yearly figures and
recognitions in one query each, evaluates the profile's rules in Python (tasks/eligibility/rules.py),
replaces the call's verdicts (stored compactly, tasks/eligibility/verdicts.py) and sets each application's ``eligible``,
``category`` (79号 a/b/c) and, when the profile awards bonus points, ``score``. Running it twice
leaves the same rows. Facts the form need not carry are derived when absent: 连续经营年限 from
注册时间, 是否中小企业 from 企业规模, 本省注册 from the county, 已认定称号 from Recognition rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import func, select, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.types import NullType

from models.application import Application
from models.clock import clock, local
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.errors import NotFound
from models.exact import ExactDecimal
from models.jurisdiction import MINISTRY_CODE
from models.programme import Programme
from models.recognition import Recognition
from models.rules import Bands, Group
from models.workflow import APPLICATION
from models.workflow_writer import SystemActor, apply
from tasks.eligibility.metrics import Subject
from tasks.eligibility.rules import Background, Compiled, combine, evaluate, group_message
from tasks.eligibility.verdicts import read_verdicts, replace_verdicts, stored_rows
from tasks.reference.calls import get_call, get_profile
from tasks.review.moves import chunks

YEARS_BACK = 3          # R−3 … R covers every window (近三年 and the base of a growth rate)
RECOGNITION_FACTS = {"little_giant": "little_giant_recognised", "provincial_srdi": "provincial_srdi"}


@dataclass
class EligibilitySummary:
    call_id: str
    evaluated: int = 0
    eligible: int = 0
    ineligible: int = 0
    undetermined: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    verdicts: int = 0




def _select_for(connection: Connection, query, column, ids: Optional[list[int]], scope) -> list:
    """Rows of ``query`` for ``ids`` (chunked IN) or, without ids, for the whole call (``scope``)."""
    if ids is None:
        return connection.execute(query.where(column.in_(scope))).all()
    rows = []
    for chunk in chunks(ids):
        rows += connection.execute(query.where(column.in_(chunk))).all()
    return rows


def _years_operating(registered_on: Optional[date], on: date) -> Optional[int]:
    if registered_on is None:
        return None
    years = on.year - registered_on.year - ((on.month, on.day) < (registered_on.month, registered_on.day))
    return max(years, 0)


def derived_facts(facts: dict, enterprise: Any, recognitions: list[tuple], province: str, on: date) -> dict:
    """The application's facts plus those srdi can work out itself (never overriding what was filled)."""
    out = dict(facts)
    out.setdefault("years_operating", _years_operating(enterprise.registered_on, on))
    if enterprise.size is not None:
        out.setdefault("is_sme", True)  # 企业规模 is one of 中型/小型/微型 (工信部联企业〔2011〕300号)
    if province != MINISTRY_CODE:
        out.setdefault("registered_in_province", enterprise.jurisdiction_code.startswith(province[:2]))
    for tier, status, _ in recognitions:
        fact = RECOGNITION_FACTS.get(tier)
        if fact and status == "active":
            out.setdefault(fact, True)
    return {key: value for key, value in out.items() if value is not None}


def _load_years(connection: Connection, reference: int, enterprise_ids: Optional[list[int]], in_call) -> dict[int, dict[int, dict]]:
    """enterprise → fiscal year → raw figures (万元 as Decimal to the column's places), read through the driver's values:
    the exact-decimal type's per-value conversion dominated this read at a national round's size."""
    table = EnterpriseFinancialYear.__table__
    figures = [c for c in table.columns if c.name not in ("id", "enterprise_id", "fiscal_year")]
    scaled = connection.dialect.name == "sqlite"
    plain = [(c.name, isinstance(c.type, ExactDecimal) and scaled, c.type) for c in figures]
    query = select(table.c.enterprise_id, table.c.fiscal_year, *(type_coerce(c, NullType()) for c in figures)).where(
        table.c.fiscal_year.between(reference - YEARS_BACK, reference))
    years: dict[int, dict[int, dict]] = defaultdict(dict)
    for row in _select_for(connection, query, table.c.enterprise_id, enterprise_ids, in_call):
        values = {}
        for (name, exact, column_type), value in zip(plain, row[2:]):
            if exact and value is not None:
                value = (Decimal(value).scaleb(-column_type.scale) if value.__class__ is int
                         else column_type.process_result_value(value, connection.dialect))
            values[name] = value
        years[row[0]][row[1]] = values
    return years


def run_eligibility(connection: Connection, call_id: str, application_ids: Optional[list[int]] = None,
                    now: Optional[datetime] = None) -> EligibilitySummary:
    """Judge every application of ``call_id`` (or only ``application_ids``) and store the verdicts."""
    now = now or clock.now()
    call = get_call(connection, call_id)
    profile = get_profile(call.programme_id)
    summary = EligibilitySummary(call_id)
    rules = profile.eligibility
    if rules is None:
        return summary
    reference = call.year - 1 if rules.reference_year == "previous" else call.year
    opens_on = local(call.opens_at).date()
    if application_ids is not None and len(application_ids) == connection.execute(
            select(func.count()).select_from(Application).where(Application.call_id == call_id)).scalar():
        application_ids = None   # the whole call (a first import): one query per table instead of chunks
    in_call = select(Application.enterprise_id).where(Application.call_id == call_id).scalar_subquery()
    apps_query = select(Application.id, Application.enterprise_id, Application.facts).where(Application.call_id == call_id)
    apps = _select_for(connection, apps_query, Application.id, application_ids,
                       select(Application.id).where(Application.call_id == call_id).scalar_subquery())
    enterprise_ids = None if application_ids is None else sorted({a.enterprise_id for a in apps})
    enterprises = {e.id: e for e in _select_for(connection, select(
        Enterprise.id, Enterprise.registered_on, Enterprise.listed_board, Enterprise.banned_until,
        Enterprise.jurisdiction_code, Enterprise.size), Enterprise.id, enterprise_ids, in_call)}
    years = _load_years(connection, reference, enterprise_ids, in_call)
    recognitions: dict[int, list[tuple]] = defaultdict(list)
    for row in _select_for(connection, select(Recognition.enterprise_id, Recognition.tier, Recognition.status,
                                              Recognition.call_id), Recognition.enterprise_id, enterprise_ids, in_call):
        status = row.status.value if hasattr(row.status, "value") else str(row.status)
        recognitions[row.enterprise_id].append((row.tier, status, row.call_id))
    sha = connection.execute(select(Programme.profile_sha256).where(Programme.id == profile.id)).scalar()
    stamp = {"evaluated_at": now.isoformat(), "profile": profile.id, "profile_sha256": sha}

    compiled = Compiled(rules, reference)
    verdicts: list[tuple] = []
    updates: list[dict] = []
    categories: Counter = Counter()
    for app in apps:
        enterprise = enterprises[app.enterprise_id]
        held = recognitions.get(app.enterprise_id, [])
        subject = Subject(app.id, reference, years.get(app.enterprise_id, {}),
                          derived_facts(app.facts or {}, enterprise, held, profile.jurisdiction, opens_on))
        background = Background(call.id, call.year, call.batch, opens_on, profile.tier, enterprise.listed_board,
                                enterprise.banned_until, held)
        outcome = evaluate(compiled, subject, background, describe_met=False)
        outcome.rows[0].figures.update(stamp)
        verdicts += stored_rows(app.id, outcome.rows)
        update_row = {"k": app.id, "eligible": outcome.eligible, "category": outcome.category}
        if rules.bonus:
            update_row["score"] = outcome.points
        updates.append(update_row)
        summary.evaluated += 1
        if outcome.eligible:
            summary.eligible += 1
            categories[outcome.category or "-"] += 1
        elif outcome.eligible is None:
            summary.undetermined += 1
        else:
            summary.ineligible += 1
    written = replace_verdicts(connection, call.id, application_ids, verdicts)
    if updates:
        by_id = {u.pop("k"): u for u in updates}
        apply(connection, APPLICATION, "assess", list(by_id), actor=SystemActor(call.jurisdiction_code), at=now, row_values=by_id,
              reasons={k: verdict_reason(u["eligible"], u["category"]) for k, u in by_id.items()}, step_key=f"eligibility:{call.id}")
    summary.by_category = dict(sorted(categories.items()))
    summary.verdicts = written
    return summary


def verdict_reason(eligible: Optional[bool], category: Optional[str]) -> str:
    """The transition's reason for an eligibility verdict (资格审查结论)."""
    if eligible is None:
        return "资格审查：尚不能判定"
    if not eligible:
        return "资格审查：不符合申报条件"
    return f"资格审查：符合申报条件（{category}类）" if category else "资格审查：符合申报条件"


ABSENT = object()


def _tree_lines(node, depth: int, gating: bool, stored: dict, waived: set, out: list):
    """Rule nodes in explanation order with their verdicts; a group's verdict is rebuilt from its
    children's stored rows (groups are not stored); a band that was not chosen has no rows."""
    gating = gating and getattr(node, "gating", True)
    if isinstance(node, Group):
        place = len(out)
        out.append(None)
        items = []
        for item in node.items:
            result = _tree_lines(item, depth + 1, gating, stored, waived, out)
            if result is not ABSENT and getattr(item, "gating", True):
                items.append((item.label, result))
        passed = combine(node.type, [r for _, r in items], node.k) if items else True
        message = group_message(node.type, node.k, items, passed)
        if node.id in waived:
            passed, message = True, f"{message}（免于考核）"
        out[place] = {"node_id": node.id, "depth": depth, "kind": node.type, "label": node.label, "passed": passed,
                      "gating": gating, "waived": node.id in waived, "points": None, "message": message, "figures": {},
                      "cite": node.cite}
        return passed
    row = stored.get(node.id)
    if row is None:
        return ABSENT
    out.append(_line(row, depth, node.label, getattr(node, "cite", None), gating))
    if isinstance(node, Bands):
        for band in node.bands:
            _tree_lines(band.rule, depth + 1, gating, stored, waived, out)
    return row.passed


def _line(row, depth: int, label: str, cite: Optional[str], gating: bool = True) -> dict:
    return {"node_id": row.node_id, "depth": depth, "kind": row.kind, "label": label, "passed": row.passed,
            "gating": gating, "waived": row.waived, "points": row.points, "message": row.message,
            "figures": row.figures, "cite": cite}


def explain(connection: Connection, application: str) -> dict:
    """The stored verdicts of one application (by id or 申报编号), in the order of its profile's rules."""
    query = select(Application.id, Application.ref, Application.call_id, Application.eligible, Application.category,
                   Application.score, Enterprise.name, Enterprise.uscc).join(Enterprise, Enterprise.id == Application.enterprise_id)
    key = Application.id == int(application) if str(application).isdigit() else Application.ref == str(application)
    app = connection.execute(query.where(key)).first()
    if app is None:
        raise NotFound(f"申报 {application} 不存在")
    stored = read_verdicts(connection, app.id)
    if not stored:
        raise NotFound(f"申报 {app.ref} 尚未进行资格审查（请先运行 srdi eligibility run --call {app.call_id}）")
    rules = get_profile(get_call(connection, app.call_id).programme_id).eligibility
    overall = stored["overall"]
    lines = [_line(overall, 0, "资格审查结论", None)]
    _tree_lines(rules.rule, 1, True, stored, set(overall.figures.get("waived", [])), lines)
    for kind, items in (("relaxation", rules.relaxations), ("exclusion", rules.exclusions), ("bonus", rules.bonus)):
        for item in items:
            row = stored.get(f"{kind}:{item.id}")
            if row is not None:
                lines.append(_line(row, 1, item.label, item.cite, kind == "exclusion"))
    return {"application": app.ref, "application_id": app.id, "call_id": app.call_id, "enterprise": app.name,
            "uscc": app.uscc, "eligible": app.eligible, "category": app.category, "score": app.score, "verdicts": lines}
