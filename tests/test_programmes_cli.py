"""`srdi programmes list/show/check`: what an administrator sees before a profile goes live."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from models.settings import settings
from srdi.cli.main import app

runner = CliRunner()


def write_variant(tmp_path: Path, change, name: str = "national-little-giant.yaml") -> Path:
    data = yaml.safe_load((settings().programmes_dir / "national-little-giant.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_list_json_names_every_shipped_programme_with_its_route():
    result = runner.invoke(app, ["programmes", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert rows["national-little-giant"]["documents"] == ["工信厅企业函〔2021〕79号"]
    assert rows["beijing-provincial-srdi"]["route"] == ["county", "provincial"]
    assert rows["qinghai-provincial-srdi"]["notice"].startswith("5个自然日")


def test_show_json_gives_the_79hao_quota_and_ban():
    result = runner.invoke(app, ["programmes", "show", "national-little-giant", "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.stdout)
    quota = profile["route"][0]["quota"]
    assert quota["max"] == 200 and quota["sub_caps"][0]["max"] == 10
    assert profile["ban"]["years"] == 3 and profile["validity"]["years"] == 3


def test_show_text_lists_the_deadline_and_rules_in_chinese():
    result = runner.invoke(app, ["programmes", "show", "sichuan-key-little-giant-batch2"])
    assert result.exit_code == 0, result.output
    assert "每年 07-12 23:59:59（含）" in result.stdout
    assert "[E5]" in result.stdout and "〔仅记录〕" in result.stdout


def test_show_unknown_programme_exits_non_zero_with_one_line():
    result = runner.invoke(app, ["programmes", "show", "no-such-programme"])
    assert result.exit_code == 1
    assert "未找到项目 'no-such-programme'" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_check_accepts_a_shipped_profile():
    path = settings().programmes_dir / "hebei-provincial-srdi.yaml"
    result = runner.invoke(app, ["programmes", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"✓ {path}: hebei-provincial-srdi OK"


def test_check_refuses_unknown_field_naming_file_and_field(tmp_path):
    path = write_variant(tmp_path, lambda d: d["notice"].update(publsher="ministry"))
    result = runner.invoke(app, ["programmes", "check", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0] and "notice.publsher" in lines[0] and "未知字段" in lines[0]


def test_check_refuses_negative_notice_length_naming_file_and_field(tmp_path):
    path = write_variant(tmp_path, lambda d: d["notice"].update(length=-5))
    result = runner.invoke(app, ["programmes", "check", str(path), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert str(path) in report["error"] and "notice.length" in report["error"] and "-5" in report["error"]


def test_check_refuses_an_unknown_metric(tmp_path):
    def change(d):
        d["eligibility"]["rule"]["items"][2]["bands"][0]["rule"]["metric"] = "rd_intensity"
    path = write_variant(tmp_path, change)
    result = runner.invoke(app, ["programmes", "check", str(path)])
    assert result.exit_code == 1
    assert "eligibility.rule.items.2.bands.0.rule.metric" in result.stderr and "未知指标 'rd_intensity'" in result.stderr


def test_check_refuses_an_id_that_differs_from_the_file_name(tmp_path):
    path = write_variant(tmp_path, lambda d: None, name="little-giant.yaml")
    result = runner.invoke(app, ["programmes", "check", str(path)])
    assert result.exit_code == 1 and "字段 id" in result.stderr


def test_installed_command_prints_one_line_and_no_traceback(tmp_path):
    path = write_variant(tmp_path, lambda d: d["route"][0]["deadline"].update(month_day="7-12"))
    srdi = Path(sys.executable).with_name("srdi")
    done = subprocess.run([str(srdi), "programmes", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "route.0.deadline.month_day" in done.stderr and "'7-12'" in done.stderr
