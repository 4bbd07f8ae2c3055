"""Log-in (登录), expiring sessions and CSRF protection for the console.

- Passwords are argon2id hashes (srdi.web.passwords); a failed log-in says only "用户名或密码错误".
- The session is a signed cookie (Starlette SessionMiddleware / itsdangerous) holding the user id,
  a CSRF token and the time of the last request. It expires after ``max_age`` seconds without a
  request: the signature's own timestamp enforces it, and ``seen`` is checked on the server too.
- Every POST (every form, including the log-in form) must carry the session's CSRF token in the
  ``csrf_token`` field or the ``X-CSRF-Token`` header; routers install ``csrf_protect``.
"""

from __future__ import annotations

import secrets
from typing import Optional
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, select

from models.enums import Role
from models.jurisdiction import User
from srdi.web.passwords import verify_password
from tasks.people.actors import Actor, actor_by_id

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SEEN_REFRESH_SECONDS = 60
CONSOLE_ROLES = frozenset({Role.reviewer, Role.clerk, Role.admin})


class LoginRequired(Exception):
    """No valid session: HTML pages redirect to /login, the API answers 401."""


class CsrfRejected(Exception):
    """A POST without the session's CSRF token (403)."""


def db_session(request: Request):
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_protect(request: Request) -> None:
    """Router dependency: refuse any POST whose token does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise CsrfRejected()


def _now(request: Request) -> float:
    return request.app.state.wall_clock()


def current_user(request: Request, session: Session = Depends(db_session)) -> Actor:
    """The signed-in, still active bureau user, or LoginRequired."""
    user_id = request.session.get("uid")
    seen = request.session.get("seen", 0)
    now = _now(request)
    if not user_id or now - seen > request.app.state.session_max_age:
        if user_id:
            request.session.clear()
        raise LoginRequired()
    scope = actor_by_id(session, user_id)
    if scope is None or scope.role not in CONSOLE_ROLES:
        request.session.clear()
        raise LoginRequired()
    if now - seen > SEEN_REFRESH_SECONDS:
        request.session["seen"] = now
    return scope


def safe_next(target: Optional[str]) -> str:
    """Only a local path may follow a log-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/"):
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"csrf_token": csrf_token(request), "next": safe_next(next), "error": None})


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form(...), password: str = Form(...), next: str = Form("/"),
          session: Session = Depends(db_session)):
    user = session.exec(select(User).where(User.username == username.strip())).first()
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active or Role(user.role) not in CONSOLE_ROLES:
        response = request.app.state.templates.TemplateResponse(
            request, "login.html",
            {"csrf_token": csrf_token(request), "next": safe_next(next), "error": "用户名或密码错误，或该账号无权使用控制台"},
            status_code=401)
        return response
    request.session.clear()  # nothing from before the log-in survives; a fresh CSRF token
    request.session.update({"uid": user.id, "csrf": secrets.token_urlsafe(32), "seen": _now(request)})
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
