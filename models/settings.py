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
