"""The clerk's commands: open a call, decide, see the status and an application's timeline."""

import json
from datetime import datetime

from typer.testing import CliRunner

from models.enums import ApplicationStatus
from models.errors import Forbidden, RuleViolation
from srdi.cli.main import app

from .conftest import bj

runner = CliRunner()


def srdi(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_open_decide_status_and_timeline_from_the_command_line(world, engine, clock):
    opened = srdi("call", "open", "--programme", "hebei-provincial-srdi", "--year", 2026,
                  "--opens-at", "2026-03-01T08:00", "--closes-at", "2026-03-06T17:30", "--json")
    assert opened.exit_code == 0, opened.output
    call = json.loads(opened.stdout)
    assert call["id"] == "hebei-provincial-srdi-2026" and datetime.fromisoformat(call["closes_at"]) == bj(2026, 3, 6, 17, 30)
    first, second = world.apply(call["id"], {"130102": 2})
    ref = world.app(first).ref
    reviewer = world.reviewer("130102")
    decided = srdi("review", "decide", ref, "--decision", "recommend", "--score", "92.5", "--reason", "材料齐全",
                   "--as", reviewer, "--json")
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.stdout)["status"] == "recommended"
    returned = srdi("review", "decide", second, "--decision", "return", "--reason", "缺审计报告", "--as", reviewer)
    assert "区县级 退回修改（第2版）" in returned.stdout
    refused = srdi("review", "decide", ref, "--decision", "reject", "--reason", "x", "--as", world.reviewer("130602"))
    assert refused.exit_code != 0 and isinstance(refused.exception, Forbidden)
    resubmitted = srdi("review", "resubmit", second, "--as", world.applicant(second), "--json")
    assert json.loads(resubmitted.stdout)["status"] == ApplicationStatus.pending
    missing = srdi("review", "decide", second, "--decision", "reject", "--as", reviewer)
    assert isinstance(missing.exception, RuleViolation) and "须写明原因" in str(missing.exception)

    status = json.loads(srdi("status", "--call", call["id"], "--json").stdout)
    assert status["total"] == 2 and status["by_level"] == {"county": {"recommended": 1, "pending": 1}}
    assert status["windows"][0]["jurisdiction_name"] == "长安区" and status["route"] == ["county", "municipal", "provincial"]
    assert json.loads(srdi("status", "--call", call["id"], "--jurisdiction", "130600", "--json").stdout)["total"] == 0

    shown = srdi("application", "show", ref)
    assert shown.exit_code == 0, shown.output
    assert "2026-03-02 09:00:00" in shown.stdout and "同意推荐" in shown.stdout and "材料齐全" in shown.stdout
    events = json.loads(srdi("application", "show", ref, "--json").stdout)["events"]
    assert [e["action"] for e in events] == ["submit", "recommend"] and events[1]["at"].endswith("+08:00")


def test_advance_closes_what_is_due_and_a_rerun_closes_nothing(world, programmes_dir, clock, prefect_harness):
    call = world.open("ladder")
    [app_id] = world.apply(call, {"130102": 1})
    world.decide(app_id)
    clock.set(bj(2026, 3, 21))
    result = srdi("pipeline", "advance", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tasks.review.level_close:close_due_levels"]["closed"] == 1
    assert world.app(app_id).review_jurisdiction_code == "130100"
    again = json.loads(srdi("pipeline", "advance", "--json").stdout)
    assert again["tasks.review.level_close:close_due_levels"]["closed"] == 0
