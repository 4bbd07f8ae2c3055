"""Bounds on what a request may ask for (参数范围): page numbers, page sizes, ids, text lengths.

Every path id and paging parameter of the console and the API is declared with these types, so an
out-of-range or non-numeric value is refused before any SQL runs (a 20-digit page once reached SQLite
and answered 500). ``refusal`` turns FastAPI's validation errors into one precise Chinese sentence
for the 400 answer.
"""

from __future__ import annotations

import re
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


# ---- every error in Chinese -------------------------------------------------------------------------

HTTP_MESSAGES = {
    400: ("请求有误", "请求无法处理，请检查后重试。"),
    401: ("未登录", "未登录或会话已过期，请重新登录。"),
    403: ("无权访问", "您无权进行此操作。"),
    404: ("未找到", "页面不存在。"),
    405: ("请求方式不支持", "该地址不支持此请求方式，请从页面上的链接或按钮进入。"),
    409: ("记录已变化", "记录已被他人修改，请刷新后重试。"),
    413: ("内容过大", "提交的内容超过大小限制。"),
    415: ("类型不支持", "不支持提交的内容类型。"),
    422: ("请求参数有误", "提交的内容无法处理，请检查后重试。"),
    429: ("请求过于频繁", "请求过于频繁，请稍后再试。"),
    500: ("服务器内部错误", "服务器处理请求时出错，已记录。请稍后重试，或联系管理员。"),
    503: ("服务暂不可用", "服务暂不可用，请稍后再试。"),
}

# a command-line option named in a domain message, as a clerk on the web knows the field
FLAG_LABELS = {"--enterprise": "企业", "--batch": "批次", "--reason": "理由", "--override": "推荐理由",
               "--score": "评分", "--call": "申报批次", "--as": "办理人", "--finding": "调查结论", "--amount": "金额",
               "--decision": "审核意见", "--version": "版本"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_COMMAND_HINT = re.compile(r"[（(][^（）()]*\bsrdi [^（）()]*[）)]")     # （请先运行 srdi eligibility run --call X）
_FLAG_ONLY = re.compile(r"[（(]\s*--[a-z][a-z-]*\s*[）)]")               # 须写明原因（--reason）
_USE_FLAG = re.compile(r"(?:请|须)?用\s*(--[a-z][a-z-]*)\s*指定(?=([^，。；、）\s]?))")   # 请用 --batch 指定
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def http_message(status: int, detail: Any = None) -> tuple[str, str]:
    """(title, text) of an HTTP error page: our own Chinese detail, else the status in Chinese."""
    title, text = HTTP_MESSAGES.get(status, ("请求错误" if status < 500 else "服务器错误", "请求无法处理，请稍后重试。"))
    if isinstance(detail, str) and _CJK.search(detail):
        text = web_message(detail)
    return title, text


def web_message(text: str) -> str:
    """A domain message as the web shows it: command-line options and commands replaced by the field they set."""
    text = _COMMAND_HINT.sub("", text)
    text = _FLAG_ONLY.sub("", text)
    # 请用 --batch 指定 → 须指定批次; 须用 --enterprise 指定企业的… → 须指定企业的… (what follows names it)
    text = _USE_FLAG.sub(lambda m: "须指定" + ("" if m.group(2) else FLAG_LABELS.get(m.group(1), "相应项")), text)
    return _FLAG.sub(lambda m: f"“{FLAG_LABELS.get(m.group(0), '相应项')}”", text)
