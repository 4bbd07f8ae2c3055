"""用户管理: admins add, disable, reset and re-role users within their own subtree.

Every change goes through tasks/people/user_admin.py (scope, roles and "not yourself" are checked
there) and is one ``user_change`` row. A password the administrator leaves blank is generated and
shown once, on the page answering the POST — never put in the session cookie or a flash message.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from models.audit_log import UserChange, UserChangeKind
from models.enums import Role
from models.errors import NotFound, SrdiError
from models.jurisdiction import Jurisdiction, User
from srdi.web.auth import MAX_PASSWORD, MAX_USERNAME, csrf_protect, current_user, db_session
from srdi.web.pages import flash, render
from srdi.web.passwords import check_strength, hash_password
from tasks.people import user_admin
from tasks.people.actors import Actor

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

Username = Annotated[str, Path(max_length=MAX_USERNAME)]
RECENT_CHANGES = 30


def admin_only(scope: Actor = Depends(current_user)) -> Actor:
    """The signed-in administrator; anyone else is refused (403)."""
    if scope.role != Role.admin:
        raise HTTPException(403, "仅管理员可访问此页面")
    return scope


def users_of(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """Users inside the administrator's subtree, by jurisdiction then name."""
    stmt = (select(User.username, User.display_name, User.role, User.jurisdiction_code, User.email, User.active,
                   User.password_hash.is_not(None).label("has_password"), Jurisdiction.name.label("jurisdiction_name"))
            .join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
            .where(scope.path_clause(Jurisdiction.path)).order_by(Jurisdiction.path, User.username))
    return [dict(r) for r in session.execute(stmt).mappings()]


def recent_changes(session: Session, scope: Actor) -> list[dict[str, Any]]:
    """The latest user-change rows of users inside the subtree."""
    ours = (select(User.username).join(Jurisdiction, Jurisdiction.code == User.jurisdiction_code)
            .where(scope.path_clause(Jurisdiction.path)))
    stmt = (select(UserChange.at, UserChange.username, UserChange.kind, UserChange.detail, UserChange.changed_by)
            .where(UserChange.username.in_(ours)).order_by(UserChange.id.desc()).limit(RECENT_CHANGES))
    return [{**r, "kind_label": UserChangeKind(r["kind"]).label if r["kind"] in UserChangeKind.__members__ else r["kind"]}
            for r in session.execute(stmt).mappings()]


def _page(request: Request, scope: Actor, session: Session, *, generated: Optional[dict] = None, status_code: int = 200):
    return render(request, "admin_users.html", scope, status_code=status_code, users=users_of(session, scope),
                  changes=recent_changes(session, scope), roles=user_admin.GRANTABLE, generated=generated)


def _new_password(typed: str) -> tuple[str, Optional[str]]:
    """(hash, the generated password to show once, or None when the administrator typed one)."""
    if typed:
        check_strength(typed)
        return hash_password(typed), None
    password = user_admin.generated_password()
    return hash_password(password), password


@router.get("/admin/users")
def users_page(request: Request, scope: Actor = Depends(admin_only), session: Session = Depends(db_session)):
    return _page(request, scope, session)


@router.post("/admin/users")
def add(request: Request, username: str = Form(..., max_length=MAX_USERNAME), display_name: str = Form(..., max_length=64),
        role: str = Form(..., max_length=16), jurisdiction: str = Form(..., max_length=12), email: str = Form("", max_length=128),
        password: str = Form("", max_length=MAX_PASSWORD), scope: Actor = Depends(admin_only),
        session: Session = Depends(db_session)):
    username = username.strip()
    try:
        digest, shown = _new_password(password)
        with request.app.state.engine.begin() as connection:
            user_admin.create_user(connection, scope.username, username, role, jurisdiction.strip(), display_name,
                                   digest, email=email.strip() or None)
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse("/admin/users", status_code=303)
    flash(request, "ok", f"已新增用户 {username}（{display_name.strip()}）")
    if shown:
        return _page(request, scope, session, generated={"username": username, "password": shown})
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/active")
def set_active(request: Request, username: Username, active: bool = Form(...), scope: Actor = Depends(admin_only)):
    try:
        with request.app.state.engine.begin() as connection:
            changed = user_admin.change_active(connection, scope.username, username, active)
        done = "启用" if active else "停用"
        flash(request, "ok", f"已{done}用户 {username}" if changed else f"用户 {username} 此前已{done}，未作改动")
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/password")
def reset_password(request: Request, username: Username, password: str = Form("", max_length=MAX_PASSWORD),
                   scope: Actor = Depends(admin_only), session: Session = Depends(db_session)):
    try:
        with request.app.state.engine.connect() as connection:     # scope first: no hashing for a user out of reach
            user_admin.managed_user(connection, user_admin.admin_actor(connection, scope.username), username)
        digest, shown = _new_password(password)
        with request.app.state.engine.begin() as connection:
            user_admin.reset_password(connection, scope.username, username, digest)
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
        return RedirectResponse("/admin/users", status_code=303)
    flash(request, "ok", f"已重置用户 {username} 的密码，其已登录的会话随之失效")
    if shown:
        return _page(request, scope, session, generated={"username": username, "password": shown})
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/role")
def set_role(request: Request, username: Username, role: str = Form(..., max_length=16), scope: Actor = Depends(admin_only)):
    try:
        with request.app.state.engine.begin() as connection:
            changed = user_admin.change_role(connection, scope.username, username, role)
        flash(request, "ok", f"已变更用户 {username} 的角色" if changed else f"用户 {username} 已是该角色，未作改动")
    except NotFound:
        raise
    except SrdiError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse("/admin/users", status_code=303)
