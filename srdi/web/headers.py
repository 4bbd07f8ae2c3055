"""Security headers (安全响应头) on every response of the console: pages, JSON, redirects, errors, static files.

The Content-Security-Policy allows only what the console loads: its own stylesheet and scripts, inline
style attributes (the eligibility tree indents by depth), inline SVG charts, and — by hash — exactly
the inline event handlers written in templates/web (e.g. ``onchange="this.form.submit()"``). A response
that sets its own policy (the Swagger UI page, for its inline start-up script) keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


def source_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def template_handlers(directory: Path) -> list[str]:
    """The CSP hashes of the inline event handlers in the templates (those without template expressions)."""
    found = set()
    for path in sorted(directory.glob("*.html")):
        for match in _HANDLER.finditer(path.read_text(encoding="utf-8")):
            code = match.group(1) if match.group(1) is not None else match.group(2)
            if "{{" not in code and "{%" not in code:
                found.add(source_hash(code))
    return sorted(found)


def content_security_policy(script_hashes: Iterable[str] = (), handler_hashes: Iterable[str] = ()) -> str:
    scripts = ["'self'", *script_hashes]
    handlers = list(handler_hashes)
    if handlers:
        scripts += ["'unsafe-hashes'", *handlers]
    return "; ".join([
        "default-src 'self'", f"script-src {' '.join(scripts)}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:", "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
        "form-action 'self'", "frame-ancestors 'none'",
    ])


def policy_for_inline_scripts(html: str) -> str:
    """A policy for one generated page that also allows that page's own inline scripts, by hash."""
    return content_security_policy(source_hash(body) for body in _INLINE_SCRIPT.findall(html))


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to every response start, and answers an unhandled error itself
    (with the headers) before Starlette's outermost error handler would answer it without them."""

    def __init__(self, app: ASGIApp, policy: str, https: bool = False):
        self.app = app
        self.headers = [
            (b"content-security-policy", policy.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.headers if name not in present]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await self._server_error(scope, send_with_headers)
            raise

    @staticmethod
    async def _server_error(scope: Scope, send: Send) -> None:
        text = "服务器内部错误，请稍后重试或联系管理员。"
        if scope.get("path", "").startswith("/api/"):
            body, kind = json.dumps({"detail": text}, ensure_ascii=False), b"application/json"
        else:
            body, kind = f"<!doctype html><meta charset=utf-8><title>服务器内部错误</title><p>{text}</p>", b"text/html; charset=utf-8"
        data = body.encode("utf-8")
        await send({"type": "http.response.start", "status": 500,
                    "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
