"""bench/pipeline.py --compare's contenders play the same round: the set-based floor and SpiffWorkflow agree.

At a tiny size (no timing): both reach the same final status counts from the same plan, every application ends
somewhere final, the floor writes a recognition row per 认定, and the provincial quota cuts exactly as srdi's
ranking does when a province has more candidates than its cap.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from models.db import make_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import plan as round_plan  # noqa: E402
from bench.floor import run_floor  # noqa: E402
from bench.spiff_round import available, run_spiff  # noqa: E402


@pytest.fixture(scope="module")
def routing(template_db):
    engine = make_engine(f"sqlite:///{template_db}")
    with engine.connect() as connection:
        found = round_plan.routing(connection)
    engine.dispose()
    return found


def test_the_plan_is_a_function_of_seed_level_and_application(routing):
    homes, desks = routing
    one, again = round_plan.make_round(7, 300, homes, desks), round_plan.make_round(7, 300, homes, desks)
    assert one.decisions == again.decisions and one.scores == again.scores and one.categories == again.categories
    assert round_plan.make_round(8, 300, homes, desks).decisions != one.decisions
    assert set(one.decisions["ministry"]) <= {"recommend", "reject"}          # the final level never sleeps


def test_the_floor_and_spiff_reach_the_same_final_counts(routing, tmp_path):
    homes, desks = routing
    plan = round_plan.make_round(2026, 200, homes, desks)
    floor = run_floor(plan, tmp_path / "floor.db")
    assert sum(floor["final"].values()) == 200
    assert set(floor["final"]) <= {"recognised", "rejected", "quota_cut", "lapsed"}
    assert floor["recognitions"] == floor["final"]["recognised"] > 150
    assert floor["transitions"] > 200 * 5
    if not available():
        pytest.skip("SpiffWorkflow is not installed (pip install -c requirements.lock -e '.[bench]')")
    spiff = run_spiff(plan, tmp_path / "spiff.db")
    assert spiff["final"] == floor["final"]


def test_the_quota_cuts_as_srdi_ranks(routing, tmp_path, monkeypatch):
    """With the caps lowered to 3 (1 of class c), each province forwards its 3 best to the ministry."""
    homes, desks = routing
    monkeypatch.setattr(round_plan, "QUOTA_MAX", 3)
    monkeypatch.setattr(round_plan, "SUB_CAP_MAX", 1)
    monkeypatch.setattr("bench.floor.QUOTA_MAX", 3)
    monkeypatch.setattr("bench.floor.SUB_CAP_MAX", 1)
    plan = round_plan.make_round(2026, 400, homes, desks)
    floor = run_floor(plan, tmp_path / "floor.db")
    assert floor["final"]["quota_cut"] > 100
    if available():
        assert run_spiff(plan, tmp_path / "spiff.db")["final"] == floor["final"]
