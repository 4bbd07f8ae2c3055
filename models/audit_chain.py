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
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import Index, Table, UniqueConstraint, event, exists, func, or_, select, text
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
#
# Rows are read through the driver, as stored, and hashed as ``repr`` of their (column, value) pairs: a few
# microseconds a row, where reading them through SQLAlchemy's types and formatting each value cost ten
# times more (measured on bench/pipeline.py). SQLite stores text, integers and reals, whose repr is
# exact; PostgreSQL's driver returns times and decimals, which are normalised (a time in UTC, 1.50 = 1.5).
# A migration that changes how an audit column is *stored* must therefore re-seal (docs/OPERATIONS.md).

_PLAIN = frozenset({str, int, float, bool})


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def canonical(names: Sequence[str], values: Sequence[Any]) -> str:
    """The stored row, unambiguously: its non-null (column, value) pairs in column-name order.

    Null columns are left out, so a nullable column added later leaves old digests valid.
    """
    return repr([(name, value if type(value) in _PLAIN else _normal(value))
                 for name, value in zip(names, values) if value is not None])


def row_digest(prev_digest: str, table_name: str, names: Sequence[str], values: Sequence[Any]) -> str:
    return hashlib.sha256(f"{prev_digest}\n{table_name}\n{canonical(names, values)}".encode()).hexdigest()


def _names(name: str) -> list[str]:
    return sorted(c.name for c in AUDITED[name].columns)


def _columns(name: str, alias: str) -> str:
    return ", ".join(f'{alias}."{column}"' for column in _names(name))


class _Driver:
    """Plain statements through the driver's own cursor, in the connection's transaction."""

    def __init__(self, connection: Connection):
        self.cursor = connection.connection.dbapi_connection.cursor()
        self.mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list:
        self.cursor.execute(self.sql(statement), tuple(params))
        return self.cursor.fetchall()

    def close(self) -> None:
        self.cursor.close()


# ---- sealing -------------------------------------------------------------------------------------------

HEAD = "SELECT digest FROM audit_seal WHERE table_name = ? ORDER BY seq DESC LIMIT 1"
INSERT_SEAL = "INSERT INTO audit_seal (table_name, row_id, digest, prev_digest) VALUES (?, ?, ?, ?)"


def _unsealed_rows(name: str, bounded: bool) -> str:
    floor = "t.id > ? AND " if bounded else ""
    return (f"SELECT {_columns(name, 't')} FROM {name} t WHERE {floor}NOT EXISTS "
            f"(SELECT 1 FROM audit_seal s WHERE s.table_name = '{name}' AND s.row_id = t.id) ORDER BY t.id")


def head(connection: Connection, table_name: str) -> str:
    digest = connection.execute(select(SEAL.c.digest).where(SEAL.c.table_name == table_name)
                                .order_by(SEAL.c.seq.desc()).limit(1)).scalar()
    return digest or GENESIS


def seal(connection: Connection, floors: Optional[dict[str, int]] = None) -> dict[str, int]:
    """Seal the unsealed rows of the audit tables (those above ``floors[table]`` only, when given); rows sealed per table."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    driver = _Driver(connection)
    sealed: dict[str, int] = {}
    try:
        for name in (floors if floors is not None else AUDITED):
            bounded = floors is not None
            rows = driver.rows(_unsealed_rows(name, bounded), [floors[name]] if bounded else [])
            if not rows:
                continue
            found = driver.rows(HEAD, [name])
            prev = found[0][0] if found else GENESIS
            names = _names(name)
            at_id = names.index("id")
            seals = []
            for row in rows:
                digest = row_digest(prev, name, names, row)
                seals.append((name, row[at_id], digest, prev))
                prev = digest
            driver.cursor.executemany(driver.sql(INSERT_SEAL), seals)
            sealed[name] = len(seals)
    finally:
        driver.close()
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
    driver = _Driver(connection)
    names = _names(name)
    at_id = 4 + names.index("id")
    driver.cursor.execute(driver.sql(f"SELECT s.seq, s.row_id, s.digest, s.prev_digest, {_columns(name, 't')} FROM audit_seal s "
                                     f"LEFT JOIN {name} t ON t.id = s.row_id WHERE s.table_name = ? ORDER BY s.seq"), (name,))
    prev = GENESIS
    try:
        while batch := driver.cursor.fetchmany(5000):
            for row in batch:
                row_id = row[1]
                if row[3] != prev:
                    report.problem, report.row_id = f"审计链断开：第 {row_id} 行的前一摘要与链上前一行不符（封存记录被删除或插入）", row_id
                    return
                if row[at_id] is None:
                    report.problem, report.row_id = f"行缺失：第 {row_id} 行已封存，但已不在表中（被删除）", row_id
                    return
                if row_digest(prev, name, names, row[4:]) != row[2]:
                    report.problem, report.row_id = f"内容被改：第 {row_id} 行的内容与封存时的摘要不符", row_id
                    return
                prev = row[2]
                report.rows += 1
    finally:
        driver.close()
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
        _walk(connection, name, report)
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
    """Per row: None when its content matches its seal, else why not (未入审计链 / 内容与审计链不符) — for showing a log."""
    if not row_ids:
        return {}
    driver = _Driver(connection)
    names = _names(table_name)
    at_id = 2 + names.index("id")
    marks = ", ".join("?" for _ in row_ids)
    try:
        rows = driver.rows(f"SELECT s.digest, s.prev_digest, {_columns(table_name, 't')} FROM {table_name} t LEFT JOIN audit_seal s "
                           f"ON s.table_name = ? AND s.row_id = t.id WHERE t.id IN ({marks})", [table_name, *row_ids])
    finally:
        driver.close()
    result: dict[int, Optional[str]] = {}
    for row in rows:
        if row[0] is None:
            result[row[at_id]] = "未入审计链"
        elif row_digest(row[1], table_name, names, row[2:]) != row[0]:
            result[row[at_id]] = "内容与审计链不符"
        else:
            result[row[at_id]] = None
    return result


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
