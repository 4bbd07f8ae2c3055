"""`srdi user`: bureau user accounts of the web console (控制台账号) — add, list, set a password."""

from __future__ import annotations

import sys
from typing import Optional

import typer
from sqlalchemy import select

from models.clock import clock
from models.db import session_scope
from models.enums import Role
from models.errors import NotFound
from models.jurisdiction import Jurisdiction, User
from srdi.cli.identity import os_user
from srdi.cli.output import JSON_OPTION, emit, one_of, table
from srdi.web.passwords import check_strength, hash_password
from tasks.people.scope import subtree_clause
from tasks.people.users import add_user, set_active, set_password_hash

app = typer.Typer(help="控制台账号：新增、查看、设置密码、停用、启用", no_args_is_help=True)

ROLES = [r.value for r in Role if r != Role.system]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("新密码", hide_input=True, confirmation_prompt="再次输入新密码")


@app.command("set-password")
def set_password(
    username: str = typer.Argument(..., help="用户名"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取一行作为密码（脚本用）"),
) -> None:
    """Set (or reset) USERNAME's console password; stored only as an argon2id hash."""
    with session_scope() as session:            # refuse an unknown user before asking for a password
        if session.execute(select(User.username).where(User.username == username)).first() is None:
            raise NotFound(f"用户 {username} 不存在（可用 srdi user add 新增）")
    password = _read_password(password_stdin)
    check_strength(password)
    digest = hash_password(password)
    with session_scope() as session:
        set_password_hash(session.connection(), username, digest, changed_by=f"os:{os_user()}", now=clock.now())
    typer.echo(f"已设置 {username} 的密码")


@app.command("add")
def add(
    username: str = typer.Argument(..., help="用户名（登录名）"),
    name: str = typer.Option(..., "--name", help="姓名或显示名"),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="所属辖区代码（GB/T 2260，如 130102）"),
    role: str = typer.Option(Role.reviewer.value, "--role", help="角色：reviewer（审核）/ clerk（经办）/ admin / applicant"),
    email: Optional[str] = typer.Option(None, "--email", help="提醒邮件地址"),
    enterprise: Optional[str] = typer.Option(None, "--enterprise", help="申报企业用户：企业统一社会信用代码"),
) -> None:
    """Add a user who acts within JURISDICTION's subtree (tasks.people.users); then run set-password."""
    one_of(role, ROLES, "角色")
    with session_scope() as session:
        result = add_user(session.connection(), username, role, jurisdiction, name, email=email,
                          enterprise_uscc=enterprise, now=clock.now(), changed_by=f"os:{os_user()}")
    done = "已新增" if result["created"] else "已存在（信息相同，未改动）"
    typer.echo(f"{done}用户 {username}（{name}，辖区 {jurisdiction}，角色 {role}）；设置密码：srdi user set-password {username}")


@app.command("disable")
def disable(username: str = typer.Argument(..., help="用户名")) -> None:
    """Disable USERNAME: they can no longer sign in or act (--as); logged in the user-change log."""
    with session_scope() as session:
        changed = set_active(session.connection(), username, False, changed_by=f"os:{os_user()}", now=clock.now())
    typer.echo(f"已停用用户 {username}" if changed else f"用户 {username} 此前已停用，未作改动")


@app.command("enable")
def enable(username: str = typer.Argument(..., help="用户名")) -> None:
    """Enable USERNAME again; logged in the user-change log."""
    with session_scope() as session:
        changed = set_active(session.connection(), username, True, changed_by=f"os:{os_user()}", now=clock.now())
    typer.echo(f"已启用用户 {username}" if changed else f"用户 {username} 已是启用状态，未作改动")


@app.command("list")
def list_users(
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="只列出该辖区及下辖的用户"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Users, their jurisdiction, role and whether a password is set."""
    with session_scope() as session:
        stmt = (select(User.username, User.display_name, User.role, User.jurisdiction_code,
                       Jurisdiction.name.label("jurisdiction_name"), User.active, User.password_hash.is_not(None).label("has_password"))
                .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code).order_by(Jurisdiction.path, User.username))
        if jurisdiction:
            place = session.get(Jurisdiction, jurisdiction)
            if place is None:
                raise NotFound(f"辖区代码 {jurisdiction} 不存在")
            stmt = stmt.where(subtree_clause(Jurisdiction.path, place.path))
        rows = [dict(r) for r in session.execute(stmt).mappings()]
    emit(rows, as_json, lambda data: table(
        "控制台用户", ["用户名", "姓名", "角色", "辖区", "启用", "已设密码"],
        [(r["username"], r["display_name"], r["role"], f"{r['jurisdiction_name']}（{r['jurisdiction_code']}）",
          "是" if r["active"] else "否", "是" if r["has_password"] else "否") for r in data]))
