"""Fixtures for 公示 / 认定 / 复核 tests: a call whose final level has closed with a recommended list.

``through_pipeline`` runs the real intake (create_applications), reviewers' decisions and level
closes up the profile's route, leaving the recommended set at the final level for the 公示.
``recommended_list`` inserts that end state directly (for bulk tests that need no ladder).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from stdnum.cn import uscc as stdnum_uscc

from models import Application, Enterprise, Recognition, User
from models.clock import SHANGHAI
from models.enums import ApplicationStatus, Role
from models.review import LevelWindow
from tasks.intake.applications import create_applications
from tasks.recognition.titles import add_years
from tasks.reference.calls import call_context, get_profile, open_call
from tasks.reference.programmes import sync_programmes
from tasks.reference.routing import Tree
from tasks.review.decisions import decide
from tasks.review.level_close import close_level

HEBEI = "hebei-provincial-srdi"
NATIONAL = "national-little-giant"
BEIJING = "beijing-provincial-srdi"
COUNTIES = ["130102", "130104", "130602", "130203"]     # 石家庄长安、桥西；保定竞秀；唐山路北


def make_uscc(n: int, county: str = "130102") -> str:
    body = f"91{county}MA{n:07d}"[:17]
    return body + stdnum_uscc.calc_check_digit(body)


def add_users(engine) -> None:
    rows = [
        ("hb-clerk", Role.clerk, "130000"), ("sjz-clerk", Role.clerk, "130100"),
        ("miit-clerk", Role.clerk, "000000"), ("bj-clerk", Role.clerk, "110000"),
    ]
    with engine.begin() as c:
        c.execute(User.__table__.insert(), [
            {"username": u, "display_name": u, "role": r, "jurisdiction_code": j, "active": True} for u, r, j in rows
        ])


def recommended_list(engine, programme_id: str, year: int, n: int, *, opens_at: datetime,
                     first: int = 1, kind: str = "recognition", call_id: str | None = None,
                     batch: int | None = None) -> str:
    """A call of ``programme_id`` with ``n`` applications recommended at its final level, window closed."""
    with engine.begin() as c:
        if call_id is None:
            call = open_call(c, programme_id, year, kind=kind, batch=batch, opens_at=opens_at,
                             closes_at=opens_at + timedelta(days=30), now=opens_at)
            call_id = call.id
        context = call_context(c, call_id)
        final = context.final.level
        tree = Tree.load(c)
        enterprises = [
            {"uscc": make_uscc(i, COUNTIES[i % len(COUNTIES)]), "name": f"河北测试企业{i:03d}有限公司", "size": "small",
             "industry_code": "C3484", "jurisdiction_code": COUNTIES[i % len(COUNTIES)]}
            for i in range(first, first + n)
        ]
        existing = set(c.execute(select(Enterprise.uscc)).scalars())
        new = [e for e in enterprises if e["uscc"] not in existing]
        if new:
            c.execute(Enterprise.__table__.insert(), new)
        ids = dict(c.execute(select(Enterprise.uscc, Enterprise.id)).all())
        apps = []
        for i, e in zip(range(first, first + n), enterprises):
            desk = tree.reviewer_at(e["jurisdiction_code"], final)
            apps.append({"ref": f"T{year}-{call_id[-12:]}-{i:05d}", "call_id": call_id, "enterprise_id": ids[e["uscc"]],
                         "jurisdiction_code": e["jurisdiction_code"], "level": final, "review_jurisdiction_code": desk,
                         "status": ApplicationStatus.recommended, "version": 3, "facts": {},
                         "submitted_at": opens_at, "updated_at": opens_at})
        c.execute(Application.__table__.insert(), apps)
        for desk in sorted({a["review_jurisdiction_code"] for a in apps}):
            found = c.execute(select(LevelWindow.id).where(LevelWindow.call_id == call_id, LevelWindow.level == final,
                                                           LevelWindow.jurisdiction_code == desk)).first()
            if not found:
                c.execute(LevelWindow.__table__.insert(), [{
                    "call_id": call_id, "level": final, "jurisdiction_code": desk, "opens_at": opens_at,
                    "due_at": opens_at, "late_from": opens_at, "closed_at": opens_at, "closed_by": "system",
                    "close_reason": "deadline", "outcome": {}}])
    return call_id


def enterprise_record(i: int) -> dict:
    county = COUNTIES[i % len(COUNTIES)]
    return {"uscc": make_uscc(i, county), "name": f"河北测试企业{i:03d}有限公司", "size": "small",
            "industry_code": "C3484", "jurisdiction_code": county}


def reviewer(connection, code: str) -> str:
    name = f"rv-{code}"
    if not connection.execute(select(User.id).where(User.username == name)).first():
        connection.execute(User.__table__.insert(), [{"username": name, "display_name": name, "role": Role.reviewer,
                                                      "jurisdiction_code": code, "active": True}])
    return name


def through_pipeline(engine, clock, programme_id: str, year: int, numbers, *, batch=None, kind="recognition",
                     records=None, reject=(), apply=None) -> str:
    """Run a call up its route: every application recommended at every level except the ``reject``
    enterprise numbers (rejected at the entry level). ``apply(connection, call_id)`` replaces the
    intake (e.g. re-review applications). Leaves the clock one day after intake closed plus the
    time the levels took."""
    opens = clock.now()
    with engine.begin() as c:
        call = open_call(c, programme_id, year, batch=batch, kind=kind, opens_at=opens,
                         closes_at=opens + timedelta(days=3), now=opens)
        if apply:
            apply(c, call.id)
        else:
            create_applications(c, call.id, records or [enterprise_record(i) for i in numbers], "system", opens)
    clock.advance(timedelta(days=4))
    rejected = {make_uscc(i, COUNTIES[i % len(COUNTIES)]) for i in reject}
    with engine.connect() as c:
        levels = [step.level for step in call_context(c, call.id).levels]
    for level in levels:
        with engine.begin() as c:
            rows = c.execute(select(Application.id, Application.review_jurisdiction_code, Enterprise.uscc)
                             .join(Enterprise, Enterprise.id == Application.enterprise_id)
                             .where(Application.call_id == call.id, Application.level == level,
                                    Application.status == ApplicationStatus.pending)).all()
            for row in rows:
                if row.uscc in rejected:
                    decide(c, row.id, "reject", reviewer(c, row.review_jurisdiction_code), reason="不符合条件")
                else:
                    decide(c, row.id, "recommend", reviewer(c, row.review_jurisdiction_code), score=80)
            for desk in sorted({row.review_jurisdiction_code for row in rows}):
                close_level(c, call.id, level, desk)
    return call.id


def legacy_recognition(engine, programme_id: str, number: int, valid_from: date, *, county: str | None = None) -> int:
    """A recognition granted before srdi (imported), with its enterprise; validity per the profile."""
    profile = get_profile(programme_id)
    record = enterprise_record(number)
    if county:
        record.update(jurisdiction_code=county, uscc=make_uscc(number, county))
    every = profile.validity.re_review.every_years if profile.validity.re_review else None
    with engine.begin() as c:
        sync_programmes(c)
        if not c.execute(select(Enterprise.id).where(Enterprise.uscc == record["uscc"])).first():
            c.execute(Enterprise.__table__.insert(), [record])
        enterprise_id = c.execute(select(Enterprise.id).where(Enterprise.uscc == record["uscc"])).scalar_one()
        return c.execute(Recognition.__table__.insert().values(
            certificate_no=f"OLD-{programme_id}-{number:05d}", enterprise_id=enterprise_id, programme_id=programme_id,
            tier=profile.tier, jurisdiction_code=profile.jurisdiction, valid_from=valid_from,
            valid_to=add_years(valid_from, profile.validity.years) - timedelta(days=1),
            re_review_due=add_years(valid_from, every) - timedelta(days=1) if every else None, status="active",
        )).inserted_primary_key[0]


def dump(engine) -> dict[str, list]:
    """Every row of every table, for "running twice changes nothing" comparisons."""
    with engine.connect() as c:
        tables = [r[0] for r in c.execute(text("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"))]
        return {t: c.execute(text(f'SELECT * FROM "{t}" ORDER BY 1')).all() for t in tables}


@pytest.fixture
def users(engine):
    add_users(engine)


@pytest.fixture
def hebei_call(engine, clock, users):
    """5 applications through county → city → province, recommended there; clock 2026-03-06 09:00."""
    return through_pipeline(engine, clock, HEBEI, 2026, range(1, 6))


def beijing(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)

