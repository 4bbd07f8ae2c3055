"""The demo's ending: the official lists written from the database, the stage table per call, the
narrative whose every figure is counted from what happened, where the files are, how to log in."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

from models.notice import Notice
from tasks.reports.labels import status_label
from tasks.reports.progress import call_status
from tasks.reports.summary_tables import notice_list, recommendation_summary

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
    from srdi.migrate import display_url

    report.files = {
        "数据库": base / "srdi.db" if report.own_database else display_url(report.database_url),
        "申报工作簿（生成）": report.hebei.workbook,
        **({"导入错误清单": report.hebei.errors_workbook} if report.hebei.errors_workbook else {}),
        f"邮件（{report.mails} 封 .eml）": base / "mail", f"公告（{report.announcements} 份 HTML）": base / "announcements",
        **report.files, "资金分配方案（Excel）": base / "funds",
    }


def stage_table(status: dict) -> Table:
    """Counts by level × status of one call (tasks.reports.progress.call_status)."""
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
    lines = [
        f"河北：工作簿 {h.rows} 行，{h.invalid_rows} 行有误未导入，导入 {h.imported} 件（资格审查符合 {h.eligible}、不符合 {h.ineligible}、"
        f"无法判定 {h.undetermined}）；区县不予推荐 {county_rejects} 件（附资格审查理由），退回修改并重新提交 {len(h.returned)} 件；"]
    if h.late_county:
        lines.append(f"  1 个区县（{h.late_county}，{h.late_county_apps} 件）逾期未审：" + "、".join(
            f"{'上报市级（记录逾期）' if a == 'escalate' else '视同未申报'} {c} 件" for a, c in h.late_outcome.items()) + "；")
    if h.notice_id:
        objections = ([f"异议成立 1 家（{h.upheld_ref}）"] if h.upheld_ref else []) + (
            [f"异议不成立 1 家（{h.rejected_objection_ref}）"] if h.rejected_objection_ref else [])
        ending = f"公示 {h.listed} 家，{'、'.join(objections) or '无异议'} → 认定 {h.recognised} 家。"
    else:
        ending = "未开启公示，无认定。"
    lines.append(f"  市级同意 {h.decisions[('municipal', 'recommend')]}、不予推荐 {h.decisions[('municipal', 'reject')]}；省厅同意 "
                 f"{h.decisions[('provincial', 'recommend')]}、不予推荐 {h.decisions[('provincial', 'reject')]}；{ending}")
    if n is None:
        lines.append("国家级小巨人：河北本轮没有认定企业，无企业申报，未进行。")
    else:
        bands = "、".join(f"{k}类 {v}" for k, v in n.by_category.items())
        no_c = "" if n.by_category.get("c") else "c类 0：79号c类须近2年研发投入3000万元以上且研发人员占50%以上，本批企业均未达到"
        lines.append(
            f"国家级小巨人：{n.applied} 家已认定河北企业申报，符合 {n.eligible} 家（{'；'.join(x for x in (bands, no_c) if x)}）"
            f"；省厅推荐 {n.decisions[('provincial', 'recommend')]}、"
            f"名额外 {n.quota_cut}；部里同意 {n.decisions[('ministry', 'recommend')]}、不予通过 {n.decisions[('ministry', 'reject')]}；"
            f"公示 {n.listed} 家 → 认定 {n.recognised} 家。")
    lines.append("资金：" + "；".join(f"{p['title']} 实施中 {p['recipients'].get('active', 0)}、停止支持 "
                                     f"{p['recipients'].get('discontinued', 0)}" for p in report.funding.plans)
                 + "；" + "；".join(report.funding.stopped))
    notes = h.notes + (n.notes if n is not None else [])
    if notes:
        lines.append("本轮规模所限，以下环节未演示或从简：" + "；".join(notes) + "。")
    return lines


def console_command(report) -> tuple[str, str]:
    """The command that serves the console on the demo's database, exactly as it can be pasted into
    a shell (in the directory the demo ran from), and a note when part of it stays in the environment.

    It names the database and Prefect's settings the demo used; a database URL holding a password is
    not printed: the command then relies on SRDI_DATABASE_URL still being set in the shell."""
    env, note = {}, ""
    if make_url(report.database_url).password:
        note = "（数据库沿用当前环境中的 SRDI_DATABASE_URL；其中含密码，此处不显示）"
    else:
        env["SRDI_DATABASE_URL"] = report.database_url
    env["PREFECT_HOME"] = os.environ.get("PREFECT_HOME", "")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if v) + f" {shlex.quote(_srdi_executable())} serve", note


def _srdi_executable() -> str:
    """This installation's `srdi` script, relative to the current directory when it lies inside it."""
    script = Path(sys.executable).parent / "srdi"
    if not script.exists():
        return "srdi"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


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
    command, note = console_command(report)
    console.print("\n[bold]打开控制台[/bold]（演示数据）：在本目录运行")
    console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)
    if note:
        console.print(f"  {note}", soft_wrap=True, markup=False, highlight=False)
    console.print("  然后打开 http://127.0.0.1:8000 （8000 端口被占用时在命令末尾加 --port 8001，并打开对应地址），"
                  "以下任一用户登录，密码 " + PASSWORD + "：", soft_wrap=True, markup=False, highlight=False)
    for user in report.console_users:
        console.print(f"    {user}")
    console.print(f"（用时 {report.seconds:.1f} 秒；当前目录 {repo}）")
