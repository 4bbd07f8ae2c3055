"""The Prefect flows, for real, in the session's one test server: one task run per step, re-runs are no-ops."""

import json
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from typer.testing import CliRunner

from models.enums import ApplicationStatus
from models.errors import RuleViolation
from srdi.cli.main import app

from .conftest import bj, dump

pytestmark = pytest.mark.slow


def task_runs_of(state, expected: int, timeout: float = 15.0) -> list:
    """The task runs the server recorded for a flow run (recording is asynchronous, so wait a little)."""
    flow_run_id = state.state_details.flow_run_id
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            settled = len(runs) >= expected and all(r.state and r.state.is_final() for r in runs)
            if settled or time.monotonic() > deadline:
                return runs
            time.sleep(0.2)


def test_advance_runs_each_due_step_as_one_task_and_a_second_run_changes_nothing(prefect_harness, world, programmes_dir, clock):
    from flows.advance import DUE_STEPS, advance_flow

    call = world.open("ladder")
    ids = world.apply(call, {"130102": 30, "130104": 30, "130602": 30})
    for app_id in ids[:60]:
        world.decide(app_id)
    clock.set(bj(2026, 3, 21))
    state = advance_flow(return_state=True)
    result = state.result()
    assert result["tasks.review.level_close:close_due_levels"]["calls"][call]["forwarded"] == 60
    assert result["tasks.review.level_close:close_due_levels"]["calls"][call]["escalated"] == 30
    runs = task_runs_of(state, len(DUE_STEPS))
    assert len(runs) == len(DUE_STEPS) < len(ids)                       # a task per step, not per application
    assert {r.state.type.value for r in runs} == {"COMPLETED"}
    before = dump(world.engine)
    advance_flow()
    assert dump(world.engine) == before


def test_close_level_flow_closes_once_and_refuses_without_retrying(prefect_harness, world, programmes_dir, clock):
    from flows.level_close import close_level_flow

    call = world.open("ladder")
    a, b = world.apply(call, {"130102": 1, "130104": 1})
    world.decide(a, "recommend")
    summary = close_level_flow(call, "county", "130102")
    assert (summary["closed"], summary["forwarded"]) == (1, 1) and world.app(a).review_jurisdiction_code == "130100"
    before = dump(world.engine)
    assert close_level_flow(call, "county", "130102")["already_closed"] is True
    assert dump(world.engine) == before
    state = close_level_flow(call, "county", "130104", return_state=True)
    assert state.is_failed()
    with pytest.raises(RuleViolation, match="尚有 1 件未办结"):
        state.result()
    [run] = task_runs_of(state, 1)
    assert run.run_count == 1                                           # a standing refusal is not retried
    world.decide(b, "reject", reason="不符合条件")
    closed = CliRunner().invoke(app, ["pipeline", "close-level", "--call", call, "--level", "county",
                                      "--jurisdiction", "130104", "--json"])
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["closed"] == 1 and world.app(b).status == ApplicationStatus.rejected
