"""`srdi application list`: the console's filters, sort and pages on the command line, with --json."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from srdi.cli.main import app
from tests.web.conftest import ENTERPRISES

runner = CliRunner()


def test_list_json_filters_sorts_and_pages(world):
    result = runner.invoke(app, ["application", "list", "--call", world.call_id, "--jurisdiction", "130100", "--sort", "name",
                                 "--dir", "desc", "--limit", "2", "--page", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    in_city = sorted((n for code, n in ENTERPRISES if code in ("130102", "130104")), reverse=True)
    assert data["total"] == 5 and data["pages"] == 3 and data["page"] == 2
    assert [r["enterprise_name"] for r in data["items"]] == in_city[2:4]
    assert all(r["status"] == "pending" and r["deadline_at"].startswith("2026-03-16") for r in data["items"])


def test_list_as_a_user_and_search(world):
    result = runner.invoke(app, ["application", "list", "--as", "jingxiu", "--json"])
    assert {r["jurisdiction_code"] for r in json.loads(result.stdout)["items"]} == {"130602"}
    result = runner.invoke(app, ["application", "list", "--q", world.uscc["桥西工业软件有限公司"], "--status", "pending"])
    assert result.exit_code == 0 and "申报列表（共 1 件，第 1 / 1 页）" in result.stdout


def test_a_bad_option_is_refused_in_chinese(world):
    result = runner.invoke(app, ["application", "list", "--sort", "password"])
    assert result.exit_code == 2 and "--sort password 无效" in result.output
