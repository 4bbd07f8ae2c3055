"""`srdi announce`: render a notice's 公示公告 or 结果公告 to an HTML file for publication."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="公告：生成公示公告、结果公告（HTML）", no_args_is_help=True)

OUT = typer.Option(Path("var/announcements"), "--out", help="输出目录")


def _contact(office: Optional[str], person: Optional[str], phone: Optional[str], email: Optional[str],
             address: Optional[str]):
    from notifications.announcements import Contact

    return Contact(office=office, person=person, phone=phone, email=email, address=address) if office else None


@app.command("opening")
def opening(
    notice_id: int = typer.Argument(..., help="公示编号"),
    out: Path = OUT,
    office: Optional[str] = typer.Option(None, "--office", help="异议受理单位（默认：发布公示的主管部门）"),
    person: Optional[str] = typer.Option(None, "--person", help="联系人"),
    phone: Optional[str] = typer.Option(None, "--phone", help="联系电话"),
    email: Optional[str] = typer.Option(None, "--email", help="电子邮箱"),
    address: Optional[str] = typer.Option(None, "--address", help="通讯地址"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The 公示公告 that opens notice NOTICE_ID: list, period, where to object, contact."""
    from models.db import get_engine
    from notifications.announcements import opening_from_db, publish_opening

    with get_engine().connect() as connection:
        announcement = opening_from_db(connection, notice_id, contact=_contact(office, person, phone, email, address))
    path = publish_opening(announcement, out)
    emit({"notice_id": notice_id, "path": str(path)}, as_json, lambda r: typer.echo(f"公示公告：{r['path']}"))


@app.command("result")
def result(
    notice_id: int = typer.Argument(..., help="公示编号"),
    out: Path = OUT,
    office: Optional[str] = typer.Option(None, "--office", help="联系单位（默认：发布公示的主管部门）"),
    person: Optional[str] = typer.Option(None, "--person"),
    phone: Optional[str] = typer.Option(None, "--phone"),
    email: Optional[str] = typer.Option(None, "--email"),
    address: Optional[str] = typer.Option(None, "--address"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The 结果公告 of notice NOTICE_ID after its window closed."""
    from models.db import get_engine
    from notifications.announcements import publish_result, result_from_db

    with get_engine().connect() as connection:
        outcome = result_from_db(connection, notice_id, contact=_contact(office, person, phone, email, address))
    path = publish_result(outcome, out)
    emit({"notice_id": notice_id, "path": str(path)}, as_json, lambda r: typer.echo(f"结果公告：{r['path']}"))
