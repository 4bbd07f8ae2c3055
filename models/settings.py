"""Configuration from the environment: database, data directories, mail.

Everything a deployment changes comes from environment variables (or a `.env`-style
file named by ``SRDI_CONFIG``); nothing site-specific lives in code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_config_file() -> dict[str, str]:
    path = os.environ.get("SRDI_CONFIG")
    if not path:
        return {}
    values: dict[str, str] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip('"')
    return values


def setting(name: str, default: str | None = None) -> str | None:
    """The environment wins over the config file, which wins over the default."""
    if name in os.environ:
        return os.environ[name]
    return _load_config_file().get(name, default)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    programmes_dir: Path
    calendar_dir: Path
    templates_dir: Path

    @classmethod
    def load(cls) -> "Settings":
        home = Path(setting("SRDI_HOME", str(REPO_ROOT / "var"))).resolve()
        programmes = Path(setting("SRDI_PROGRAMMES_DIR", str(REPO_ROOT / "programmes")))
        return cls(
            home=home,
            database_url=setting("SRDI_DATABASE_URL") or f"sqlite:///{home / 'srdi.db'}",
            programmes_dir=programmes,
            calendar_dir=Path(setting("SRDI_CALENDAR_DIR", str(programmes / "calendar"))),
            templates_dir=REPO_ROOT / "templates",
        )


_ENVIRONMENT = ("SRDI_CONFIG", "SRDI_HOME", "SRDI_DATABASE_URL", "SRDI_PROGRAMMES_DIR", "SRDI_CALENDAR_DIR")


@lru_cache(maxsize=16)
def _settings_for(_key: tuple) -> Settings:
    return Settings.load()


def settings() -> Settings:
    """The settings as the environment (and the SRDI_CONFIG file, by its mtime and size) and the working directory now say.

    Read on every call — tests and the CLI change the environment — but built only when that changed:
    hot paths ask once per decision."""
    key = (os.getcwd(), *(os.environ.get(name) for name in _ENVIRONMENT))
    if key[1]:
        try:
            stat = os.stat(key[1])
            key += (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return Settings.load()      # a missing config file: let loading say so
    return _settings_for(key)


@dataclass(frozen=True)
class ConsoleSecurity:
    """控制台会话与登录限制: how long a console session lasts and how password guessing is slowed."""

    idle_seconds: int               # SRDI_SESSION_MAX_AGE: idle time after which a session ends (8 h)
    absolute_seconds: int           # SRDI_SESSION_ABSOLUTE_MAX_AGE: a session's whole life, however busy (12 h)
    max_failures: int               # SRDI_LOGIN_MAX_FAILURES: wrong passwords for one account before it locks (5)
    lock_seconds: int               # SRDI_LOGIN_LOCK_SECONDS: the first lock (15 min); each further failure doubles it
    address_max_failures: int       # SRDI_LOGIN_ADDRESS_MAX_FAILURES: wrong passwords from one address in an hour (20)
    cookie_secure: bool             # SRDI_COOKIE_SECURE=1: the console is served over HTTPS


def _positive_int(name: str, default: int) -> int:
    text = setting(name)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"配置项 {name} 应为正整数，实际为 {text!r}")
    return value


def console_security() -> ConsoleSecurity:
    return ConsoleSecurity(
        idle_seconds=_positive_int("SRDI_SESSION_MAX_AGE", 8 * 3600),
        absolute_seconds=_positive_int("SRDI_SESSION_ABSOLUTE_MAX_AGE", 12 * 3600),
        max_failures=_positive_int("SRDI_LOGIN_MAX_FAILURES", 5),
        lock_seconds=_positive_int("SRDI_LOGIN_LOCK_SECONDS", 15 * 60),
        address_max_failures=_positive_int("SRDI_LOGIN_ADDRESS_MAX_FAILURES", 20),
        cookie_secure=setting("SRDI_COOKIE_SECURE") == "1",
    )


def document_max_bytes() -> int:
    """SRDI_DOCUMENT_MAX_MB: the largest applicant document (申报材料) accepted, in MB (20)."""
    return _positive_int("SRDI_DOCUMENT_MAX_MB", 20) * 1024 * 1024
