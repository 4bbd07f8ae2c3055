"""The clerk's commands: `srdi notice`, `srdi recognition`, `srdi rereview` (JSON reads, Chinese refusals)."""

import json
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select
from typer.testing import CliRunner

from models import Application
from srdi.cli.main import app

runner = CliRunner()


def cli(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else result.output


def refs(engine, call_id):
    with engine.connect() as c:
        return c.execute(select(Application.ref).where(Application.call_id == call_id).order_by(Application.ref)).scalars().all()


def test_a_notice_from_opening_to_recognition_through_the_cli(engine, clock, hebei_call):
    [opened] = cli("notice", "open", "--call", hebei_call, "--as", "hb-clerk", "--json")
    assert opened["closes_at"] == "2026-03-13T17:30:00+08:00"
    first, *rest = refs(engine, hebei_call)
    objection = cli("notice", "object", first, "--objector", "张某", "--contact", "13800000000",
                    "--grounds", "研发费用不实", "--as", "hb-clerk", "--json")["objection"]
    shown = cli("notice", "show", str(opened["id"]), "--json")
    assert [e["status"] for e in shown["entries"]].count("on_hold") == 1 and shown["objections"][0]["id"] == objection
    cli("notice", "resolve", str(objection), "--outcome", "upheld", "--finding", "经核查研发费用虚报", "--as", "hb-clerk")
    clock.advance(timedelta(days=8))
    assert cli("notice", "close", "--json") == {"notices_closed": 1, "recognised": 4}
    listed = cli("recognition", "list", "--programme", "hebei-provincial-srdi", "--json")
    assert [r["certificate_no"] for r in listed] == [f"HEBEI-PROVINCIAL-SRDI-2026-{i:05d}" for i in range(1, 5)]
    opened = cli("rereview", "open", "--programme", "hebei-provincial-srdi", "--year", "2029", "--closes", "2029-02-01",
                 "--as", "hb-clerk", "--json")
    assert opened["cases_opened"] == 4 and opened["closes_at"].startswith("2029-02-01T23:59:59")


def test_an_objection_after_the_close_is_refused_in_one_chinese_line(engine, clock, hebei_call):
    cli("notice", "open", "--call", hebei_call)
    env = {**os.environ, "SRDI_NOW": "2026-03-13T17:30:00"}
    done = subprocess.run([sys.executable, "-m", "srdi.cli.main", "notice", "object", refs(engine, hebei_call)[0],
                           "--objector", "李某", "--contact", "139", "--grounds", "专利不实", "--as", "hb-clerk"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("错误：《河北省") and "已于 2026年03月13日 17:30（北京时间） 截止，不再受理异议" in done.stderr
    assert "Traceback" not in done.stderr
