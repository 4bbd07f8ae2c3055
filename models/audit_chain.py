"""The audit chain (审计链): every row of the audit tables is sealed — its content digested, chained per table.

Audit tables: the transition log (which holds the reviewers' decisions), the state-change log, payments
and their adjustments, user changes and the operator log. Rows are sealed after the fact, in the
transaction that wrote them: a hook on every engine notes the first INSERT into an audit table in a
transaction (and the highest id visible then); just before that transaction commits, ``seal`` reads
the new rows in id order through the driver, digests each (models/audit_seal.py) and appends one
``audit_seal`` row per table and up to ``SPAN`` ids — the batch's row ids, its per-row digests and its
digest chained to the previous seal. The writers themselves (the workflow writer's INSERT … SELECT) do
no per-row work. One chain per table; on PostgreSQL sealers take a transaction-level advisory lock so a
chain never forks, and SQLite has one writer at a time anyway.

Only the transaction's own rows are sealed: a row slipped in outside srdi (raw SQL) stays unsealed and
``verify`` (models/audit_verify.py) names it. ``seal(connection)`` without floors seals every unsealed
row (``srdi audit seal``; revision 0003 on the one-row-per-seal layout it created).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Iterable, Optional

from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Connection, Engine

from models.audit_seal import (
    AUDITED,
    DIGEST_SIZE,
    GENESIS,
    SEAL,
    SPAN,
    AuditSeal,
    Driver,
    batch_digest,
    column_names,
    legacy_digest,
    pack_ids,
    row_digests,
    select_list,
    unpack_ids,
)
from models.audit_verify import ChainReport, row_marks, status_drift, verify

__all__ = ["AUDITED", "AUDIT_TABLES", "AuditSeal", "ChainReport", "GENESIS", "SPAN", "head", "row_marks", "seal",
           "service_role_grants", "status_drift", "verify"]

LOCK_KEY = 0x53524449_41554454          # "SRDIAUDT": the sealers' advisory lock on PostgreSQL
_FLOORS = "srdi_audit_floors"           # connection.info key: {table: highest id visible before this transaction wrote}

HEAD = "SELECT digest FROM audit_seal WHERE table_name = ? ORDER BY seq DESC LIMIT 1"
INSERT_BATCH = ("INSERT INTO audit_seal (table_name, row_id, last_row_id, row_count, column_names, row_ids, row_digests, "
                "digest, prev_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def head(connection: Connection, table_name: str) -> str:
    digest = connection.execute(select(SEAL.c.digest).where(SEAL.c.table_name == table_name)
                                .order_by(SEAL.c.seq.desc()).limit(1)).scalar()
    return digest or GENESIS


SEALED_ABOVE = "SELECT row_id, last_row_id, row_ids FROM audit_seal WHERE table_name = ? AND last_row_id > ?"
SEALED_ALL = "SELECT row_id, last_row_id, row_ids FROM audit_seal WHERE table_name = ?"
PAGE = SPAN                             # rows read, digested and sealed at a time: memory stays flat at any size


def _page(name: str) -> str:
    return f"SELECT {select_list(column_names(name), 't')} FROM {name} t WHERE t.id > ? ORDER BY t.id LIMIT {PAGE}"


def _covered(seals: Iterable) -> set[int]:
    found: set[int] = set()
    for first, last, packed in seals:
        found.update(unpack_ids(packed) if last is not None else (first,))
    return found


def _first_unsealed(driver: Driver, name: str) -> Optional[int]:
    """For a full seal: the id before the first row no seal covers, or None when every row is sealed."""
    sealed = _covered(driver.rows(SEALED_ALL, [name]))
    for (row_id,) in driver.stream(f"SELECT id FROM {name} ORDER BY id"):
        if row_id not in sealed:
            return row_id - 1
    return None


def _open(driver: Driver, floors: dict[str, int], every: bool = False) -> dict[str, tuple[set[int], str, list]]:
    """Per table: the ids above its floor that other writers' seals cover (ids interleave on PostgreSQL; ``every``:
    all sealed ids, 0003's one-row seals included), the chain's head, and the first page of rows above the floor —
    read after the sealers' lock, in one round trip on PostgreSQL."""
    statements = [("SELECT pg_advisory_xact_lock(?)", [LOCK_KEY])] if driver.postgres else []
    for name, floor in floors.items():
        sealed = (SEALED_ALL, [name]) if every else (SEALED_ABOVE, [name, floor])
        statements += [sealed, (HEAD, [name]), (_page(name), [floor])]
    results = driver.batch(statements)[1 if driver.postgres else 0:]
    return {name: (_covered(results[3 * i]), results[3 * i + 1][0][0] if results[3 * i + 1] else GENESIS, results[3 * i + 2])
            for i, name in enumerate(floors)}


def _seal_table(driver: Driver, name: str, sealed: set[int], prev: str, page: list) -> int:
    """Digest the table's unsealed rows page by page and append their seals; the number of rows sealed."""
    at_id, count = column_names(name).index("id"), 0
    while page:
        rows = [row for row in page if row[at_id] not in sealed] if sealed else page
        if rows:
            prev = _append(driver, name, rows, prev)
            count += len(rows)
        if len(page) < PAGE:
            break
        page = driver.rows(_page(name), [page[-1][at_id]])
    return count


def _append(driver: Driver, name: str, rows: list, prev: str) -> str:
    """Digest ``rows`` (in id order) and append their seals, one per ``SPAN`` ids, to the chain after ``prev``; the new head."""
    names = column_names(name)
    at_id = names.index("id")
    ids = [row[at_id] for row in rows]
    digests = row_digests(rows, driver.postgres)
    columns = ",".join(names)
    seals = []
    start = 0
    while start < len(ids):
        end = bisect_left(ids, ids[start] + SPAN, start)
        packed, chunk = pack_ids(ids[start:end]), digests[start * DIGEST_SIZE:end * DIGEST_SIZE]
        digest = batch_digest(prev, name, columns, packed, chunk)
        seals.append((name, ids[start], ids[end - 1], end - start, columns, packed, chunk, digest, prev))
        prev, start = digest, end
    driver.cursor.executemany(driver.sql(INSERT_BATCH), seals)
    return prev


def _seal_one_per_row(driver: Driver) -> dict[str, int]:
    """Revision 0003's layout (no batch columns yet): one seal per unsealed row, as 0003 wrote them."""
    sealed: dict[str, int] = {}
    for name in AUDITED:
        names = column_names(name)
        rows = driver.rows(f"SELECT {select_list(names, 't')} FROM {name} t WHERE NOT EXISTS (SELECT 1 FROM audit_seal s "
                           f"WHERE s.table_name = '{name}' AND s.row_id = t.id) ORDER BY t.id")
        if not rows:
            continue
        found = driver.rows(HEAD, [name])
        prev, seals, at_id = found[0][0] if found else GENESIS, [], names.index("id")
        for row in rows:
            digest = legacy_digest(prev, name, names, row)
            seals.append((name, row[at_id], digest, prev))
            prev = digest
        driver.cursor.executemany(driver.sql("INSERT INTO audit_seal (table_name, row_id, digest, prev_digest) VALUES (?, ?, ?, ?)"),
                                  seals)
        sealed[name] = len(seals)
    return sealed


def seal(connection: Connection, floors: Optional[dict[str, int]] = None) -> dict[str, int]:
    """Seal the unsealed rows of the audit tables (those above ``floors[table]`` only, when given); rows sealed per table."""
    driver = Driver(connection)
    try:
        if floors is None:
            if "row_digests" not in {c["name"] for c in inspect(connection).get_columns(SEAL.name)}:
                if driver.postgres:
                    driver.rows("SELECT pg_advisory_xact_lock(?)", [LOCK_KEY])
                return _seal_one_per_row(driver)
            floors = {name: floor for name in AUDITED if (floor := _first_unsealed(driver, name)) is not None}
            if not floors:
                return {}
            opened = _open(driver, floors, every=True)
        else:
            opened = _open(driver, floors)
        sealed = {name: _seal_table(driver, name, *opened[name]) for name in floors}
    finally:
        driver.close()
    return {name: n for name, n in sealed.items() if n}


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
