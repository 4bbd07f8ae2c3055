"""Reviewers deciding the same application at once, on a real database file/server: exactly one succeeds."""

import threading

import pytest
from sqlalchemy import func, select

from models import Transition
from models.enums import Role
from models.errors import Conflict
from tasks.review.decisions import decide

pytestmark = pytest.mark.postgres  # a SQLite file, and PostgreSQL when SRDI_TEST_POSTGRES_URL is set


def _race(engine, app_id, actors, decisions, expected_version=None):
    barrier = threading.Barrier(len(actors))
    results = []

    def act(actor, decision):
        barrier.wait()
        try:
            with engine.begin() as c:
                decide(c, app_id, decision, actor, reason="意见", expected_version=expected_version)
            results.append(("ok", actor))
        except Conflict as exc:
            results.append(("conflict", str(exc)))

    threads = [threading.Thread(target=act, args=pair) for pair in zip(actors, decisions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _colleagues(world, code, n):
    names = [world.reviewer(code)]
    from models import User
    with world.engine.begin() as c:
        extra = [f"reviewer{i}-{code}" for i in range(2, n + 1)]
        c.execute(User.__table__.insert(), [{"username": u, "display_name": u, "role": Role.reviewer,
                                             "jurisdiction_code": code, "active": True} for u in extra])
    return names + extra


@pytest.mark.parametrize("expected_version", [1, None], ids=["both-saw-version-1", "no-version-given"])
def test_of_reviewers_deciding_at_once_exactly_one_succeeds_and_the_others_get_a_conflict(world, programmes_dir, engine, expected_version):
    call = world.open("ladder")
    ids = world.apply(call, {"130102": 5})
    reviewers = _colleagues(world, "130102", 4)
    for app_id in ids:
        results = _race(engine, app_id, reviewers, ["recommend", "reject", "return", "recommend"], expected_version)
        assert sorted(kind for kind, _ in results) == ["conflict", "conflict", "conflict", "ok"]
        assert all("您的决定未保存" in text or "请刷新后重试" in text for kind, text in results if kind == "conflict")
        winner = next(actor for kind, actor in results if kind == "ok")
        log = world.log(app_id)
        assert [t.actor for t in log] == ["system", winner] and world.app(app_id).version == 2
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Transition)).scalar() == 10
