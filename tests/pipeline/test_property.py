"""Random sequences of decisions, resubmissions, withdrawals, passing time and level closes never
reach an illegal state (hypothesis)."""

import shutil
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import Application, LevelWindow, Transition, User
from models.db import make_engine
from models.enums import ApplicationStatus, ReviewLevel, Role
from models.errors import SrdiError
from tasks.reference.routing import Tree
from tasks.review.decisions import decide, resubmit, withdraw
from tasks.review.level_close import close_due_levels

from .conftest import World, bj, record

HOMES = ["130102", "130102", "130602"]
DESKS = ["130102", "130602", "130100", "130600", "130000"]
ROUTE = [ReviewLevel.county, ReviewLevel.municipal, ReviewLevel.provincial]

app_index = st.integers(0, len(HOMES) - 1)
operations = st.lists(st.one_of(
    st.tuples(st.just("decide"), app_index, st.sampled_from(["recommend", "return", "reject"]),
              st.sampled_from(["desk", "desk", "desk", "city", "other", "applicant"]), st.booleans()),
    st.tuples(st.just("resubmit"), app_index, st.sampled_from(["own", "own", "other"])),
    st.tuples(st.just("withdraw"), app_index, st.sampled_from(["own", "other"])),
    st.tuples(st.just("time"), st.integers(0, 25)),
    st.tuples(st.just("close"),),
), max_size=30)


def _state(engine):
    with engine.connect() as c:
        apps = {r.id: r for r in c.execute(select(Application))}
        log = c.execute(select(Transition).order_by(Transition.id)).all()
        windows = {(w.level, w.jurisdiction_code): w for w in c.execute(select(LevelWindow))}
    return apps, log, windows


def _check_invariants(before, after, tree):
    (apps0, log0, _), (apps, log, windows) = before, after
    assert log[: len(log0)] == log0                                    # the log only grows
    for app_id, app in apps.items():
        own = [t for t in log if t.application_id == app_id]
        old = apps0.get(app_id)
        assert app.version == len(own)                                 # one transition per version
        assert (own[-1].to_level, own[-1].to_status) == (app.level, app.status)
        if old is not None:
            assert app.version >= old.version
            if ApplicationStatus(old.status).terminal:                 # terminal stays terminal
                assert (app.status, app.level, app.version) == (old.status, old.level, old.version)
        assert app.level in ROUTE
        assert app.review_jurisdiction_code == tree.reviewer_at(app.jurisdiction_code, ReviewLevel(app.level))
        if not ApplicationStatus(app.status).terminal:
            window = windows[(app.level, app.review_jurisdiction_code)]
            if window.closed_at is not None:                           # only the final list waits in a closed window
                assert (app.level, app.status) == (ReviewLevel.provincial, ApplicationStatus.recommended)
        if app.status == ApplicationStatus.pending and app.level != ReviewLevel.county:
            below = ROUTE[ROUTE.index(app.level) - 1]
            assert windows[(below, tree.reviewer_at(app.jurisdiction_code, below))].closed_at


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_decision_sequences_never_reach_an_illegal_state(ops, template_db, tmp_path_factory, programmes_dir, clock):
    path = tmp_path_factory.mktemp("prop") / "srdi.db"
    shutil.copy(template_db, path)
    engine = make_engine(f"sqlite:///{path}")
    clock.set(bj(2026, 3, 2, 9))
    try:
        world = World(engine, clock)
        call = world.open("ladder")
        ids = world.take_in(call, [record(n, home) for n, home in enumerate(HOMES, start=1)])
        apps = list(ids.values())
        with engine.begin() as c:
            c.execute(User.__table__.insert(), [{"username": f"r{code}", "display_name": code, "role": Role.reviewer,
                                                 "jurisdiction_code": code, "active": True} for code in DESKS])
        applicants = [world.applicant(app_id) for app_id in apps]
        with engine.connect() as c:
            tree = Tree.load(c)
        for op in ops:
            before = _state(engine)
            try:
                with engine.begin() as c:
                    _run(c, op, apps, applicants, before[0], clock, tree)
            except SrdiError:
                assert _state(engine) == before                        # a refusal changes nothing
                continue
            _check_invariants(before, _state(engine), tree)
    finally:
        engine.dispose()


def _run(c, op, apps, applicants, rows, clock, tree):
    kind = op[0]
    if kind == "time":
        clock.advance(timedelta(days=op[1]))
    elif kind == "close":
        close_due_levels(c, clock.now())
    elif kind == "decide":
        _, i, decision, who, with_reason = op
        app = rows[apps[i]]
        desk = app.review_jurisdiction_code
        actor = {"desk": f"r{desk}", "city": f"r{tree.reviewer_at(app.jurisdiction_code, ReviewLevel.municipal)}",
                 "other": "r130602" if desk != "130602" else "r130102", "applicant": applicants[i]}[who]
        decide(c, apps[i], decision, actor, reason="意见" if with_reason else None)
    else:
        _, i, who = op
        actor = applicants[i] if who == "own" else applicants[(i + 1) % len(apps)]
        (resubmit if kind == "resubmit" else withdraw)(c, apps[i], actor)
