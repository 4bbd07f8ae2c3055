"""Intake into the pipeline (申报受理): enterprises, their yearly figures, applications, 'submit'.

``create_applications`` is what the Excel/CSV import, the demo and the benchmark call. It works on
the whole batch in a handful of statements and is idempotent: the same records twice create nothing
new (an enterprise already applying to the call is left as it is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from models.application import Application
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.workflow import APPLICATION
from models.workflow_writer import initial, record_created
from tasks.intake.admission import LOOKUP, Intake
from tasks.intake.bulk import insert_rows
from tasks.intake.problem import InvalidRecords, Problem
from tasks.intake.record import IntakeRecord
from tasks.intake.validator import validate_records
from tasks.review.moves import chunks
from tasks.review.windows import entry_level_opens, open_windows

ZERO = Decimal(0)
ENTERPRISE_FIELDS = ("name", "size", "industry_code", "jurisdiction_code", "registered_on", "listed_board")


@dataclass
class IntakeResult:
    created: int = 0
    existing: int = 0
    enterprises_created: int = 0
    enterprises_updated: int = 0
    financial_years_written: int = 0
    applications: dict[str, int] = field(default_factory=dict)   # USCC → application id


def check_records(connection: Connection, call_id: str, records: Sequence[Mapping | IntakeRecord], actor: str,
                  now: datetime) -> list[Problem]:
    """Every problem ``create_applications`` would refuse, without writing anything."""
    return validate_records(Intake.open(connection, call_id, actor, now), records)[1]


def create_applications(connection: Connection, call_id: str, records: Sequence[Mapping | IntakeRecord], actor: str,
                        now: datetime) -> IntakeResult:
    """Take in a batch of applications to ``call_id`` at the route's entry level.

    Each record is an ``IntakeRecord`` (the workbook import reads its rows into them) or a mapping
    with English keys, read into one by tasks/intake/mapping_rows.py::

        {
          "row": 7,                          # optional: row number as Excel shows it, used in messages
          "uscc": "91130102MA07XXXXXX",      # 统一社会信用代码 (GB 32100-2015), required
          "name": "河北某某科技有限公司",      # 企业名称, required
          "size": "small",                   # 企业规模 medium/small/micro (or 中型/小型/微型), required
          "industry_code": "C3484",          # 所属行业 GB/T 4754-2017, required
          "jurisdiction_code": "130102",     # 所在区（县）, required; inside the call's jurisdiction
          "registered_on": date | None,      # 成立日期
          "listed_board": str | None,        # 上市板块, None = 未上市
          "category": "c" | None,            # 分类 (79号 a/b/c), used by quota sub-caps
          "eligible": bool | None,           # eligibility verdict, when already judged
          "facts": {...},                    # form facts (patents, ranks, yes/no qualifications)
          "entry_level": "municipal" | None, # start above optional levels only (profile ``optional``)
          "financials": [                    # 近年财务数据（万元）, one dict per fiscal year
              {"fiscal_year": 2025, "revenue_wan": "5200.5", "main_business_revenue_wan": "5000",
               "rd_expense_wan": "300", "total_profit_wan": ..., "net_profit_wan": ...,
               "total_assets_wan": ..., "total_liabilities_wan": ..., "taxes_paid_wan": ...,
               "employees": 120, "rd_staff": 30},
          ],
        }

    ``actor`` is a username (a bureau user whose jurisdiction covers every record, or the applicant
    user of the one enterprise) or ``"system"``. Refused as a whole (``InvalidRecords``, nothing
    written) when any record is invalid, the enterprise is banned (``Enterprise.banned_until``), the
    call is not open or past its 申报截止, or the entry level of that jurisdiction has closed.
    Writes, in the caller's transaction: enterprises upserted by USCC, their financial years upserted
    by (enterprise, fiscal_year), one application per new enterprise × call at the entry level in the
    applicant's reviewing jurisdiction (see tasks/reference/routing.py), one ``submit`` transition each, and
    the entry-level windows with their deadlines.
    """
    intake = Intake.open(connection, call_id, actor, now)
    clean, problems = validate_records(intake, records)
    if problems:
        raise InvalidRecords(problems)
    return write_applications(intake, clean)


def write_applications(intake: Intake, records: list[IntakeRecord]) -> IntakeResult:
    """Write records ``validate_records`` passed: enterprises, their years, applications, 'submit' (see above)."""
    result = IntakeResult()
    if not records:
        return result
    connection, now = intake.connection, intake.now
    enterprise_ids = _upsert_enterprises(connection, records, now, result)
    _upsert_financials(connection, records, enterprise_ids, result)
    _insert_applications(intake, records, enterprise_ids, result)
    return result


def _upsert_enterprises(connection: Connection, records: list[IntakeRecord], now: datetime, result: IntakeResult) -> dict[str, int]:
    ids: dict[str, int] = {}
    current: dict[str, dict] = {}
    usccs = [r.uscc for r in records]
    for chunk in chunks(usccs, LOOKUP):
        for row in connection.execute(select(Enterprise).where(Enterprise.uscc.in_(chunk))):
            ids[row.uscc] = row.id
            current[row.uscc] = {f: getattr(row, f) for f in ENTERPRISE_FIELDS}
    new = [(r.uscc, *(getattr(r, f) for f in ENTERPRISE_FIELDS), now) for r in records if r.uscc not in ids]
    changed = [{"k": ids[r.uscc], **{f: getattr(r, f) for f in ENTERPRISE_FIELDS}}
               for r in records if r.uscc in ids and any(current[r.uscc][f] != getattr(r, f) for f in ENTERPRISE_FIELDS)]
    if new:
        before = connection.execute(select(func.coalesce(func.max(Enterprise.id), 0))).scalar()
        insert_rows(connection, Enterprise.__table__, ("uscc", *ENTERPRISE_FIELDS, "created_at"), new)
        wanted = {row[0] for row in new}
        ids.update((uscc, id_) for uscc, id_ in connection.execute(select(Enterprise.uscc, Enterprise.id).where(Enterprise.id > before))
                   if uscc in wanted)
    if changed:
        table = Enterprise.__table__
        connection.execute(update(table).where(table.c.id == bindparam("k"))
                           .values({f: bindparam(f) for f in ENTERPRISE_FIELDS}), changed)
    result.enterprises_created, result.enterprises_updated = len(new), len(changed)
    return ids


def _upsert_financials(connection: Connection, records: list[IntakeRecord], enterprise_ids: dict[str, int],
                       result: IntakeResult) -> None:
    table = EnterpriseFinancialYear.__table__
    money = [c.name for c in table.columns if c.name not in ("id", "enterprise_id", "fiscal_year")]
    wanted = {(enterprise_ids[r.uscc], fiscal_year): figures for r in records for fiscal_year, figures in sorted(r.years.items())}
    if not wanted:
        return
    current: dict[tuple[int, int], dict] = {}
    for chunk in chunks(sorted({key[0] for key in wanted}), LOOKUP):
        for row in connection.execute(select(table).where(table.c.enterprise_id.in_(chunk))):
            current[(row.enterprise_id, row.fiscal_year)] = {**row._mapping}
    new, changed = [], []
    for (enterprise_id, fiscal_year), figures in wanted.items():
        values = {c: figures.get(c) for c in money}
        values["rd_expense_wan"] = values["rd_expense_wan"] or ZERO   # 研发经费 left blank is 0 (the column is NOT NULL)
        if (enterprise_id, fiscal_year) not in current:
            new.append((enterprise_id, fiscal_year, *values.values()))
        elif any(current[(enterprise_id, fiscal_year)][c] != values[c] for c in money):
            changed.append({"k": current[(enterprise_id, fiscal_year)]["id"], **values})
    if new:
        insert_rows(connection, table, ("enterprise_id", "fiscal_year", *money), new)
    if changed:
        connection.execute(update(table).where(table.c.id == bindparam("k")).values({c: bindparam(c) for c in money}), changed)
    result.financial_years_written = len(new) + len(changed)


def _ref_prefix(call_id: str, year: int) -> str:
    return f"SQ{year}-{hashlib.sha1(call_id.encode()).hexdigest()[:6].upper()}-"


def _insert_applications(intake: Intake, records: list[IntakeRecord], enterprise_ids: dict[str, int], result: IntakeResult) -> None:
    connection, context, tree, who, now = intake.connection, intake.context, intake.tree, intake.who, intake.now
    call = context.call
    in_call = select(Application.enterprise_id, Application.id).where(Application.call_id == call.id)
    existing = dict(connection.execute(in_call).all())
    fresh = [r for r in {enterprise_ids[r.uscc]: r for r in records}.values() if enterprise_ids[r.uscc] not in existing]
    before = connection.execute(select(func.coalesce(func.max(Application.id), 0))).scalar()
    prefix, base = _ref_prefix(call.id, call.year), len(existing)
    rows = [{
        "ref": f"{prefix}{offset:06d}", "call_id": call.id, "enterprise_id": enterprise_ids[record.uscc],
        "jurisdiction_code": record.jurisdiction_code, "level": intake.entry_level(record),
        "review_jurisdiction_code": tree.reviewer_at(record.jurisdiction_code, intake.entry_level(record)),
        **initial(APPLICATION, "submit"), "version": 1, "score": None, "category": record.category,
        "eligible": record.eligible, "facts": record.facts, "submitted_at": now, "updated_at": now,
    } for offset, record in enumerate(fresh, start=base + 1)]
    ids = dict(existing)
    if rows:
        columns = tuple(rows[0])
        insert_rows(connection, Application.__table__, columns, [tuple(row.values()) for row in rows])
        created = connection.execute(in_call.where(Application.id > before)).all()
        ids.update(created)
        record_created(connection, APPLICATION, "submit", [app_id for _, app_id in created], actor=who, at=now,
                       step_key=f"submit:{call.id}")
        for level in sorted({r["level"] for r in rows}):
            codes = {r["review_jurisdiction_code"] for r in rows if r["level"] == level}
            open_windows(connection, call, context.step(level), codes, call.opens_at, tree, entry_level_opens(call))
    result.created, result.existing = len(rows), len(existing)
    result.applications = {r.uscc: ids[enterprise_ids[r.uscc]] for r in records}


__all__ = ["IntakeResult", "InvalidRecords", "Problem", "check_records", "create_applications", "write_applications"]
