"""审计封存 (audit_seal): the table of seals and how a seal's digests are computed.

A seal covers a batch of one audit table's rows written by one transaction — at most ``SPAN`` ids
from its first row (``row_id``) to its last (``last_row_id``): the column list hashed, the row ids
(packed as runs of consecutive ids, since ids written by one transaction need not be contiguous on
PostgreSQL), a 32-byte sha256 of each row's content (``row_digests``, unchained, in id order) and the
batch's ``digest`` = sha256 over the previous seal's digest, the table, the columns, the ids and the row
digests. One chain per table, in ``seq`` order. A changed row fails its own row digest; a changed seal
fails its batch digest; a removed or inserted seal breaks the chain.

Seals written before revision 0004 cover one row each (``last_row_id`` is null): their digest is
sha256 over the previous digest, the table and ``legacy_canonical`` of the row, and they verify as before.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import struct
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator, Optional, Sequence

from sqlalchemy import Column, Index, LargeBinary, Table, UniqueConstraint
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from models.append_only import append_only
from models.audit_log import OperatorLog, UserChange
from models.funding import Payment, PaymentAdjustment
from models.state_change import StateChange
from models.transition import Transition

GENESIS = "0" * 64
SPAN = 4096          # a seal covers ids first … first + SPAN - 1 at most: a row's seal is found by an index range
DIGEST_SIZE = 32
_CURSORS = itertools.count()


class AuditSeal(SQLModel, table=True):
    """审计封存: one batch of an audit table's rows (or, before revision 0004, one row), chained to the previous seal."""

    __tablename__ = "audit_seal"
    __table_args__ = (UniqueConstraint("table_name", "row_id", name="uq_audit_seal_row"),
                      Index("ix_audit_seal_chain", "table_name", "seq"),
                      Index("ix_audit_seal_last", "table_name", "last_row_id"))

    seq: Optional[int] = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=32)
    row_id: int = Field(description="the first row the seal covers (the only one for a seal from before revision 0004)")
    last_row_id: Optional[int] = Field(default=None, description="the last row the batch covers (null: a one-row seal from before 0004)")
    row_count: Optional[int] = Field(default=None)
    column_names: Optional[str] = Field(default=None, max_length=1000, description="the columns hashed, comma-separated, in order")
    row_ids: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary, nullable=True),
                                     description="the ids covered: runs (first id, length) as little-endian int64 pairs")
    row_digests: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary, nullable=True),
                                         description="sha256 of each covered row's content, 32 bytes each, in id order")
    digest: str = Field(max_length=64, description="sha256 over prev_digest, the table name and the content (batch: ids and row digests)")
    prev_digest: str = Field(max_length=64, description="the digest of the previous seal of this table's chain (0…0 first)")


append_only(AuditSeal.__table__, "audit_seal is append-only")

AUDITED: dict[str, Table] = {t.name: t for t in (Transition.__table__, StateChange.__table__, Payment.__table__,
                                                  PaymentAdjustment.__table__, UserChange.__table__, OperatorLog.__table__)}
SEAL = AuditSeal.__table__
SEAL_COLUMNS = "seq, row_id, last_row_id, row_count, column_names, row_ids, row_digests, digest, prev_digest"


@functools.cache
def column_names(name: str) -> list[str]:
    """An audit table's columns in name order: the order a row's content is hashed in (do not modify the list)."""
    return sorted(c.name for c in AUDITED[name].columns)


def select_list(names: Sequence[str], alias: str) -> str:
    return ", ".join(f'{alias}."{column}"' for column in names)


class Driver:
    """Plain statements through the driver's own cursor, in the connection's transaction."""

    def __init__(self, connection: Connection):
        self.postgres = connection.dialect.name == "postgresql"
        self.dbapi = connection.connection.dbapi_connection
        self.cursor = self.dbapi.cursor()
        self.mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"

    def sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list:
        self.cursor.execute(self.sql(statement), tuple(params))
        return self.cursor.fetchall()

    def batch(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list]:
        """Each statement's rows, in order; on PostgreSQL sent together in one pipeline (one round trip, run in order)."""
        if not self.postgres:
            return [self.rows(statement, params) for statement, params in statements]
        cursors = []
        try:
            with self.dbapi.pipeline():
                for statement, params in statements:
                    cursors.append(self.dbapi.cursor())
                    cursors[-1].execute(self.sql(statement), tuple(params))
            return [cursor.fetchall() for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()

    def stream(self, statement: str, params: Sequence[Any] = (), size: int = 5000) -> Iterator[tuple]:
        """The rows a few thousand at a time, on a cursor of their own (on PostgreSQL a server-side one)."""
        cursor = self.dbapi.cursor(name=f"srdi_audit_{next(_CURSORS)}") if self.postgres else self.dbapi.cursor()
        try:
            cursor.execute(self.sql(statement), tuple(params))
            while batch := cursor.fetchmany(size):
                yield from batch
        finally:
            cursor.close()

    def close(self) -> None:
        self.cursor.close()


# ---- a row's content ----------------------------------------------------------------------------------
#
# Rows are read through the driver, as stored, and hashed as the ``repr`` of the row tuple (the column list
# is fixed in the seal): a couple of microseconds a row, sha256 included. SQLite's driver returns text,
# integers, reals and bytes, whose repr is exact; PostgreSQL's returns times, decimals and JSON, which are
# normalised first (a time in UTC, 1.50 = 1.5). A migration that changes how an audit column is *stored* must therefore
# re-seal (docs/OPERATIONS.md).

_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})


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


def _normalised(row: Sequence[Any]) -> tuple:
    return tuple([v if type(v) in _PLAIN else _normal(v) for v in row])


def content_of(postgres: bool) -> Callable[[Sequence[Any]], tuple]:
    """The row as hashed: as the driver returned it (SQLite), or with its times, decimals and JSON normalised (PostgreSQL)."""
    return _normalised if postgres else tuple


def row_digests(rows: Sequence[Sequence[Any]], postgres: bool) -> bytes:
    """sha256 of each row's content (the repr of its tuple), concatenated."""
    sha256 = hashlib.sha256
    if postgres:
        rows = map(_normalised, rows)
    return b"".join([sha256(repr(row).encode()).digest() for row in rows])


def pack_ids(ids: Sequence[int]) -> bytes:
    """Ascending ids as runs of consecutive ids: (first, length) pairs, little-endian int64."""
    if ids[-1] - ids[0] == len(ids) - 1:
        return struct.pack("<2q", ids[0], len(ids))
    runs: list[int] = []
    start = previous = ids[0]
    for row_id in ids[1:]:
        if row_id != previous + 1:
            runs += (start, previous - start + 1)
            start = row_id
        previous = row_id
    runs += (start, previous - start + 1)
    return struct.pack(f"<{len(runs)}q", *runs)


def unpack_ids(packed: bytes) -> list[int]:
    values = struct.unpack(f"<{len(packed) // 8}q", packed)
    ids: list[int] = []
    for start, length in zip(values[::2], values[1::2]):
        ids.extend(range(start, start + length))
    return ids


def batch_digest(prev_digest: str, table_name: str, columns: str, packed_ids: bytes, digests: bytes) -> str:
    head = f"{prev_digest}\n{table_name}\n{columns}\n{len(packed_ids)}\n".encode()
    return hashlib.sha256(head + packed_ids + digests).hexdigest()


def batch_problem(table_name: str, seal: Sequence[Any]) -> Optional[str]:
    """Why a batch seal (a row of SEAL_COLUMNS) does not hold together, or None."""
    _, first, last, count, columns, packed, digests, digest, prev = seal
    try:
        ids = unpack_ids(packed)
    except struct.error:
        ids = []
    if (not ids or ids[0] != first or ids[-1] != last or len(ids) != count or len(digests) != DIGEST_SIZE * count
            or batch_digest(prev, table_name, columns, packed, digests) != digest):
        return f"封存被改：第 {first}–{last} 行的封存批次与其摘要不符"
    return None


# ---- seals from before revision 0004: one row each ------------------------------------------------------

_LEGACY_PLAIN = frozenset({str, int, float, bool})


def legacy_canonical(names: Sequence[str], values: Sequence[Any]) -> str:
    """The stored row as sealed before 0004: its non-null (column, value) pairs in column-name order."""
    return repr([(name, value if type(value) in _LEGACY_PLAIN else _normal(value))
                 for name, value in zip(names, values) if value is not None])


def legacy_digest(prev_digest: str, table_name: str, names: Sequence[str], values: Sequence[Any]) -> str:
    return hashlib.sha256(f"{prev_digest}\n{table_name}\n{legacy_canonical(names, values)}".encode()).hexdigest()
