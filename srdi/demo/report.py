"""The demo's ending: the official lists written from the database, the stage table per call, the
narrative whose every figure is counted from what happened, where the files are, how to log in."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.notice import Notice
from tasks.exports import notice_list, recommendation_summary
from tasks.labels import status_label
from tasks.status import call_status

LEVEL_LABELS = {"county": "区县", "municipal": "市级", "provincial": "省级", "ministry": "部级"}


def write_exports(engine: Engine, report) -> None:
    """The 公示 lists and 79号附件3 推荐汇总表 into exports/, generated from stored data."""
    out = report.base_dir / "exports"
    with engine.connect() as connection:
        for notice_id, call_id in connection.execute(select(Notice.id, Notice.call_id).order_by(Notice.id)):
            done = notice_list(connection, notice_id, out / f"公示名单-{call_id}.xlsx")
            report.files[f"公示名单（{call_id}，{done.rows} 家）"] = done.path
        if report.national is not None:
            done = recommendation_summary(connection, report.national.call_id, "130000", out / "推荐汇总表-河北-小巨人.xlsx")
            report.files[f"79号附件3 推荐汇总表（河北，{done.rows} 家）"] = done.path


def collect(engine: Engine, report) -> None:
    with engine.connect() as connection:
        for round_ in (report.hebei, report.national):
            if round_ is not None:
                report.status[round_.call_id] = call_status(connection, round_.call_id)
    base = report.base_dir
    report.mails = len(list((base / "mail").glob("*.eml")))
    report.announcements = len(list((base / "announcements").glob("*.html")))
    report.files = {
        "数据库": base / "srdi.db", "申报工作簿（生成）": report.hebei.workbook,
        **({"导入错误清单": report.hebei.errors_workbook} if report.hebei.errors_workbook else {}),
        f"邮件（{report.mails} 封 .eml）": base / "mail", f"公告（{report.announcements} 份 HTML）": base / "announcements",
        **report.files, "资金分配方案（Excel）": base / "funds",
    }


def stage_table(status: dict) -> Table:
    """Counts by level × status of one call (tasks.status.call_status)."""
    statuses = sorted({s for cell in status["by_level"].values() for s in cell})
    table = Table(title=f"{status['call_name']}：各级办理情况（共 {status['total']} 件）")
    table.add_column("层级")
    for s in statuses:
        table.add_column(status_label(s), justify="right")
    table.add_column("合计", justify="right")
    for level in status["route"]:
        cell = status["by_level"].get(level, {})
        table.add_row(LEVEL_LABELS.get(level, level), *[str(cell.get(s, "")) for s in statuses], str(sum(cell.values())))
    return table


def narrative(report) -> list[str]:
    h, n = report.hebei, report.national
    county_rejects = h.decisions[("county", "reject")]
    return [
        f"河北：工作簿 {h.rows} 行，{h.invalid_rows} 行有误未导入，导入 {h.imported} 件（资格审查符合 {h.eligible}、不符合 {h.ineligible}、"
        f"无法判定 {h.undetermined}）；区县不予推荐 {county_rejects} 件（附资格审查理由），退回修改并重新提交 {len(h.returned)} 件；",
        f"  1 个区县（{h.late_county}，{h.late_county_apps} 件）逾期未审：" + "、".join(
            f"{'上报市级（记录逾期）' if a == 'escalate' else '视同未申报'} {c} 件" for a, c in h.late_outcome.items()) + "；",
        f"  市级同意 {h.decisions[('municipal', 'recommend')]}、不予推荐 {h.decisions[('municipal', 'reject')]}；省厅同意 "
        f"{h.decisions[('provincial', 'recommend')]}、不予推荐 {h.decisions[('provincial', 'reject')]}；公示 {h.listed} 家，"
        f"异议成立 1 家（{h.upheld_ref}）、不成立 1 家（{h.rejected_objection_ref}）→ 认定 {h.recognised} 家。",
        f"国家级小巨人：{n.applied} 家已认定河北企业申报，符合 {n.eligible} 家（" + "、".join(
            f"{k}类 {v}" for k, v in n.by_category.items()) + (
            "；c类 0：79号c类须近2年研发投入3000万元以上且研发人员占50%以上，本批企业均未达到" if not n.by_category.get("c") else "")
        + f"）；省厅推荐 {n.decisions[('provincial', 'recommend')]}、"
        f"名额外 {n.quota_cut}；部里同意 {n.decisions[('ministry', 'recommend')]}、不予通过 {n.decisions[('ministry', 'reject')]}；"
        f"公示 {n.listed} 家 → 认定 {n.recognised} 家。",
        f"资金：" + "；".join(f"{p['title']} 实施中 {p['recipients'].get('active', 0)}、停止支持 {p['recipients'].get('discontinued', 0)}"
                           for p in report.funding.plans) + "；" + "；".join(report.funding.stopped),
    ]


def print_report(report, console: Console | None = None) -> None:
    from srdi.demo.setup import PASSWORD

    console = console or Console()
    console.print()
    for status in report.status.values():
        console.print(stage_table(status))
    console.print("\n[bold]经过[/bold]")
    for line in narrative(report):
        console.print(line, soft_wrap=True, highlight=False)
    console.print("\n[bold]文件[/bold]")
    for label, path in report.files.items():
        console.print(f"  {label}：{path}", soft_wrap=True, highlight=False)
    repo = Path.cwd()
    console.print("\n[bold]打开控制台[/bold]（演示数据）：")
    console.print(f"  SRDI_DATABASE_URL={report.database_url} .venv/bin/srdi serve", soft_wrap=True)
    console.print("  然后打开 http://127.0.0.1:8000 ，以下任一用户登录，密码 " + PASSWORD + "：")
    for user in report.console_users:
        console.print(f"    {user}")
    console.print(f"（用时 {report.seconds:.1f} 秒；当前目录 {repo}）")
