"""How an application's eligibility verdicts are stored (资格审查结果的存储): compactly, read back whole.

Every evaluated rule node has a verdict (node, kind, passed, waived, points, figures, message), about
25 per application. Most are met, and nobody queries a met criterion by itself, so an application
gets:

- its ``overall`` row, whose ``figures`` also carry the met verdicts as a list under ``MET``
  (``[node_id, kind, waived, points, figures, message]`` each: passed is true). A met criterion or band
  that was not waived is only its node id: its figures and sentence follow from the application's
  inputs (raw yearly figures as text, the facts the criteria read, the reference year), kept once under
  ``INPUTS``, and are rendered when read (tasks/eligibility/rules.py ``render_met``: the same code that
  judged them, on the same inputs, with the profile of the call);
- one row per verdict that is not met — not met (False) or not decidable (None) — with its own
  figures and message: what a clerk or a query looks for ("the first unmet criterion").

A national round writes ~5 rows per application instead of ~25, each application's met verdicts in
one JSON text, and builds no sentence nobody reads yet. ``read_verdicts`` puts them back together, so every verdict reads as it was judged
(explain, the console's 资格审查结论 with its 出处, ``srdi eligibility explain``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from models.application import Application
from models.eligibility import EligibilityVerdict
from tasks.eligibility.rules import INPUTS, Compiled, Row, encode_figures, render_met
from tasks.intake.bulk import insert_rows
from tasks.reference.calls import get_call, get_profile
from tasks.review.moves import chunks

MET = "met"      # key of the overall row's figures holding the met verdicts
POINTS = Decimal("0.01")   # EligibilityVerdict.points is NUMERIC(7, 2)
COLUMNS = ("application_id", "node_id", "kind", "passed", "waived", "points", "figures", "message")


@dataclass
class StoredVerdict:
    """One verdict as stored: a row of its own or an entry of the overall row's ``MET`` list."""

    node_id: str
    kind: str
    passed: Optional[bool]
    waived: bool = False
    points: Optional[Decimal] = None
    figures: Any = field(default_factory=dict)
    message: str = ""


def stored_rows(application_id: int, rows: list[Row]) -> list[tuple]:
    """The table rows of one application's verdicts (``rows[0]`` is ``overall``), figures as JSON text."""
    overall, rest = rows[0], rows[1:]
    met = [[r.node_id, r.kind, r.waived, r.points, r.figures, r.message] if r.described else r.node_id
           for r in rest if r.passed is True]
    figures = {**overall.figures, MET: met} if overall.figures.__class__ is dict else overall.figures
    out = [(application_id, overall.node_id, overall.kind, overall.passed, overall.waived, overall.points,
            encode_figures(figures), overall.message)]
    out += [(application_id, r.node_id, r.kind, r.passed, r.waived, r.points,
             r.figures if r.figures.__class__ is str else encode_figures(r.figures), r.message)
            for r in rest if r.passed is not True]
    return out


def replace_verdicts(connection: Connection, call_id: str, application_ids: Optional[list[int]], rows: Iterable[tuple]) -> int:
    """Delete the applications' old verdict rows (every application of the call when ``application_ids`` is None)
    and insert ``rows`` (from ``stored_rows``) through the driver; the rows written."""
    table = EligibilityVerdict.__table__
    if application_ids is None:
        in_call = select(Application.id).where(Application.call_id == call_id).scalar_subquery()
        connection.execute(delete(table).where(table.c.application_id.in_(in_call)))
    else:
        for chunk in chunks(application_ids):
            connection.execute(delete(table).where(table.c.application_id.in_(chunk)))
    return insert_rows(connection, table, COLUMNS, rows, raw=("figures",))


def _points(value: Any) -> Optional[Decimal]:
    return None if value is None else Decimal(str(value)).quantize(POINTS)


def read_verdicts(connection: Connection, application_id: int) -> dict[str, StoredVerdict]:
    """Every stored verdict of one application by node id, the met ones unpacked from the overall row
    (those stored as a node id rendered from the inputs beside them, in the order they were judged)."""
    table = EligibilityVerdict.__table__
    found: dict[str, StoredVerdict] = {}
    for row in connection.execute(select(table).where(table.c.application_id == application_id).order_by(table.c.id)):
        figures = row.figures
        if row.node_id == "overall" and isinstance(figures, dict) and MET in figures:
            figures = dict(figures)
            met, given = figures.pop(MET), figures.pop(INPUTS, None)
            brief = {entry for entry in met if entry.__class__ is str}
            rendered = render_met(_compiled(connection, application_id, given["reference"]), given, brief) if brief else {}
            for entry in met:
                if entry.__class__ is str:
                    shown = rendered[entry]
                    found[entry] = StoredVerdict(entry, shown.kind, True, False, None, shown.figures, shown.message)
                    continue
                node_id, kind, waived, points, shown, message = entry
                found[node_id] = StoredVerdict(node_id, kind, True, waived, _points(points), shown, message)
        found[row.node_id] = StoredVerdict(row.node_id, row.kind, row.passed, row.waived, row.points, figures, row.message)
    return found


def _compiled(connection: Connection, application_id: int, reference: int) -> Compiled:
    """The eligibility rules of the application's call, compiled for ``reference``."""
    call_id = connection.execute(select(Application.call_id).where(Application.id == application_id)).scalar_one()
    return Compiled(get_profile(get_call(connection, call_id).programme_id).eligibility, reference)
