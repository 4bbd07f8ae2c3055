"""Verifying the audit chain (审计链核验): walk each table's seals, check every sealed row, name the first that fails.

Two passes per table, each a single streamed scan: the seals in chain order (``seq``: each links to the
previous digest, each batch matches its own digest), then the seals in row order beside the table's rows in
id order (each row matches its digest; a sealed id missing from the table was deleted; a row no seal covers
was inserted outside srdi). Seals from before revision 0004 (one row each) are checked as they were written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.audit_seal import (
    AUDITED,
    DIGEST_SIZE,
    GENESIS,
    SEAL_COLUMNS,
    SPAN,
    Driver,
    batch_problem,
    column_names,
    content_of,
    legacy_digest,
    select_list,
    unpack_ids,
)
from models.transition import Transition


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


class _Checks:
    """What each sealed id must match: a batch's row digest (through its column list) or a one-row seal's chained digest."""

    def __init__(self, name: str, postgres: bool):
        self.name, self.names = name, column_names(name)
        self.content = content_of(postgres)
        self.picks: dict[str, Optional[tuple]] = {}

    def _pick(self, columns: str) -> Optional[tuple]:
        """Where a batch's columns sit in today's column list (None: the same list; a column since dropped reads as
        null), and today's columns the batch did not hash: a column added since, which must still be null in its rows."""
        if columns not in self.picks:
            listed = columns.split(",")
            self.picks[columns] = None if listed == self.names else (
                tuple(self.names.index(c) if c in self.names else None for c in listed),
                tuple(i for i, c in enumerate(self.names) if c not in listed))
        return self.picks[columns]

    def entries(self, seal: Sequence[Any], wanted: Optional[set[int]] = None) -> dict[int, tuple]:
        """id → check for the ids ``seal`` covers (only those in ``wanted``, when given)."""
        if seal[2] is None:                          # one row, sealed before revision 0004
            return {seal[1]: (None, seal[8], seal[7])} if wanted is None or seal[1] in wanted else {}
        ids, pick, digests = unpack_ids(seal[5]), self._pick(seal[4]), seal[6]
        return {row_id: (digests, position, pick) for position, row_id in enumerate(ids) if wanted is None or row_id in wanted}

    def matches(self, check: tuple, row: Sequence[Any]) -> bool:
        digests, second, third = check
        if digests is None:
            return legacy_digest(second, self.name, self.names, row) == third
        content = self.content(row)
        if third is not None:
            pick, added = third
            if any(content[i] is not None for i in added):
                return False
            content = tuple(content[i] if i is not None else None for i in pick)
        at = second * DIGEST_SIZE
        return hashlib.sha256(repr(content).encode()).digest() == digests[at:at + DIGEST_SIZE]


def _chain(driver: Driver, name: str, report: ChainReport) -> None:
    """Pass 1, in chain order: every seal links to the previous digest and every batch matches its own digest."""
    prev = GENESIS
    for seal in driver.stream(f"SELECT {SEAL_COLUMNS} FROM audit_seal WHERE table_name = ? ORDER BY seq", [name]):
        first = seal[1]
        if seal[8] != prev:
            covered = f"第 {first} 行" if seal[2] is None else f"第 {first}–{seal[2]} 行的封存批次"
            report.problem, report.row_id = f"审计链断开：{covered}的前一摘要与链上前一封存不符（封存记录被删除或插入）", first
            return
        if seal[2] is not None and (problem := batch_problem(name, seal)):
            report.problem, report.row_id = problem, first
            return
        prev = seal[7]
    report.head = prev


def _rows(driver: Driver, name: str, report: ChainReport) -> None:
    """Pass 2, in id order: each row against its seal; sealed ids no longer in the table; rows no seal covers."""
    checks = _Checks(name, driver.postgres)
    at_id = checks.names.index("id")
    seals = driver.stream(f"SELECT {SEAL_COLUMNS} FROM audit_seal WHERE table_name = ? ORDER BY row_id", [name])
    rows = driver.stream(f"SELECT {select_list(checks.names, 't')} FROM {name} t ORDER BY t.id")
    pending: dict[int, tuple] = {}                   # sealed ids not yet met in the table
    upcoming = next(seals, None)
    changed: Optional[int] = None
    first_unsealed: Optional[int] = None
    try:
        for row in rows:
            row_id = row[at_id]
            while upcoming is not None and upcoming[1] <= row_id:
                pending.update(checks.entries(upcoming))
                upcoming = next(seals, None)
            check = pending.pop(row_id, None)
            if check is None:
                report.unsealed += 1
                first_unsealed = row_id if first_unsealed is None else first_unsealed
            elif checks.matches(check, row):
                report.rows += 1
            else:
                changed = row_id
                break
        else:
            while upcoming is not None:
                pending.update(checks.entries(upcoming))
                upcoming = next(seals, None)
    finally:
        seals.close()
        rows.close()
    missing = min((row_id for row_id in pending if changed is None or row_id < changed), default=None)
    if missing is not None:
        report.problem, report.row_id = f"行缺失：第 {missing} 行已封存，但已不在表中（被删除）", missing
    elif changed is not None:
        report.problem, report.row_id = f"内容被改：第 {changed} 行的内容与封存时的摘要不符", changed
    elif first_unsealed is not None:
        report.problem, report.row_id = (f"链外插入：第 {first_unsealed} 行不在审计链中（未经 srdi 写入或尚未封存），"
                                         f"共 {report.unsealed} 行"), first_unsealed


def verify(connection: Connection, tables: Iterable[str] = ()) -> list[ChainReport]:
    """Walk every chain (or ``tables``); each report names the first row that does not match, if any."""
    reports = []
    driver = Driver(connection)
    try:
        for name in tables or AUDITED:
            report = ChainReport(name)
            _chain(driver, name, report)
            if report.ok:
                _rows(driver, name, report)
            reports.append(report)
    finally:
        driver.close()
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


def _windows(ids: list[int]) -> list[tuple[int, int]]:
    """The first-row ranges a seal covering any of ``ids`` (ascending) can start in, overlapping ones merged."""
    windows: list[tuple[int, int]] = []
    for row_id in ids:
        low = row_id - SPAN + 1
        if windows and low <= windows[-1][1] + 1:
            windows[-1] = (windows[-1][0], row_id)
        else:
            windows.append((low, row_id))
    return windows


def row_marks(connection: Connection, table_name: str, row_ids: list[int]) -> dict[int, Optional[str]]:
    """Per row: None when its content matches its seal, else why not (未入审计链 / 内容与审计链不符) — for showing a log."""
    if not row_ids:
        return {}
    wanted = set(row_ids)
    windows = _windows(sorted(wanted))
    checks = _Checks(table_name, connection.dialect.name == "postgresql")
    driver = Driver(connection)
    try:
        rows = driver.rows(f"SELECT {select_list(checks.names, 't')} FROM {table_name} t WHERE t.id IN ({', '.join('?' for _ in wanted)})",
                           sorted(wanted))
        seals = driver.rows(f"SELECT {SEAL_COLUMNS} FROM audit_seal WHERE table_name = ? AND ("
                            + " OR ".join("row_id BETWEEN ? AND ?" for _ in windows) + ")",
                            [table_name, *(bound for window in windows for bound in window)])
    finally:
        driver.close()
    found: dict[int, Optional[tuple]] = {}
    for seal in seals:
        entries = checks.entries(seal, wanted)
        broken = seal[2] is not None and batch_problem(table_name, seal) is not None
        found.update({row_id: None if broken else check for row_id, check in entries.items()})
    at_id = checks.names.index("id")
    result: dict[int, Optional[str]] = {}
    for row in rows:
        row_id = row[at_id]
        if row_id not in found:
            result[row_id] = "未入审计链"
        elif found[row_id] is None or not checks.matches(found[row_id], row):
            result[row_id] = "内容与审计链不符"
        else:
            result[row_id] = None
    return result

