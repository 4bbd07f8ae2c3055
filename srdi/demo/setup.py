"""The demo's home, database and people (演示环境): a fresh var/demo, the schema, bureau users.

Everything goes through the real components: ``srdi.migrate.upgrade`` (Alembic, jurisdictions,
programme profiles), ``tasks.people.users.add_user`` and ``srdi.web.passwords`` for console passwords.

Safety: the demo only ever clears a folder it made itself (it leaves a ``.srdi-demo`` marker in
it), an empty one or one that does not exist yet; and it writes into the database named by
``SRDI_DATABASE_URL`` only when that database holds no calls, applications, enterprises, users or
funding plans yet. Without ``SRDI_DATABASE_URL`` it keeps its own SQLite file in the folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine, make_url

from models.errors import SrdiError
from models.settings import REPO_ROOT, setting

PASSWORD = "Demo-2026-srdi"          # console password of the users in CONSOLE_USERS (demo data only)
HEBEI, MINISTRY = "130000", "000000"
CITIES, COUNTIES_PER_CITY = 3, 3
MARKER = ".srdi-demo"                # left in every folder the demo creates; only such folders are cleared
DATABASE_FILE = "srdi.db"
# Tables whose rows mean a database is already in use (申报批次、申报、企业、用户、资金实施方案).
IN_USE = {"call": "申报批次 {} 个", "application": "申报 {} 件", "enterprise": "企业 {} 家", "user": "用户 {} 个",
          "implementation_plan": "资金实施方案 {} 个"}


class DemoRefused(SrdiError):
    """The demo will not run here: it would delete a folder it did not create, or mix into real data."""


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


def configured_database() -> str | None:
    """The database named by SRDI_DATABASE_URL (environment or SRDI_CONFIG file), if any."""
    return setting("SRDI_DATABASE_URL") or None


def prepare_home(base_dir: Path, database_url: str | None = None) -> str:
    """Check the database and the folder, then make ``base_dir`` afresh (marked as the demo's) and
    point srdi (and Prefect, unless already set) at the database; returns the database URL.

    ``database_url`` is the database the caller named (SRDI_DATABASE_URL); without one the demo
    uses ``base_dir/srdi.db``. Raises DemoRefused before anything is deleted or written."""
    base_dir = Path(base_dir).resolve()
    if database_url:
        refuse_database_in_use(database_url)
    clear_home(base_dir)
    url = database_url or f"sqlite:///{base_dir / DATABASE_FILE}"
    os.environ["SRDI_DATABASE_URL"] = url
    os.environ.setdefault("PREFECT_HOME", str(REPO_ROOT / "var" / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    return url


def clear_home(base_dir: Path) -> None:
    """Empty ``base_dir`` if the demo made it (marker), create it if absent or empty; else refuse."""
    if base_dir.is_symlink() or (base_dir.exists() and not base_dir.is_dir()):
        raise DemoRefused(f"演示目录 {base_dir} 不是普通文件夹；请用 --dir 指定一个新的或空的文件夹")
    if base_dir.exists() and any(base_dir.iterdir()):
        if not (base_dir / MARKER).is_file():
            raise DemoRefused(f"演示目录 {base_dir} 非空，且不是演示创建的（没有 {MARKER} 标记），演示不会删除其中的文件；"
                              "请用 --dir 指定一个新的或空的文件夹，或确认其内容不再需要后自行清空")
        shutil.rmtree(base_dir)
    base_dir.mkdir(parents=True, exist_ok=True)
    (base_dir / MARKER).write_text("srdi demo：此文件夹由 `srdi demo` 创建，下次运行演示时会被清空重建。\n",
                                   encoding="utf-8")


def refuse_database_in_use(url: str) -> None:
    """Raise DemoRefused unless ``url`` is a database srdi can share with the flows and that holds
    no programme data yet (missing, empty, or only migrated with reference data)."""
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers every table)
    from models.db import make_engine
    from srdi.migrate import display_url

    shown = display_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:") or "mode=memory" in url:
            raise DemoRefused(f"SRDI_DATABASE_URL={shown} 是内存数据库，演示的各个步骤无法共用；"
                              "请指定一个 SQLite 文件或 PostgreSQL 数据库，或取消该变量以使用演示目录中的 SQLite 文件")
        if not Path(parsed.database).exists():
            return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            held = {label: connection.execute(select(func.count()).select_from(SQLModel.metadata.tables[name])).scalar_one()
                    for name, label in IN_USE.items() if name in present}
    except Exception as exc:  # the driver's message names the cause (host, port, auth, file)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DemoRefused(f"无法连接 SRDI_DATABASE_URL 指定的数据库 {shown}：{reason[0] if reason else type(exc).__name__}") from None
    finally:
        engine.dispose()
    held = {label: n for label, n in held.items() if n}
    if held:
        what = "、".join(label.format(n) for label, n in held.items())
        raise DemoRefused(f"SRDI_DATABASE_URL 指定的数据库 {shown} 已有数据（{what}），演示不会混入其中；"
                          "请指定一个空数据库，或取消 SRDI_DATABASE_URL 以使用演示目录中的 SQLite 文件")


def create_database(url: str):
    """Alembic to head, then the national jurisdiction table and the programme profiles."""
    from srdi.migrate import upgrade

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
    from models.clock import clock
    from srdi.web.passwords import check_strength, hash_password
    from tasks.people.users import add_user, set_password_hash

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
        for username in people.console:          # through the one path that logs it (user_change) and ends old sessions
            set_password_hash(connection, username, digest, changed_by="system", now=clock.now())


def add_applicant(engine: Engine, uscc: str, code: str, name: str) -> str:
    """The applicant user (申报企业) of one enterprise, so that it can resubmit a returned application."""
    from models.clock import clock
    from tasks.people.users import add_user

    username = f"qy{uscc[-8:].lower()}"
    with engine.begin() as connection:
        add_user(connection, username, "applicant", code, name, email=f"{username}@demo.srdi.local",
                 enterprise_uscc=uscc, now=clock.now())
    return username
