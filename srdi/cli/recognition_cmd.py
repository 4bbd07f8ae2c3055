"""`srdi recognition`: 认定 — list, show, revoke; bans (禁止申报), name changes (更名备案), the sweep."""

from __future__ import annotations

from typing import Optional, get_args

import typer

from models.db import get_engine
from models.profile import Profile
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, emit, one_of, parse_day, table

app = typer.Typer(help="认定：证书查询、撤销、禁止申报、更名备案", no_args_is_help=True)

AS_USER = typer.Option(..., "--as", help="操作人用户名")
STATUS = {"active": "有效", "revoked": "已撤销", "expired": "已期满"}
TIERS = get_args(Profile.model_fields["tier"].annotation)


@app.command("list")
def list_(programme: Optional[str] = typer.Option(None, "--programme", help="项目规程 ID"),
          tier: Optional[str] = typer.Option(None, "--tier", help=" / ".join(TIERS)),
          status: Optional[str] = typer.Option(None, "--status", help="active / revoked / expired"),
          uscc: Optional[str] = typer.Option(None, "--uscc", help="只看一家企业"), as_json: bool = JSON_OPTION) -> None:
    """认定列表（按证书编号）。"""
    from tasks.recognition.sanctions import find_enterprise
    from tasks.recognition.titles import list_recognitions
    from tasks.reference.programmes import get_profile

    one_of(status, STATUS, "认定状态")
    one_of(tier, TIERS, "称号层级")
    if programme:
        get_profile(programme)                  # an unknown programme is refused, not listed as "none"
    with get_engine().connect() as connection:
        enterprise_id = find_enterprise(connection, uscc).id if uscc else None
        rows = list_recognitions(connection, programme_id=programme, tier=tier, status=status, enterprise_id=enterprise_id)
    emit(rows, as_json, lambda _: table("认定", ["证书编号", "企业", "有效期", "复核到期", "状态"], [
        (r["certificate_no"], r["name"], f"{r['valid_from']} 至 {r['valid_to']}", r["re_review_due"],
         STATUS.get(getattr(r["status"], "value", r["status"]), r["status"])) for r in rows]))


@app.command("show")
def show(certificate: str = typer.Argument(..., help="证书编号"), as_json: bool = JSON_OPTION) -> None:
    """查看一项认定。"""
    from tasks.recognition.titles import recognition_detail

    with get_engine().connect() as connection:
        d = recognition_detail(connection, certificate)

    def render(_):
        typer.echo(f"{d['certificate_no']}  {d['enterprise_name']}（{d['enterprise_uscc']}）")
        typer.echo(f"有效期 {d['valid_from']} 至 {d['valid_to']}；复核到期 {d['re_review_due'] or '—'}；"
                   f"状态 {STATUS.get(getattr(d['status'], 'value', d['status']))}")
        if d["revoked_reason"]:
            typer.echo(f"撤销理由：{d['revoked_reason']}（{d['revoked_by']}）")

    emit(d, as_json, render)


@app.command("revoke")
def revoke(certificate: str = typer.Argument(..., help="证书编号"),
           reason: str = typer.Option(..., "--reason", help="撤销理由"), as_user: str = AS_USER) -> None:
    """撤销一项认定（须写明理由）。"""
    from tasks.recognition.titles import revoke_recognition

    as_user = operator(as_user)
    with get_engine().begin() as connection:
        revoke_recognition(connection, certificate, reason, as_user)
    typer.echo(f"已撤销 {certificate}：{reason}")


@app.command("ban")
def ban(uscc: str = typer.Argument(..., help="统一社会信用代码"),
        programme: str = typer.Option(..., "--programme", help="依据哪个项目规程的禁止申报年限"),
        reason: str = typer.Option(..., "--reason", help="查实的虚假材料情况"), as_user: str = AS_USER,
        as_json: bool = JSON_OPTION) -> None:
    """提供虚假材料：撤销该项目称号，并在规定年限内禁止申报。"""
    from tasks.recognition.sanctions import ban_enterprise

    as_user = operator(as_user)
    with get_engine().begin() as connection:
        result = ban_enterprise(connection, uscc, programme, reason, as_user)
    emit(result, as_json, lambda r: typer.echo(
        f"{r['enterprise']} 禁止申报至 {r['banned_until']}（含），撤销称号 {r['revoked']} 项"))


@app.command("rename")
def rename(uscc: str = typer.Argument(..., help="统一社会信用代码"),
           name: str = typer.Option(..., "--name", help="新名称"),
           changed_on: str = typer.Option(..., "--changed-on", help="更名（变更登记）日期 YYYY-MM-DD"),
           as_user: str = AS_USER, as_json: bool = JSON_OPTION) -> None:
    """更名备案；逾期备案按项目规程处理（如河北：视为自动放弃资格）。"""
    from tasks.recognition.name_change import file_name_change

    day = parse_day(changed_on, "--changed-on")
    as_user = operator(as_user)
    with get_engine().begin() as connection:
        result = file_name_change(connection, uscc, name, day, as_user)
    emit(result, as_json, lambda r: typer.echo(
        f"按期备案 {r['filed']} 项；逾期 {r['late']} 项" + (f"，视为自动放弃资格、撤销称号 {r['revoked']} 项" if r["late"] else "")))


@app.command("sweep")
def sweep(as_json: bool = JSON_OPTION) -> None:
    """处理到期事项：复核未申请/不合格、更名逾期未备案、认定期满（可重复执行）。"""
    from tasks.recognition.name_change import lapse_unfiled_name_changes
    from tasks.recognition.rereview import settle_rereviews
    from tasks.recognition.titles import expire_recognitions

    with get_engine().begin() as connection:
        result = {**settle_rereviews(connection), **lapse_unfiled_name_changes(connection), **expire_recognitions(connection)}
    emit(result, as_json, lambda r: typer.echo("；".join(f"{k} {v}" for k, v in r.items())))
