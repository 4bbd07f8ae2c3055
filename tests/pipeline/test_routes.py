"""Route as data: one scenario, three shipped profiles, three different ladders — no route in code."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Application, LevelWindow
from models.enums import ApplicationStatus, ReviewLevel
from tasks.review.level_close import close_due_levels

from .conftest import World

pytestmark = pytest.mark.postgres  # also runs on PostgreSQL when SRDI_TEST_POSTGRES_URL is set

P = ReviewLevel

CASES = {
    # profile: (applicants' counties, expected route, expected desks of the first applicant)
    "hebei-provincial-srdi": (["130102", "130104", "130602"], [P.county, P.municipal, P.provincial], ["130102", "130100", "130000"]),
    "beijing-provincial-srdi": (["110105", "110108", "110101"], [P.county, P.provincial], ["110105", "110000"]),
    "national-little-giant": (["130102", "130104", "130602"], [P.provincial, P.ministry], ["130000", "000000"]),
}


def run_round(world: World, programme: str, counties: list[str]) -> tuple[str, list[int]]:
    """Open a call, take in one applicant per county, and let every desk recommend until the final list."""
    call = world.open(programme, closes_at=world.clock.now() + timedelta(days=3))
    ids = world.apply(call, {county: 1 for county in counties})
    world.clock.advance(timedelta(days=4))
    for _ in range(5):
        pending = [i for i in ids if world.app(i).status == ApplicationStatus.pending]
        if not pending:
            break
        for n, app_id in enumerate(pending):
            world.decide(app_id, "recommend", score=Decimal(80 + n))
        with world.engine.begin() as c:
            close_due_levels(c, world.clock.now())
    return call, ids


@pytest.mark.parametrize("programme", sorted(CASES))
def test_the_same_scenario_climbs_the_ladder_its_profile_names(world, programme):
    counties, route, desks = CASES[programme]
    call, ids = run_round(world, programme, counties)
    first = world.log(ids[0])
    assert [t.to_level for t in first if t.action in ("submit", "forward")] == route
    assert [t.jurisdiction_code for t in first if t.action == "recommend"] == desks
    with world.engine.connect() as c:
        final = c.execute(select(Application.level, Application.status).where(Application.call_id == call)).all()
        windows = c.execute(select(LevelWindow.level, LevelWindow.closed_at).where(LevelWindow.call_id == call)).all()
    assert set(final) == {(route[-1], ApplicationStatus.recommended)}     # waiting for the 公示
    assert {w.level for w in windows} == set(route) and all(w.closed_at for w in windows)
