"""The 资金分配方案 of one tranche as an Excel workbook, written from the payment rows.

财建〔2021〕2号 三(四) (seed 001 L49): the province decides the allocation (90%以上用于直接支持重点
"小巨人"企业, 避免简单分配) and provincial finance reports it to MOF within 30 days, 抄送财政部当地监管局.
The workbook is rebuilt from SQL on every run, so a re-run produces the same file; it is written to a
temporary name of its own and moved into place, so two runs writing at once never trip over each other.
"""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.clock import local
from models.funding import FundingRecipient, FundTranche, Payment
from models.funding_plan import ImplementationPlan, ItemType, PlatformCategory
from models.settings import settings
from tasks.funding.plan_checks import CITE_90, key_enterprise_share_pct, shown_pct
from tasks.reports.safe_cells import append_row, safe_cell
from tasks.reports.sheet_format import start_sheet

HEADER = ["序号", "类别", "名称", "统一社会信用代码", "批复金额（万元）", "本笔比例（%）", "本笔基数（万元）",
          "上年度考核等次", "等次系数", "本笔分配金额（万元）"]


def default_directory() -> Path:
    return settings().home / "allocation_plans"


def workbook_path(directory: Path, plan: ImplementationPlan, tranche: FundTranche) -> Path:
    return directory / f"分配方案_{plan.province_code}_第{plan.batch}批_第{tranche.tranche_index}笔.xlsx"


def _category(item_type: str, platform_category: Optional[str]) -> str:
    if item_type == ItemType.key_enterprise:
        return ItemType.key_enterprise.label
    return PlatformCategory(platform_category).label if platform_category else ItemType.platform.label


def _bold(sheet, value, size: int = 11) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True, size=size)
    return safe_cell(sheet, cell)


def payment_lines(connection: Connection, tranche_id: int) -> list:
    return connection.execute(
        select(FundingRecipient.item_type, FundingRecipient.platform_category, FundingRecipient.name, FundingRecipient.uscc,
               FundingRecipient.approved_amount_wan, Payment.base_amount_wan, Payment.grade, Payment.factor, Payment.amount_wan)
        .join(FundingRecipient, FundingRecipient.id == Payment.recipient_id)
        .where(Payment.tranche_id == tranche_id).order_by(FundingRecipient.item_type, FundingRecipient.id)).all()


def write_allocation_workbook(connection: Connection, plan: ImplementationPlan, tranche: FundTranche,
                              not_paid: list[tuple[str, str]], directory: Optional[Path] = None) -> Path:
    """Write the workbook; ``not_paid`` lists (name, reason) of recipients left out of this tranche."""
    lines = payment_lines(connection, tranche.id)
    share_pct = float(tranche.share_pct)
    rows = [[number, _category(line.item_type, line.platform_category), line.name, line.uscc,
             float(line.approved_amount_wan), share_pct, float(line.base_amount_wan),
             line.grade or "—", float(line.factor), float(line.amount_wan)] for number, line in enumerate(lines, start=1)]
    book = Workbook(write_only=True)
    title = f"{plan.title} 第{tranche.tranche_index}笔奖补资金（{tranche.label}）分配方案"
    book.properties.title = title
    sheet = book.create_sheet("分配方案")
    start_sheet(sheet, 3, [HEADER, *rows])
    received = f"{local(tranche.received_at):%Y-%m-%d}" if tranche.received_at else "—"
    due = f"{local(tranche.allocation_plan_due_at):%Y-%m-%d}" if tranche.allocation_plan_due_at else "—"
    append_row(sheet, [_bold(sheet, title, 14)])
    append_row(sheet, [f"批复文号：{plan.approval_doc_no or '—'}；指标发文：{tranche.indicator_doc_no or '—'}，接到日期 {received}；"
                       f"分配方案应于 {due} 前报财政部并抄送财政部当地监管局"])
    append_row(sheet, [_bold(sheet, title) for title in HEADER])
    for row in rows:
        append_row(sheet, row)
    total = sum((Decimal(line.amount_wan) for line in lines), Decimal(0))
    share = key_enterprise_share_pct(lines)
    append_row(sheet, [])
    append_row(sheet, ["合计", "", f"{len(lines)} 个对象", "", "", "", "", "", "", float(total)])
    append_row(sheet, ["直接支持重点“小巨人”企业占比（%）", "", "" if share is None else float(shown_pct(share)), "", CITE_90])
    if not_paid:
        other = book.create_sheet("未列入本笔")
        start_sheet(other, 1, [("名称", "原因"), *not_paid])
        append_row(other, [_bold(other, "名称"), _bold(other, "原因")])
        for name, reason in not_paid:
            append_row(other, [name, reason])
    path = workbook_path(directory or default_directory(), plan, tranche)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")   # one per writer: runs may overlap
    try:
        book.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
