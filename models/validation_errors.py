"""One line per pydantic validation error: the source, the field path and what was expected (in Chinese).

A model-level check that knows the offending field writes its message as ``"@field.path: 说明"``;
the path is then appended to the location pydantic reports.
"""

from __future__ import annotations

from pydantic import ValidationError

RULE_NODE_TAGS = {"criterion", "all_of", "any_of", "k_of_n", "bands"}


def _field_path(loc: tuple) -> str:
    """Dotted path without the union tags pydantic inserts after a rule node's position."""
    parts = []
    for i, part in enumerate(loc):
        after_node_slot = i > 0 and (isinstance(loc[i - 1], int) or loc[i - 1] in ("rule", "when"))
        if not (part in RULE_NODE_TAGS and after_node_slot):
            parts.append(str(part))
    return ".".join(parts)


def describe_error(exc: ValidationError, source: str) -> str:
    """One line: the file, the field and what was expected (in Chinese where we wrote the message)."""
    first = exc.errors()[0]
    kind, ctx, got = first["type"], first.get("ctx") or {}, first.get("input")
    path = _field_path(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if message.startswith("@"):   # a whole-model check that names the field itself
        field, _, message = message[1:].partition(": ")
        path, got = ".".join(p for p in (path, field) if p), None
    elif kind in MESSAGES:
        ctx = {k: str(v).replace(" or ", "、").replace(", ", "、") for k, v in ctx.items()}
        message = MESSAGES[kind].format(**ctx)
    if kind in ("extra_forbidden", "missing") or (got is not None and repr(got) in message):
        got = None
    got_text = "" if got is None or isinstance(got, (dict, list)) else f"（实际为 {got!r}）"
    return f"{source}: 字段 {path or '(顶层)'}: {message}{got_text}"


MESSAGES = {  # pydantic error type → what was expected, in Chinese
    "extra_forbidden": "未知字段（拼写错误？该位置不允许此字段）",
    "missing": "缺少必填字段",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than_equal": "应小于或等于 {le}",
    "literal_error": "应为 {expected} 之一",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "decimal_parsing": "应为数值",
    "decimal_type": "应为数值",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不符，应匹配 {pattern}",
    "too_short": "至少需要 {min_length} 项",
    "list_type": "应为列表",
    "dict_type": "应为映射（key: value）",
    "model_type": "应为映射（key: value）",
    "time_parsing": "应为时间 HH:MM 或 HH:MM:SS",
    "datetime_parsing": "应为日期时间 YYYY-MM-DDTHH:MM:SS",
    "datetime_from_date_parsing": "应为日期时间 YYYY-MM-DDTHH:MM:SS",
    "enum": "应为 {expected} 之一",
    "union_tag_invalid": "type 应为 {expected_tags} 之一",
    "union_tag_not_found": "缺少 type（criterion/all_of/any_of/k_of_n/bands）",
}
