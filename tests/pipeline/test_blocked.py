"""Blast radius: a call that cannot proceed is blocked alone, reported, mailed once, and resumes."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from models import Bureau, LevelWindow, OutgoingMail
from models.operations import StepBlock
from srdi.cli.main import app
from tasks.pipeline.due import DUE_STEPS, run_due_step

from .conftest import bj, level, write_profile

runner = CliRunner()
WINTER = [   # the county closes on 28 December; the city then has 10 working days — in 2027
    level("county", "2026-12-28T17:30:00+08:00"),
    {"level": "municipal", "label": "市级审核", "on_missed": "escalate",
     "deadline": {"kind": "after_event", "event": "level_opens", "days": 10, "unit": "working_days"}},
    level("provincial", "2027-03-31T17:30:00+08:00"),
]


def advance(now) -> dict:
    return {step.ref: run_due_step(step, now) for step in DUE_STEPS}


def _windows(engine, call_id):
    with engine.connect() as c:
        return {(w.level, w.jurisdiction_code): w.closed_at is not None
                for w in c.execute(select(LevelWindow).where(LevelWindow.call_id == call_id))}


def _blocks(engine):
    with engine.connect() as c:
        return c.execute(select(StepBlock)).all()


def _blocked_mails(engine):
    with engine.connect() as c:
        return c.execute(select(OutgoingMail).where(OutgoingMail.kind == "blocked")).all()


def test_one_call_blocked_on_2027_does_not_stop_another(world, engine, clock, programmes_dir, tmp_path, monkeypatch):
    write_profile(programmes_dir, "winter", WINTER)
    with engine.begin() as c:
        c.execute(Bureau.__table__.insert(), [{"name": "河北省工业和信息化厅", "kind": "sme", "jurisdiction_code": "130000",
                                               "email": "zxc@hebei.example.cn"}])
    winter, ladder = world.open("winter"), world.open("ladder")
    [late] = world.apply(winter, {"130102": 1})
    world.decide(late)
    world.apply(ladder, {"130104": 1}, start=50)      # never decided: its county window is overdue
    clock.set(bj(2026, 12, 29))

    result = advance(clock.now())
    levels = result["tasks.review.level_close:close_due_levels"]
    assert "2027" in levels["blocked"][winter] and "法定节假日" in levels["blocked"][winter]
    assert levels["calls"][ladder]["closed"] >= 1                      # the other call moved on
    assert _windows(engine, ladder)[("county", "130104")] is True
    assert _windows(engine, winter) == {("county", "130102"): False}    # rolled back as a whole, nothing half-done
    [block] = _blocks(engine)
    assert (block.subject, block.step, block.cleared_at) == (winter, "close-levels", None)
    [mail] = _blocked_mails(engine)
    assert mail.to_addr == "zxc@hebei.example.cn" and "流程受阻" in mail.subject and "2027" in mail.body_text

    clock.set(bj(2026, 12, 29, 10))
    advance(clock.now())                                                # still blocked: counted, not mailed again
    [block] = _blocks(engine)
    assert block.failures == 2 and len(_blocked_mails(engine)) == 1

    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    [shown] = json.loads(status.stdout)["blocked"]
    assert shown["subject"] == winter and shown["step"] == "close-levels" and "2027" in shown["reason"]

    calendar = tmp_path / "calendar"                                    # the 2027 schedule is published
    calendar.mkdir()
    (calendar / "2027.yaml").write_text("year: 2027\nsource: 国务院办公厅关于2027年部分节假日安排的通知\n"
                                        "holidays: [2027-01-01]\nworkdays: []\n", encoding="utf-8")
    monkeypatch.setenv("SRDI_CALENDAR_DIR", str(calendar))
    assert "blocked" not in advance(clock.now())["tasks.review.level_close:close_due_levels"]
    assert _windows(engine, winter)[("county", "130102")] is True
    [block] = _blocks(engine)
    assert block.cleared_at is not None
    assert json.loads(runner.invoke(app, ["status", "--json"]).stdout)["blocked"] == []


def test_pipeline_advance_reports_the_blocked_call_and_exits_1_after_the_others(
        world, engine, clock, programmes_dir, prefect_harness):
    write_profile(programmes_dir, "winter", WINTER)
    winter, ladder = world.open("winter"), world.open("ladder")
    world.decide(world.apply(winter, {"130102": 1})[0])
    world.apply(ladder, {"130104": 1}, start=50)
    clock.set(bj(2026, 12, 29))
    result = runner.invoke(app, ["pipeline", "advance", "--json"])
    assert result.exit_code == 1
    assert f"受阻：{winter}" in result.stderr and "2027" in result.stderr
    assert json.loads(result.stdout)["tasks.review.level_close:close_due_levels"]["calls"][ladder]["closed"] >= 1
    assert _windows(engine, ladder)[("county", "130104")] is True
