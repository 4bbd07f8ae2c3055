"""`srdi workflow show`: the workflow table as text, JSON and a Graphviz diagram, without a database."""

from __future__ import annotations

import json

from models.workflow import MACHINES, edges
from srdi.cli.main import main


def srdi(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_every_machine_and_action_readably(capsys, tmp_path, monkeypatch):
    database = tmp_path / "srdi.db"
    monkeypatch.setenv("SRDI_DATABASE_URL", f"sqlite:///{database}")
    code, out, err = srdi(capsys, "workflow", "show")
    assert code == 0 and not err
    for m in MACHINES.values():
        assert f"{m.label}（{m.name}，" in out
    assert "recommend" in out and "同意推荐：待审核 → 同意推荐　［reviewer］" in out
    assert "submit" in out and "提交申报：（新建） → 待审核" in out
    assert "资格审查：" in out and "→ （状态不变）" in out
    assert not database.exists()          # the table needs no database


def test_show_one_machine_as_json(capsys):
    code, out, _ = srdi(capsys, "workflow", "show", "--machine", "objection", "--json")
    assert code == 0
    [machine] = json.loads(out)
    assert machine["machine"] == "objection" and machine["table"] == "objection" and machine["logged"] is True
    assert [(a["action"], a["from"], a["to"]) for a in machine["actions"]] == [
        ("record", [], "open"), ("uphold", ["open"], "upheld"), ("reject", ["open"], "rejected")]


def test_dot_draws_one_cluster_per_machine_and_every_declared_move(capsys):
    code, out, _ = srdi(capsys, "workflow", "show", "--dot")
    assert code == 0
    assert out.startswith("digraph workflow {") and out.rstrip().endswith("}")
    assert out.count("subgraph cluster_") == len(MACHINES)
    for move in edges():
        if move.source is None:
            assert f'"{move.machine}.new" -> "{move.machine}.{move.target}"' in out
        elif move.source != move.target or MACHINES[move.machine].actions[move.action].target is not None:
            assert f'"{move.machine}.{move.source}" -> "{move.machine}.{move.target}" [label="{move.action} ' in out


def test_an_unknown_machine_is_one_line_and_exit_2(capsys):
    code, out, err = srdi(capsys, "workflow", "show", "--machine", "nope")
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and "--machine nope 无效" in err and "application" in err
