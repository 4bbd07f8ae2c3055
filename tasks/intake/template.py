"""The empty application workbook of a programme (申报数据导入模板), with a sheet of instructions.

Columns: the enterprise's basic data, the yearly figures for the years the programme's rules read
(上年 back as far as its windows and growth rates go), the facts its rules and exclusions name, and
the descriptive columns its summary tables need. Computed figures (ratios, growth) are never asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from models.metrics import get_metric
from models.profile import Profile
from models.rules import Bands, Criterion, walk
from tasks.intake.fields import BY_KEY, YEARLY_COLUMNS, Column
from tasks.reports.safe_cells import append_row
from tasks.reports.sheet_format import finish_sheet

BASIC = ("name", "uscc", "city", "county", "size", "industry_code", "registered_on", "listing", "listed_board",
         "ownership_type", "main_product_name", "main_product_category", "niche_field")
DERIVED = {"years_operating", "is_sme", "registered_in_province"}     # computed by the engine when absent
DESCRIBES = {"four_base_catalogue": ("four_base_field",), "ten_key_industries": ("ten_key_field",),
             "shortboard_or_longboard": ("shortboard_field",), "fills_gap": ("gap_scope", "gap_field"),
             "collaborates_with_leader": ("leader_project",)}
EXCLUSION_COLUMNS = {"serious_dishonesty": ("serious_dishonesty",), "holds_title": ("titles",),
                     "accident_within_years": ("major_accident_year",)}
DEPTH = {"none": 0, "last": 1, "each_last_2": 2, "sum_last_2": 2, "aggregate_last_2": 2, "avg_last_2": 2, "each_last_3": 3}
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def _rule_nodes(profile: Profile) -> list:
    rules = profile.eligibility
    if rules is None:
        return []
    nodes = list(walk(rules.rule))
    for extra in [b.when for b in rules.bonus] + [r.when for r in rules.relaxations if getattr(r, "when", None)]:
        nodes += list(walk(extra))
    return [n for n in nodes if isinstance(n, (Criterion, Bands))]


def template_years(profile: Profile, call_year: int) -> list[int]:
    """The fiscal years the form asks for: at least 上年 and the year before it."""
    rules = profile.eligibility
    reference = call_year if rules is not None and rules.reference_year == "current" else call_year - 1
    depth = 3 if profile.tier == "key_little_giant" else 2   # 四川附件1 三 相关指标: three years (2018–2020)
    for node in _rule_nodes(profile):
        metric = get_metric(node.metric)
        depth = max(depth, DEPTH[node.years] + (1 if metric.growth_of else 0))
    return list(range(reference - depth + 1, reference + 1))


def template_columns(profile: Profile, call_year: int) -> list[tuple[Column, Optional[int]]]:
    """(column, fiscal year or None) in the order of the template."""
    keys = list(BASIC)
    facts: list[str] = []
    for node in _rule_nodes(profile):
        metric = get_metric(node.metric)
        if metric.source == "fact" and metric.name not in DERIVED:
            facts += [metric.name, *DESCRIBES.get(metric.name, ())]
    rules = profile.eligibility
    for exclusion in rules.exclusions if rules else []:
        keys_for = EXCLUSION_COLUMNS.get(exclusion.kind, ())
        if exclusion.kind == "accident_within_years" and getattr(exclusion, "severity", "major") == "any":
            keys_for = ("major_accident_year", "accident_year")
        facts += list(keys_for) + ([exclusion.fact] if exclusion.fact else [])
    if profile.tier == "key_little_giant":
        facts += ["little_giant_batch", "key_field_statement"]
    if profile.tier == "little_giant":
        facts += ["provincial_srdi"]
    for key in facts:
        if key not in keys and key in BY_KEY:
            keys.append(key)
    columns: list[tuple[Column, Optional[int]]] = [(BY_KEY[k], None) for k in keys]
    for year in template_years(profile, call_year):
        columns += [(column, year) for column in YEARLY_COLUMNS]
    return columns


def _instructions(profile: Profile, call_year: int, columns: list[tuple[Column, Optional[int]]]) -> list[list[str]]:
    years = template_years(profile, call_year)
    documents = "；".join(d.number for d in profile.documents)
    lines = [
        ["方案", f"{profile.name}（{profile.id}）"],
        ["依据", documents],
        ["申报年度", f"{call_year}年；上年为{years[-1]}年，财务数据填{years[0]}—{years[-1]}年"],
        ["说明", "一行一家企业；表头不要改动。金额单位为万元，可带千分位；百分比可写 12.5%。"],
        ["说明", "金额也可写明单位“元”“万元”“亿元”（如 69,420,000元），系统换算为万元并在导入结果中列出；"
                 "不接受千元、美元等其他单位。"],
        ["说明", "比重、增长率、资产负债率、连续经营年限等由系统根据原始数据计算，无需填写。"],
        ["说明", "标为必填（橙色表头）的列不能为空；是/否列填“是”或“否”。"],
        [],
        ["列名", "必填", "单位", "填写说明"],
    ]
    for column, year in columns:
        required = column.required or (year == years[-1] and column.key in ("revenue_wan", "main_business_revenue_wan"))
        help_text = column.help or ("、".join(column.choices) if column.choices else "")
        lines.append([column.header(year), "是" if required else "", column.unit or "", help_text])
    return lines


def write_template(path: Path, profile: Profile, call_year: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = template_columns(profile, call_year)
    years = template_years(profile, call_year)
    workbook = Workbook()
    workbook.properties.title = f"{profile.name} {call_year}年申报数据导入模板"
    sheet = workbook.active
    sheet.title = "申报企业"
    append_row(sheet, [column.header(year) for column, year in columns])
    for index, (column, year) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if column.required or (year == years[-1] and column.key in ("revenue_wan", "main_business_revenue_wan")):
            cell.fill = REQUIRED_FILL
    finish_sheet(sheet, 1, columns=2, maximum=32)         # name and USCC stay in view; long headers wrap
    sheet.column_dimensions["A"].width = max(sheet.column_dimensions["A"].width, 32)   # room for an enterprise name
    notes = workbook.create_sheet("填写说明")
    instructions = _instructions(profile, call_year, columns)
    for line in instructions:
        append_row(notes, line)
    header_row = next(number for number, line in enumerate(instructions, start=1) if line[:1] == ["列名"])
    finish_sheet(notes, header_row, first_row=header_row, maximum=70)   # the 说明 lines above overflow to the right
    workbook.save(path)
    return path
