"""A 名单 of enterprises by 统一社会信用代码: the one column of a .xlsx or .csv that names it.

Used where a bureau hands in a list rather than application rows (e.g. the enterprises applying for
复核). Each code is checked (GB 32100-2015) and made canonical; a bad or repeated code is refused
with its Excel row number, and the whole list with it.
"""

from __future__ import annotations

from pathlib import Path

from models.enterprise import InvalidUSCC, normalise_uscc
from tasks.intake.cells import is_blank
from tasks.intake.fields import resolve_header
from tasks.intake.sheet import WorkbookError, read_sheet


def read_codes(path: Path) -> list[str]:
    """The canonical codes of the file's 统一社会信用代码 column, in file order."""
    sheet = read_sheet(path)
    columns = [i for i, text in enumerate(sheet.headers)
               if text and (found := resolve_header(text)) is not None and found.column is not None and found.column.key == "uscc"]
    if not columns:
        raise WorkbookError(f"{path.name}: 找不到“统一社会信用代码”列")
    column = columns[0]
    codes: dict[str, int] = {}
    problems: list[str] = []
    for number, values in sheet.rows:
        raw = values[column] if column < len(values) else None
        if is_blank(raw):
            problems.append(f"第{number}行 统一社会信用代码为空")
            continue
        try:
            code = normalise_uscc(str(raw))
        except InvalidUSCC as exc:
            problems.append(f"第{number}行 {exc}")
            continue
        if code in codes:
            problems.append(f"第{number}行 统一社会信用代码 {code} 与第{codes[code]}行重复")
        codes.setdefault(code, number)
    if problems:
        shown = "；".join(problems[:10]) + (f"；……共 {len(problems)} 处" if len(problems) > 10 else "")
        raise WorkbookError(f"{path.name}: {shown}")
    if not codes:
        raise WorkbookError(f"{path.name}: 没有任何统一社会信用代码")
    return list(codes)
