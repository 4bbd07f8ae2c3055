"""Mail configuration: from the environment or the SRDI_CONFIG file, never from code.

==========================  ===============================================  ============
setting                     meaning                                          default
==========================  ===============================================  ============
SRDI_SMTP_HOST              SMTP server                                      127.0.0.1
SRDI_SMTP_PORT              port                                             25
SRDI_SMTP_TLS               ``none`` / ``starttls`` / ``tls`` (implicit)     none
SRDI_SMTP_USER              login (omit for no AUTH)
SRDI_SMTP_PASSWORD          password
SRDI_SMTP_TIMEOUT           seconds per SMTP command                         30
SRDI_SMTP_CONCURRENCY       connections used at once                         4
SRDI_SMTP_CONNECT_RETRIES   connection attempts per run before deferring     3
SRDI_SMTP_RETRY_DELAY       first back-off delay within a run, seconds       0.5
SRDI_MAIL_FROM              sender address                                   srdi@localhost
SRDI_MAIL_FROM_NAME         sender display name                              专精特新管理系统
SRDI_MAIL_MAX_ATTEMPTS      transient refusals before a mail is ``failed``   8
==========================  ===============================================  ============
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from models.errors import SrdiError
from models.settings import setting

TLS_MODES = ("none", "starttls", "tls")


class MailConfigError(SrdiError, ValueError):
    """A mail setting that cannot be used."""


def _number(name: str, default: str, cast=int):
    raw = setting(name, default)
    try:
        value = cast(raw)
    except (TypeError, ValueError):
        raise MailConfigError(f"配置项 {name} 应为数字，实际为 {raw!r}") from None
    if value < 0:
        raise MailConfigError(f"配置项 {name} 不能为负数，实际为 {raw!r}")
    return value


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    tls: str = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    concurrency: int = 4
    connect_retries: int = 3
    retry_delay: float = 0.5
    sender: str = "srdi@localhost"
    sender_name: str = "专精特新管理系统"
    max_attempts: int = 8

    @classmethod
    def from_settings(cls) -> "SmtpConfig":
        tls = (setting("SRDI_SMTP_TLS", "none") or "none").lower()
        if tls not in TLS_MODES:
            raise MailConfigError(f"配置项 SRDI_SMTP_TLS 应为 {' / '.join(TLS_MODES)} 之一，实际为 {tls!r}")
        config = cls(
            host=setting("SRDI_SMTP_HOST", "127.0.0.1"),
            port=_number("SRDI_SMTP_PORT", "25"),
            tls=tls,
            username=setting("SRDI_SMTP_USER") or None,
            password=setting("SRDI_SMTP_PASSWORD") or None,
            timeout=_number("SRDI_SMTP_TIMEOUT", "30", float),
            concurrency=max(1, _number("SRDI_SMTP_CONCURRENCY", "4")),
            connect_retries=max(1, _number("SRDI_SMTP_CONNECT_RETRIES", "3")),
            retry_delay=_number("SRDI_SMTP_RETRY_DELAY", "0.5", float),
            sender=setting("SRDI_MAIL_FROM", "srdi@localhost"),
            sender_name=setting("SRDI_MAIL_FROM_NAME", "专精特新管理系统"),
            max_attempts=max(1, _number("SRDI_MAIL_MAX_ATTEMPTS", "8")),
        )
        if config.username and config.password is None:
            raise MailConfigError("配置了 SRDI_SMTP_USER 却没有 SRDI_SMTP_PASSWORD")
        return config

    def with_(self, **changes) -> "SmtpConfig":
        return replace(self, **changes)

    @property
    def domain(self) -> str:
        """The domain used in Message-IDs."""
        return self.sender.rpartition("@")[2] or "localhost"
