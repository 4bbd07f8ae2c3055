"""The demo's home, database and people (演示环境): a fresh var/demo, the schema, bureau users.

Everything goes through the real components: ``models.migrate.upgrade`` (Alembic, jurisdictions,
programme profiles), ``tasks.users.add_user`` and ``srdi.web.passwords`` for console passwords.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine

from srdi.config import REPO_ROOT

PASSWORD = "Demo-2026-srdi"          # console password of the users in CONSOLE_USERS (demo data only)
HEBEI, MINISTRY = "130000", "000000"
CITIES, COUNTIES_PER_CITY = 3, 3


@dataclass
class People:
    """Who acts in the demo: reviewers by jurisdiction code, and the console log-ins."""

    reviewers: dict[str, str] = field(default_factory=dict)          # jurisdiction code → username
    counties: list[str] = field(default_factory=list)
    cities: dict[str, list[str]] = field(default_factory=dict)       # city code → its counties
    names: dict[str, str] = field(default_factory=dict)              # code → 名称
    console: list[str] = field(default_factory=list)                 # usernames with a password

    def reviewer(self, code: str) -> str:
        return self.reviewers[code]


def prepare_home(base_dir: Path) -> str:
    """Wipe ``base_dir`` and point srdi (and Prefect, unless already set) at it; returns the DB URL."""
    base_dir = Path(base_dir).resolve()
    if base_dir.exists():
        shutil.rmtree(base_dir)
    base_dir.mkdir(parents=True)
    url = f"sqlite:///{base_dir / 'srdi.db'}"
    os.environ["SRDI_DATABASE_URL"] = url
    os.environ.setdefault("PREFECT_HOME", str(REPO_ROOT / "var" / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return url


def create_database(url: str):
    """Alembic to head, then the national jurisdiction table and the programme profiles."""
    from models.migrate import upgrade

    return upgrade(url)


def choose_places(connection: Connection) -> People:
    """Hebei's first three 市 with at least three 区（县） each, from the stored jurisdiction table."""
    from models.enums import JurisdictionLevel
    from models.jurisdiction import Jurisdiction

    rows = connection.execute(select(Jurisdiction.code, Jurisdiction.name, Jurisdiction.parent_code, Jurisdiction.level)
                              .where(Jurisdiction.code.like("13%")).order_by(Jurisdiction.code)).all()
    people = People(names={r.code: r.name for r in rows})
    for city in (r for r in rows if r.level == JurisdictionLevel.prefecture):
        counties = [r.code for r in rows if r.parent_code == city.code and r.level == JurisdictionLevel.county]
        if len(counties) >= COUNTIES_PER_CITY:
            people.cities[city.code] = counties[:COUNTIES_PER_CITY]
            people.counties += counties[:COUNTIES_PER_CITY]
        if len(people.cities) == CITIES:
            break
    people.names[MINISTRY] = connection.execute(select(Jurisdiction.name).where(Jurisdiction.code == MINISTRY)).scalar()
    return people


def add_reviewers(engine: Engine, people: People) -> None:
    """One reviewer per county, city, Hebei province and the ministry, each with an e-mail address;
    console passwords for one of each level."""
    from models.jurisdiction import User
    from srdi.clock import clock
    from srdi.web.passwords import check_strength, hash_password
    from tasks.users import add_user

    codes = people.counties + list(people.cities) + [HEBEI, MINISTRY]
    with engine.begin() as connection:
        for code in codes:
            username = "miit" if code == MINISTRY else ("hebei" if code == HEBEI else f"rv{code}")
            add_user(connection, username, "reviewer", code, f"{people.names[code]}审核员",
                     email=f"{username}@demo.srdi.local", now=clock.now())
            people.reviewers[code] = username
        people.console = [people.reviewers[c] for c in (people.counties[0], next(iter(people.cities)), HEBEI, MINISTRY)]
        check_strength(PASSWORD)
        digest = hash_password(PASSWORD)
        connection.execute(update(User).where(User.username.in_(people.console)).values(password_hash=digest))


def add_applicant(engine: Engine, uscc: str, code: str, name: str) -> str:
    """The applicant user (申报企业) of one enterprise, so that it can resubmit a returned application."""
    from srdi.clock import clock
    from tasks.users import add_user

    username = f"qy{uscc[-8:].lower()}"
    with engine.begin() as connection:
        add_user(connection, username, "applicant", code, name, email=f"{username}@demo.srdi.local",
                 enterprise_uscc=uscc, now=clock.now())
    return username
