"""`srdi funds work-arrangement` and `work-arrangement-deem`: a bureau records the 工作安排 函报."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from models import WorkArrangement
from models.funding_plan import WorkArrangementStatus
from srdi.cli.main import app, main
from tests.funding.conftest import BEIJING, TIANJIN

runner = CliRunner()


def _statuses(engine) -> dict:
    with engine.connect() as c:
        return dict(c.execute(select(WorkArrangement.province_code, WorkArrangement.status)).all())


def test_work_arrangements_are_recorded_and_the_silent_provinces_deemed_after_the_cutoff(engine, clock, capsys):
    recorded = runner.invoke(app, ["funds", "work-arrangement", "--province", BEIJING, "--year", "2021", "--amount", "600",
                                   "--sealed", "--letter-ref", "京经信函〔2021〕12号", "--at", "2021-05-11T16:00", "--json"])
    assert recorded.exit_code == 0, recorded.output
    assert json.loads(recorded.output)["status"] == "submitted"
    late = runner.invoke(app, ["funds", "work-arrangement", "--province", "130000", "--year", "2021", "--amount", "500",
                               "--sealed", "--at", "2021-05-12T08:00"])
    assert late.exit_code == 0 and "视同不申请公共服务体系奖补资金" in late.output

    assert main(["funds", "work-arrangement-deem", "--year", "2021", "--province", BEIJING, "--province", TIANJIN,
                 "--at", "2021-05-12T07:59"]) == 1
    assert "截止时间 2021-05-12 08:00 未到" in capsys.readouterr().err
    deemed = runner.invoke(app, ["funds", "work-arrangement-deem", "--year", "2021", "--province", BEIJING,
                                 "--province", TIANJIN, "--province", "130000", "--at", "2021-05-12T09:00", "--json"])
    assert deemed.exit_code == 0, deemed.output
    assert json.loads(deemed.output) == {"year": 2021, "deemed": 1}
    assert _statuses(engine) == {BEIJING: WorkArrangementStatus.submitted, TIANJIN: WorkArrangementStatus.deemed_not_applied,
                                 "130000": WorkArrangementStatus.deemed_not_applied}
    with engine.connect() as c:
        letter = c.execute(select(WorkArrangement.letter_ref).where(WorkArrangement.province_code == BEIJING)).scalar()
    assert letter == "京经信函〔2021〕12号"


def test_an_unsealed_letter_a_second_letter_and_an_unknown_province_are_refused_in_one_line(engine, clock, capsys):
    base = ["funds", "work-arrangement", "--year", "2021", "--amount", "600", "--at", "2021-05-10T10:00"]
    assert main([*base, "--province", BEIJING, "--unsealed"]) == 1
    assert "工作安排须加盖公章后函报" in capsys.readouterr().err
    assert main([*base, "--province", BEIJING, "--sealed"]) == 0
    capsys.readouterr()
    assert main([*base, "--province", BEIJING, "--sealed"]) == 1
    assert "110000 2021 年的工作安排已登记" in capsys.readouterr().err
    assert main([*base, "--province", "130102", "--sealed"]) == 1
    assert "省级行政区划代码 130102 不存在" in capsys.readouterr().err
    assert _statuses(engine) == {BEIJING: WorkArrangementStatus.submitted}
