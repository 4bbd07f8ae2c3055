"""`srdi rereview apply`: the bureau records who applies for 复核, from a 名单 file or by code."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from typer.testing import CliRunner

from models import Application, Deadline, Enterprise, Recognition
from models.deadline import DeadlineState
from models.rereview import ReReviewCase
from srdi.cli.main import app, main
from tasks.recognition.rereview import open_rereview

from .conftest import HEBEI, legacy_recognition, make_uscc
from .test_rereview import APPLY_BY

runner = CliRunner()


def _cohort(engine) -> list[str]:
    titles = [legacy_recognition(engine, HEBEI, n, date(2023, 3, 20)) for n in (1, 2, 3)]
    with engine.begin() as c:
        open_rereview(c, HEBEI, 2026, APPLY_BY, username="hb-clerk")
        return c.execute(select(Enterprise.uscc).join(Recognition, Recognition.enterprise_id == Enterprise.id)
                         .where(Recognition.id.in_(titles)).order_by(Recognition.certificate_no)).scalars().all()


def _applied(engine) -> dict:
    with engine.connect() as c:
        return dict(c.execute(select(Enterprise.uscc, Application.call_id).join(ReReviewCase, ReReviewCase.enterprise_id == Enterprise.id)
                              .join(Application, Application.id == ReReviewCase.application_id)).all())


def test_the_listed_enterprises_apply_and_their_apply_by_deadlines_are_met(engine, clock, users, tmp_path):
    first, second, third = _cohort(engine)
    names = tmp_path / "复核申请名单.csv"
    names.write_text(f"序号,统一社会信用代码\n1,{first}\n2,{second.lower()}\n", encoding="utf-8")
    result = runner.invoke(app, ["rereview", "apply", "--programme", HEBEI, "--year", "2026", "--file", str(names), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"call_id": "hebei-provincial-srdi-2026-rereview", "applied": 2}
    assert _applied(engine) == {first: "hebei-provincial-srdi-2026-rereview", second: "hebei-provincial-srdi-2026-rereview"}
    with engine.connect() as c:
        states = sorted(c.execute(select(Deadline.state).where(Deadline.kind == "re_review")).scalars())
    assert states == sorted([DeadlineState.met, DeadlineState.met, DeadlineState.open])

    by_code = runner.invoke(app, ["rereview", "apply", "--programme", HEBEI, "--year", "2026", "--uscc", third])
    assert by_code.exit_code == 0 and "登记复核申请 1 家" in by_code.output
    assert set(_applied(engine)) == {first, second, third}


def test_a_code_not_in_the_cohort_refuses_the_whole_list_in_one_line(engine, clock, users, capsys):
    first, *_ = _cohort(engine)
    stranger = make_uscc(99)
    args = ["rereview", "apply", "--programme", HEBEI, "--year", "2026", "--uscc", first, "--uscc", stranger]
    assert main(args) == 1
    assert f"以下企业不在本次复核名单中（或已申请）：{stranger}" in capsys.readouterr().err
    assert main(["rereview", "apply", "--programme", HEBEI, "--year", "2027", "--uscc", first]) == 1
    assert "没有 2027 年度的复核批次" in capsys.readouterr().err
    assert main(["rereview", "apply", "--programme", HEBEI, "--year", "2026"]) == 2
    assert "--file" in capsys.readouterr().err
    assert main([*args[:-2], "--uscc", "91130102MA0000000X"]) == 1
    assert "校验位错误" in capsys.readouterr().err
    assert _applied(engine) == {}


def test_a_bad_or_repeated_code_in_the_file_is_named_by_its_row(engine, clock, users, capsys, tmp_path):
    first, *_ = _cohort(engine)
    names = tmp_path / "名单.csv"
    names.write_text(f"统一社会信用代码\n{first}\n\n{first}\n123\n", encoding="utf-8")
    assert main(["rereview", "apply", "--programme", HEBEI, "--year", "2026", "--file", str(names)]) == 1
    err = capsys.readouterr().err
    assert f"第4行 统一社会信用代码 {first} 与第2行重复" in err and "第5行 统一社会信用代码 123 应为18位" in err
    assert _applied(engine) == {}
