"""What the `srdi funds` command modules share: the province, batch and time options, reading a
time or a CSV 表 given on the command line, and checking province codes."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from models.clock import parse_instant
from models.errors import RuleViolation

PROVINCE = typer.Option(..., "--province", help="省级行政区划代码，如 110000")
BATCH = typer.Option(None, "--batch", help="批次；该省只有一个实施方案时可省略")
AT = typer.Option(None, "--at", help="时间 YYYY-MM-DD[THH:MM]（北京时间）；默认现在")


def when(text: Optional[str]) -> Optional[datetime]:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise typer.BadParameter(f"时间应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM，实际为 {text!r}") from None


def read_csv(path: Path, required: tuple[str, ...], columns: tuple[str, ...]) -> list[dict]:
    """The rows of a UTF-8 CSV with a header; blank cells are None. A missing column refuses the file."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise RuleViolation(f"{path}: 缺少列 {'、'.join(missing)}（应有列 {','.join(columns)}）")
        return [{k: (v.strip() if isinstance(v, str) and v.strip() else None) for k, v in row.items()} for row in reader]


def require_provinces(connection, codes: list[str]) -> None:
    """Every code names a province (省级行政区划), or one line saying which do not."""
    from sqlalchemy import select

    from models.enums import JurisdictionLevel
    from models.errors import NotFound
    from models.jurisdiction import Jurisdiction

    known = set(connection.execute(select(Jurisdiction.code).where(
        Jurisdiction.code.in_(codes), Jurisdiction.level == JurisdictionLevel.province)).scalars())
    unknown = [code for code in dict.fromkeys(codes) if code not in known]
    if unknown:
        raise NotFound(f"省级行政区划代码 {'、'.join(unknown)} 不存在（如 110000 北京市）")
