"""The console application: ``create_app()`` returns the FastAPI app that ``srdi serve`` runs.

    uvicorn.run(create_app(), host="127.0.0.1", port=8000)

Settings (environment or the SRDI_CONFIG file): ``SRDI_SECRET_KEY`` signs session cookies (when
unset, a random key is created once in ``$SRDI_HOME/console-secret``); ``SRDI_SESSION_MAX_AGE``
is the idle time in seconds after which a session expires (default 8 hours),
``SRDI_SESSION_ABSOLUTE_MAX_AGE`` its whole life (default 12 hours); ``SRDI_LOGIN_MAX_FAILURES``,
``SRDI_LOGIN_LOCK_SECONDS`` and ``SRDI_LOGIN_ADDRESS_MAX_FAILURES`` throttle password guessing
(models.settings.ConsoleSecurity); ``SRDI_COOKIE_SECURE=1`` marks the cookie Secure (and sends HSTS)
when the console sits behind HTTPS. Every response carries the security headers of srdi.web.headers;
a parameter out of its bounds (srdi.web.bounds) is answered 400, never 500.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from models.errors import Conflict, Forbidden, NotFound, SrdiError
from models.settings import console_security, setting, settings
from srdi.web import (
    api,
    auth,
    documents,
    exports,
    filings,
    funds,
    funds_actions,
    inbox,
    notices,
    pages,
    service_status,
    stages,
    users_admin,
)
from srdi.web.bounds import http_message, refusal, web_message
from srdi.web.headers import SecurityHeaders, content_security_policy, policy_for_inline_scripts, template_handlers
from srdi.web.render import make_templates
from srdi.web.sessions import console_clock


def secret_key() -> str:
    """SRDI_SECRET_KEY, else a key created once beside the database (kept across restarts)."""
    configured = setting("SRDI_SECRET_KEY")
    if configured:
        return configured
    path = settings().home / "console-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(engine: Optional[Engine] = None, *, key: Optional[str] = None,
               session_max_age: Optional[int] = None, wall_clock: Callable[[], float] = console_clock) -> FastAPI:
    """Build the console. ``engine`` defaults to models.db.get_engine() (SRDI_DATABASE_URL)."""
    from models.db import get_engine

    security = console_security()
    if session_max_age:
        security = replace(security, idle_seconds=session_max_age)
    max_age = security.idle_seconds
    app = FastAPI(title="srdi 管理控制台 API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="专精特新中小企业申报评审：只读 JSON 接口。登录控制台后以同一会话访问；仅返回当前用户辖区范围内的数据。")
    app.state.engine = engine or get_engine()
    app.state.templates = make_templates()
    app.state.session_max_age = max_age
    app.state.security = security
    app.state.wall_clock = wall_clock

    app.add_middleware(SessionMiddleware, secret_key=key or secret_key(), session_cookie="srdi_session",
                       max_age=max_age, same_site="lax", https_only=security.cookie_secure)
    policy = content_security_policy(handler_hashes=template_handlers(settings().templates_dir / "web"))
    app.add_middleware(SecurityHeaders, policy=policy, https=security.cookie_secure)  # outermost: every response
    _mount_api_docs(app)  # before /static, whose mount would otherwise catch /static/swagger
    app.mount("/static", StaticFiles(directory=str(settings().templates_dir / "web" / "static")), name="static")

    app.include_router(auth.router)
    app.include_router(inbox.router)
    app.include_router(pages.router)
    app.include_router(stages.router)
    app.include_router(documents.router)
    app.include_router(exports.router)
    app.include_router(notices.router)
    app.include_router(filings.router)
    app.include_router(funds.router)
    app.include_router(funds_actions.router)
    app.include_router(users_admin.router)
    app.include_router(service_status.router)
    app.include_router(api.router)
    _install_error_pages(app)
    return app


def _mount_api_docs(app: FastAPI) -> None:
    """FastAPI's OpenAPI page with Swagger UI served from the installed package, not a CDN."""
    import swagger_ui_bundle

    app.mount("/static/swagger", StaticFiles(directory=str(Path(str(swagger_ui_bundle.swagger_ui_path)))),
              name="swagger")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=app.openapi_url, title="srdi 管理控制台 API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")
        page.headers["Content-Security-Policy"] = policy_for_inline_scripts(page.body.decode("utf-8"))
        return page


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _install_error_pages(app: FastAPI) -> None:
    """Every error in Chinese: an error page for the console, JSON with a Chinese ``detail`` under /api/
    (an unexpected exception is answered by srdi.web.headers.SecurityHeaders)."""
    def page(request: Request, status: int, title: str, text: str):
        if _wants_json(request):
            return JSONResponse({"detail": text}, status_code=status)
        return app.state.templates.TemplateResponse(
            request, "error.html", {"title": title, "text": text, "user": None, "messages": []},
            status_code=status)

    @app.exception_handler(auth.LoginRequired)
    async def login_required(request: Request, exc: auth.LoginRequired):
        if _wants_json(request):
            return JSONResponse({"detail": "未登录或会话已过期"}, status_code=401)
        return auth.login_redirect(request)

    @app.exception_handler(auth.CsrfRejected)
    async def csrf_rejected(request: Request, exc: auth.CsrfRejected):
        return page(request, 403, "请求被拒绝", "表单已失效或来源不明（CSRF 校验失败）。请返回、刷新页面后重试。")

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError):
        return page(request, 400, "请求参数有误", refusal(list(exc.errors())))

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return page(request, 404, "未找到", "未找到该记录，或它不在您的辖区范围内。")

    @app.exception_handler(SrdiError)
    async def refused(request: Request, exc: SrdiError):
        """A refusal a route did not turn into a flash: its own words, without command-line options."""
        status = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, Conflict) else 400
        return page(request, status, "无法办理", web_message(str(exc)))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 404 and request.url.path == "/favicon.ico":   # browsers ask for it whatever the page says
            return RedirectResponse("/static/favicon.svg", status_code=301)
        title, text = http_message(exc.status_code, exc.detail)
        answer = page(request, exc.status_code, title, text)
        answer.headers.update(exc.headers or {})                    # e.g. Allow on 405, Retry-After on 429
        return answer
