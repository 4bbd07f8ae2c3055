"""Bounds on what a request may ask for (参数范围): page numbers, page sizes, ids, text lengths.

Every path id and paging parameter of the console and the API is declared with these types, so an
out-of-range or non-numeric value is refused before any SQL runs (a 20-digit page once reached SQLite
and answered 500). ``refusal`` turns FastAPI's validation errors into one precise Chinese sentence
for the 400 answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import Path, Query

MAX_ID = 2_147_483_647            # PostgreSQL INTEGER: a larger id cannot exist
MAX_PAGE = 100_000
MAX_PER_PAGE = 500
MAX_SEARCH = 100                  # 名称 / 信用代码 / 申报编号 search text
MAX_CODE = 64                     # call ids, jurisdiction codes, enum values

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="页码")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="每页条数")]
OptionalId = Annotated[Optional[int], Query(ge=1, le=MAX_ID)]
Code = Annotated[Optional[str], Query(max_length=MAX_CODE)]
SearchText = Annotated[Optional[str], Query(max_length=MAX_SEARCH)]

_PLACES = {"query": "查询参数", "path": "路径参数", "body": "表单字段", "header": "请求头", "cookie": "Cookie"}


def _what_is_wrong(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "必须填写"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "应为整数"
    if kind == "greater_than_equal":
        return f"不得小于 {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"不得大于 {ctx.get('le')}"
    if kind == "string_too_long":
        return f"长度不得超过 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        return f"长度不得少于 {ctx.get('min_length')} 个字符"
    if kind in ("decimal_parsing", "float_parsing"):
        return "应为数字"
    return "取值无效"


def refusal(errors: list[dict[str, Any]]) -> str:
    """One sentence naming each refused parameter, what it should be and what was sent."""
    parts = []
    for error in errors:
        location = list(error.get("loc") or ())
        place = _PLACES.get(str(location[0]), "参数") if location else "参数"
        name = ".".join(str(p) for p in location[1:]) or "?"
        text = f"{place} {name} {_what_is_wrong(error)}"
        if error.get("type") != "missing" and "input" in error:
            sent = repr(error["input"])
            text += f"（实际为 {sent[:40]}{'…' if len(sent) > 40 else ''}）"
        parts.append(text)
    return "请求参数有误：" + "；".join(parts or ["无法解析"]) + "。"
