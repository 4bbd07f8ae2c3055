"""Log-in (登录), server-side sessions and CSRF protection for the console.

- Passwords are argon2id hashes (srdi.web.passwords); a failed log-in says only "用户名或密码错误".
- Wrong passwords are throttled per account name and per address (srdi.web.throttle): the 6th wrong
  password in a row locks the name for 15 minutes, and a right password is refused during the lock.
- The session lives on the server (srdi.web.sessions, table ``web_session``): the signed cookie
  (Starlette SessionMiddleware) carries only its random token, the CSRF token and flash messages.
  Log-out, a password change and disabling the user revoke it; it also ends after ``idle_seconds``
  without a request and ``absolute_seconds`` after log-in, both checked on the server.
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
from models.login_attempt import AttemptOutcome
from models.web_session import RevokeReason
from srdi.web import sessions, throttle
from srdi.web.passwords import verify_password
from tasks.people.actors import Actor, actor_by_id

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_KEY = "sid"
CONSOLE_ROLES = frozenset({Role.reviewer, Role.clerk, Role.admin})
MAX_USERNAME = 64
MAX_PASSWORD = 1024


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


def _now(request: Request):
    """The console's clock (srdi.web.sessions.console_clock unless a test put another) as an aware instant."""
    return sessions.instant(request.app.state.wall_clock())


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def current_user(request: Request, session: Session = Depends(db_session)) -> Actor:
    """The signed-in, still active bureau user of a session that still stands, or LoginRequired."""
    token = request.session.get(TOKEN_KEY)
    if not isinstance(token, str) or not token:
        raise LoginRequired()
    engine, now = request.app.state.engine, _now(request)
    found, lapsed = sessions.standing(session, token, now, request.app.state.security)
    if found is None:
        if lapsed:
            with engine.begin() as connection:
                sessions.revoke(connection, token, lapsed, now)
        request.session.clear()
        raise LoginRequired()
    scope = actor_by_id(session, found.user_id)
    if scope is None or scope.role not in CONSOLE_ROLES:    # disabled (or no longer a console role) since log-in
        with engine.begin() as connection:
            sessions.revoke(connection, token, RevokeReason.user_disabled, now)
        request.session.clear()
        raise LoginRequired()
    if found.stale_seen:
        with engine.begin() as connection:
            sessions.mark_seen(connection, found.session_id, now)
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
def login(request: Request, username: str = Form(..., max_length=MAX_USERNAME), password: str = Form(..., max_length=MAX_PASSWORD),
          next: str = Form("/", max_length=2048), session: Session = Depends(db_session)):
    name, address, now = username.strip(), client_address(request), _now(request)
    engine, policy = request.app.state.engine, request.app.state.security
    with engine.begin() as connection:     # committed first: a parallel guess counts this one
        attempt = throttle.begin_attempt(connection, name, address, now)
    with engine.connect() as connection:
        lock = throttle.lock_for(connection, attempt, name, address, now, policy)
    if lock is not None:
        with engine.begin() as connection:
            throttle.finish_attempt(connection, attempt, AttemptOutcome.locked)
        throttle.log_refusal(name, address, lock)
        return _login_refused(request, next, lock.message(now), 429,
                              {"Retry-After": str(max(1, int((lock.until - now).total_seconds())))})
    user = session.exec(select(User).where(User.username == name)).first()
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.active or Role(user.role) not in CONSOLE_ROLES:
        throttle.log_refusal(name, address, None)
        return _login_refused(request, next, "用户名或密码错误，或该账号无权使用控制台", 401)
    with engine.begin() as connection:
        throttle.finish_attempt(connection, attempt, AttemptOutcome.success)
        token = sessions.open_session(connection, user.id, user.password_hash, address, now)
    request.session.clear()  # nothing from before the log-in survives; a fresh CSRF token
    request.session.update({TOKEN_KEY: token, "csrf": secrets.token_urlsafe(32)})
    return RedirectResponse(safe_next(next), status_code=303)


def _login_refused(request: Request, next: str, error: str, status: int, headers: Optional[dict] = None):
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"csrf_token": csrf_token(request), "next": safe_next(next), "error": error},
        status_code=status, headers=headers)


@router.post("/logout", include_in_schema=False)
def logout(request: Request):
    token = request.session.get(TOKEN_KEY)
    if isinstance(token, str) and token:
        with request.app.state.engine.begin() as connection:
            sessions.revoke(connection, token, RevokeReason.logout, _now(request))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
