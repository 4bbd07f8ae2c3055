"""The audit chain (审计链): every row of the audit tables carries a digest over its content and the previous digest.

Audit tables: the transition log (which holds the reviewers' decisions), the state-change log, payments
and their adjustments, user changes and the operator log. Rows are sealed after the fact, in the
transaction that wrote them: a hook on every engine notes the first INSERT into an audit table in a
transaction (and the highest id visible then); just before that transaction commits, ``seal`` reads
the new rows in id order, hashes them in Python and writes one ``audit_seal`` row each
(table, row id, digest, previous digest) in one batched insert. The writers themselves (the workflow
writer's INSERT … SELECT) do no per-row work. One chain per table; on PostgreSQL sealers take a
transaction-level advisory lock so a chain never forks, and SQLite has one writer at a time anyway.

Only the transaction's own rows are sealed: a row slipped in outside srdi (raw SQL) stays unsealed and
``verify`` names it. ``seal(connection)`` without floors seals every unsealed row (``srdi audit seal``,
once after a migration that adds the chain to existing data).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable, Optional

from sqlalchemy import Enum as SAEnum
from sqlalchemy import Index, String, Table, UniqueConstraint, event, exists, func, or_, select, text, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from models.append_only import append_only
from models.application import Application
from models.audit_log import OperatorLog, UserChange
from models.funding import Payment, PaymentAdjustment
from models.state_change import StateChange
from models.transition import Transition

GENESIS = "0" * 64
LOCK_KEY = 0x53524449_41554454          # "SRDIAUDT": the sealers' advisory lock on PostgreSQL
_FLOORS = "srdi_audit_floors"           # connection.info key: {table: highest id visible before this transaction wrote}


class AuditSeal(SQLModel, table=True):
    """审计封存: the digest of one audit row, chained to the previous row of the same table."""

    __tablename__ = "audit_seal"
    __table_args__ = (UniqueConstraint("table_name", "row_id", name="uq_audit_seal_row"),
                      Index("ix_audit_seal_chain", "table_name", "seq"))

    seq: Optional[int] = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=32)
    row_id: int
    digest: str = Field(max_length=64, description="sha256 over prev_digest, the table name and the row's content")
    prev_digest: str = Field(max_length=64, description="the digest of the previous row of this table's chain (0…0 first)")


append_only(AuditSeal.__table__, "audit_seal is append-only")

AUDITED: dict[str, Table] = {t.name: t for t in (Transition.__table__, StateChange.__table__, Payment.__table__,
                                                  PaymentAdjustment.__table__, UserChange.__table__, OperatorLog.__table__)}
SEAL = AuditSeal.__table__


# ---- content and digest -------------------------------------------------------------------------------

def _canonical_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (Decimal, float)):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value if isinstance(value, (int, str)) else str(value)


def canonical(row: Any) -> str:
    """The row's content as canonical JSON: non-null columns by name, values by meaning (Decimal 1.50 = 1.5).

    Null columns are left out, so a nullable column added later leaves old digests valid.
    """
    mapping = row if isinstance(row, dict) else dict(row._mapping)
    content = {key: _canonical_value(value) for key, value in mapping.items() if value is not None}
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_digest(prev_digest: str, table_name: str, row: Any) -> str:
    return hashlib.sha256(f"{prev_digest}\n{table_name}\n{canonical(row)}".encode()).hexdigest()


def _content(table: Table):
    """The columns of ``table`` as read for hashing; enums as their stored text, so a forged value still reads."""
    return [type_coerce(c, String()).label(c.name) if isinstance(c.type, SAEnum) else c for c in table.columns]


# ---- sealing -------------------------------------------------------------------------------------------

def head(connection: Connection, table_name: str) -> str:
    digest = connection.execute(select(SEAL.c.digest).where(SEAL.c.table_name == table_name)
                                .order_by(SEAL.c.seq.desc()).limit(1)).scalar()
    return digest or GENESIS


def seal(connection: Connection, floors: Optional[dict[str, int]] = None) -> dict[str, int]:
    """Seal the unsealed rows of the audit tables (those above ``floors[table]`` only, when given); rows sealed per table."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    sealed: dict[str, int] = {}
    for name in (floors if floors is not None else AUDITED):
        table = AUDITED[name]
        query = (select(*_content(table))
                 .where(~exists().where(SEAL.c.table_name == name, SEAL.c.row_id == table.c.id)).order_by(table.c.id))
        if floors is not None:
            query = query.where(table.c.id > floors[name])
        rows = connection.execute(query).mappings().all()
        if not rows:
            continue
        prev = head(connection, name)
        seals = []
        for row in rows:
            digest = row_digest(prev, name, dict(row))
            seals.append({"table_name": name, "row_id": row["id"], "digest": digest, "prev_digest": prev})
            prev = digest
        connection.execute(SEAL.insert(), seals)
        sealed[name] = len(seals)
    return sealed


def _note_audit_insert(conn, cursor, statement, parameters, context, executemany) -> None:
    """Before an INSERT into an audit table, the first in this transaction: remember the highest id visible now."""
    if statement[:12].upper() != "INSERT INTO ":
        return
    name = statement[12:].split(None, 1)[0].strip('"').lower()
    if name not in AUDITED:
        return
    floors = conn.info.setdefault(_FLOORS, {})
    if name in floors:
        return
    probe = cursor.connection.cursor()
    try:
        probe.execute(f"SELECT coalesce(max(id), 0) FROM {name}")     # name is one of AUDITED, never input
        floors[name] = probe.fetchone()[0]
    finally:
        probe.close()


def _seal_before_commit(conn) -> None:
    floors = conn.info.pop(_FLOORS, None)
    if floors:
        seal(conn, floors)


def _forget(conn) -> None:
    conn.info.pop(_FLOORS, None)


event.listen(Engine, "before_cursor_execute", _note_audit_insert)
event.listen(Engine, "commit", _seal_before_commit)
event.listen(Engine, "begin", _forget)
event.listen(Engine, "rollback", _forget)


# ---- verifying -----------------------------------------------------------------------------------------

@dataclass
class ChainReport:
    """One table's chain: rows checked, the head digest, and the first row that does not match (if any)."""

    table: str
    rows: int = 0
    head: str = GENESIS
    problem: Optional[str] = None
    row_id: Optional[int] = None
    unsealed: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


def _walk(connection: Connection, name: str, report: ChainReport) -> None:
    table = AUDITED[name]
    seals = [SEAL.c.seq.label("_seal_seq"), SEAL.c.row_id.label("_seal_row"), SEAL.c.digest.label("_seal_digest"),
             SEAL.c.prev_digest.label("_seal_prev")]
    query = (select(*seals, *_content(table)).select_from(SEAL.outerjoin(table, table.c.id == SEAL.c.row_id))
             .where(SEAL.c.table_name == name).order_by(SEAL.c.seq).execution_options(yield_per=5000))
    prev = GENESIS
    for row in connection.execute(query).mappings():
        content = {key: value for key, value in row.items() if not key.startswith("_seal_")}
        row_id = row["_seal_row"]
        if row["_seal_prev"] != prev:
            report.problem, report.row_id = f"审计链断开：第 {row_id} 行的前一摘要与链上前一行不符（封存记录被删除或插入）", row_id
            return
        if content["id"] is None:
            report.problem, report.row_id = f"行缺失：第 {row_id} 行已封存，但已不在表中（被删除）", row_id
            return
        if row_digest(prev, name, content) != row["_seal_digest"]:
            report.problem, report.row_id = f"内容被改：第 {row_id} 行的内容与封存时的摘要不符", row_id
            return
        prev = row["_seal_digest"]
        report.rows += 1
    report.head = prev


def _unsealed(connection: Connection, name: str) -> tuple[int, Optional[int]]:
    table = AUDITED[name]
    outside = ~exists().where(SEAL.c.table_name == name, SEAL.c.row_id == table.c.id)
    first, count = connection.execute(select(func.min(table.c.id), func.count()).where(outside)).one()
    return int(count or 0), first


def verify(connection: Connection, tables: Iterable[str] = ()) -> list[ChainReport]:
    """Walk every chain (or ``tables``); each report names the first row that does not match, if any."""
    reports = []
    for name in tables or AUDITED:
        report = ChainReport(name)
        try:
            _walk(connection, name, report)
        except (ValueError, ArithmeticError, LookupError) as exc:     # a forged value the column type cannot read
            report.problem = f"内容被改：第 {report.rows + 1} 个封存行的值无法读取（{exc}）"
        if report.ok:
            report.unsealed, first = _unsealed(connection, name)
            if first is not None:
                report.problem, report.row_id = (f"链外插入：第 {first} 行不在审计链中（未经 srdi 写入或尚未封存），"
                                                 f"共 {report.unsealed} 行"), first
        reports.append(report)
    if not tables:
        reports.append(status_drift(connection))
    return reports


def status_drift(connection: Connection) -> ChainReport:
    """Applications whose current level and status are not where their last (chained) transition put them.

    The application row is a working table (it changes with every move); the transition log is the
    record, so a status edited in place shows here.
    """
    apps, t = Application.__table__, Transition.__table__
    last = select(t.c.application_id, func.max(t.c.id).label("last_id")).group_by(t.c.application_id).subquery()
    drifted = (select(apps.c.id).select_from(apps.outerjoin(last, last.c.application_id == apps.c.id)
                                             .outerjoin(t, t.c.id == last.c.last_id))
               .where(or_(t.c.id.is_(None), t.c.to_status != apps.c.status, t.c.to_level != apps.c.level)))
    report = ChainReport("application", head="")
    report.rows = connection.execute(select(func.count()).select_from(apps)).scalar()
    drifted = drifted.subquery()
    first, count = connection.execute(select(func.min(drifted.c.id), func.count()).select_from(drifted)).one()
    if first is not None:
        report.problem, report.row_id = (f"状态被改：申报 {first} 的当前层级或状态与其最后一条流转记录不符"
                                         f"（共 {count} 件）"), first
    return report


def row_marks(connection: Connection, table_name: str, row_ids: list[int]) -> dict[int, Optional[str]]:
    """Per row: None when its content matches its seal, else why not (未封存 / 内容被改) — for showing a log."""
    table = AUDITED[table_name]
    if not row_ids:
        return {}
    query = (select(SEAL.c.digest.label("_seal_digest"), SEAL.c.prev_digest.label("_seal_prev"), *_content(table))
             .select_from(table.outerjoin(SEAL, (SEAL.c.table_name == table_name) & (SEAL.c.row_id == table.c.id)))
             .where(table.c.id.in_(row_ids)))
    marks: dict[int, Optional[str]] = {}
    for row in connection.execute(query).mappings():
        content = {key: value for key, value in row.items() if not key.startswith("_seal_")}
        if row["_seal_digest"] is None:
            marks[content["id"]] = "未入审计链"
        elif row_digest(row["_seal_prev"], table_name, content) != row["_seal_digest"]:
            marks[content["id"]] = "内容与审计链不符"
        else:
            marks[content["id"]] = None
    return marks


# ---- the service's database role (PostgreSQL) -----------------------------------------------------------

AUDIT_TABLES = (*AUDITED, SEAL.name)


def service_role_grants(role: str, tables: Iterable[str], schema: str = "public") -> list[str]:
    """GRANTs for the role srdi runs as: no DDL, no TRUNCATE, no ownership; audit tables SELECT/INSERT only.

    ``tables`` are every table of the schema (including alembic_version and the scheduler's job store).
    DELETE stays on working tables: the eligibility verdicts are recomputed and the job store prunes jobs.
    """
    statements = [f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC', f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
                  f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"']
    for name in sorted(tables):
        if name in AUDIT_TABLES:
            statements.append(f'GRANT SELECT, INSERT ON "{schema}"."{name}" TO "{role}"')
        elif name == "alembic_version":
            statements.append(f'GRANT SELECT ON "{schema}"."{name}" TO "{role}"')
        else:
            statements.append(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{schema}"."{name}" TO "{role}"')
    return statements
