"""The clerk's commands: sweep by hand, send the queue, see failures, list the scheduler's jobs."""

from __future__ import annotations

import json
from datetime import datetime

from typer.testing import CliRunner

from models.clock import SHANGHAI
from srdi.cli.main import app
from tasks.reminders.deadlines import register_deadlines

runner = CliRunner()


def test_sweep_and_send_from_the_command_line(people, clock, sink, monkeypatch):
    with people.begin() as c:
        register_deadlines(c, [{"key": "level:HB-2025:county:130102", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102",
                                "call_id": "HB-2025"}])
    clock.set(datetime(2025, 10, 4, 9, 0, tzinfo=SHANGHAI))                  # 国庆 holiday
    holiday = runner.invoke(app, ["reminders", "sweep"])
    assert holiday.exit_code == 0 and "2025-10-04 不是法定工作日，不发送提醒" in holiday.output

    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    result = runner.invoke(app, ["reminders", "sweep", "--no-send", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["mails"] == 2
    sent = runner.invoke(app, ["mail", "send-queued"])
    assert sent.exit_code == 0 and "成功 2 封" in sent.output
    outbox = runner.invoke(app, ["mail", "outbox", "--json"])
    assert json.loads(outbox.output) == {"states": {"sent": 2}, "failed": []}


def test_send_queued_says_when_the_server_is_down_and_exits_non_zero(people, clock, smtp_env):
    with people.begin() as c:
        register_deadlines(c, [{"key": "k", "kind": "level_decision", "title": "长安区县级审核推荐",
                                "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI), "jurisdiction_code": "130102"}])
    clock.set(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    runner.invoke(app, ["reminders", "sweep", "--no-send"])
    result = runner.invoke(app, ["mail", "send-queued"])
    assert result.exit_code == 2
    assert "无法连接" in result.output and "邮件保留在发件箱" in result.output


def test_scheduler_jobs_lists_next_fire_times_in_beijing_time(engine, monkeypatch):
    result = runner.invoke(app, ["scheduler", "jobs", "--json"])
    assert result.exit_code == 0, result.output
    jobs = {job["id"]: job for job in json.loads(result.output)}
    assert set(jobs) == {"pipeline-advance", "reminder-sweep", "send-outbox", "funds-disbursement"}
    sweep_at = datetime.fromisoformat(jobs["reminder-sweep"]["next_run_time"])
    assert sweep_at.utcoffset().total_seconds() == 8 * 3600 and sweep_at.strftime("%H:%M") == "09:00"
    again = json.loads(runner.invoke(app, ["scheduler", "jobs", "--json"]).output)
    assert again == json.loads(result.output)                 # listing again changes no schedule


def test_the_sweep_marks_missed_what_it_no_longer_escalates(people, clock, smtp_env):
    from sqlalchemy import select

    from models.deadline import Deadline, DeadlineState
    from tasks.reminders.deadlines import close_deadlines

    spec = {"kind": "level_decision", "title": "长安区县级审核推荐", "jurisdiction_code": "130102"}
    with people.begin() as c:
        register_deadlines(c, [{**spec, "key": "stale", "due_at": datetime(2025, 9, 5, 17, 30, tzinfo=SHANGHAI)},
                               {**spec, "key": "done", "due_at": datetime(2025, 9, 5, 17, 30, tzinfo=SHANGHAI)},
                               {**spec, "key": "late", "due_at": datetime(2025, 10, 14, 17, 30, tzinfo=SHANGHAI)}])
        close_deadlines(c, ["done"])
    clock.set(datetime(2025, 10, 20, 9, 0, tzinfo=SHANGHAI))                 # a Monday
    result = runner.invoke(app, ["reminders", "sweep", "--no-send", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["missed"] == 1 and summary["deadlines"] == 1 and summary["mails"] == 2   # "late" is still escalated
    with people.connect() as c:
        states = dict(c.execute(select(Deadline.key, Deadline.state)).all())
    assert states == {"stale": DeadlineState.missed, "done": DeadlineState.met, "late": DeadlineState.open}
    again = runner.invoke(app, ["reminders", "sweep", "--no-send"])
    assert again.exit_code == 0 and "转为已逾期 0 项" in again.output
