"""`srdi demo` end to end on a small round: what a bureau would check in the demo's outcome; and the
demo's safety: it clears only folders it made, writes only into an empty SRDI_DATABASE_URL, and runs
(saying what it skipped) for any number of enterprises."""

from __future__ import annotations

import os
import re
import shlex

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from models.application import Application
from models.db import make_engine
from models.transition import Transition

PASSWORD = "Demo-2026-srdi"


@pytest.fixture(scope="module", autouse=True)
def demo_env(tmp_path_factory):
    """No SRDI_DATABASE_URL unless a test names one; never the repository's var/prefect from a test."""
    mp = pytest.MonkeyPatch()
    mp.delenv("SRDI_DATABASE_URL", raising=False)
    mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if "PREFECT_HOME" not in os.environ:
        mp.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_env):
    base = tmp_path_factory.mktemp("demo")
    from srdi.demo import run_demo

    lines: list[str] = []
    report = run_demo(base / "demo", enterprises=60, echo=lines.append, seed=7)
    assert "SRDI_DATABASE_URL" not in os.environ          # its own database was named only while it ran
    return report, lines


def run_cli(*args: str):
    """`srdi demo ARGS` in this process (the Prefect server of the session is reused)."""
    from srdi.cli.demo_cmd import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def printed_console_command(output: str) -> dict[str, str]:
    """The environment assignments and arguments of the `srdi serve` line the demo printed."""
    line = next(line for line in output.splitlines() if line.rstrip().endswith(" serve"))
    words = shlex.split(line)
    env = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    return {**env, "argv": " ".join(w for w in words if not re.match(r"^[A-Z_]+=", w))}


def counts(url: str) -> tuple[int, int]:
    from models.programme import Call

    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return (c.execute(select(func.count()).select_from(Call)).scalar_one(),
                    c.execute(select(func.count()).select_from(Application)).scalar_one())
    finally:
        engine.dispose()


pytestmark = pytest.mark.slow


def test_the_hebei_notice_recognises_every_listed_enterprise_but_the_upheld_objection(demo):
    report, _ = demo
    h = report.hebei
    counts = report.status[h.call_id]["by_level"]["provincial"]
    assert h.listed >= 2 and h.recognised == h.listed - 1
    assert counts.get("recognised") == h.recognised and counts.get("removed") == 1
    assert report.status[h.call_id]["total"] == h.imported == h.rows - h.invalid_rows


def test_the_county_that_missed_its_deadline_had_its_applications_escalated_with_the_lateness(demo):
    report, _ = demo
    h = report.hebei
    engine = make_engine(report.database_url)
    with engine.connect() as c:
        rows = c.execute(select(Transition.reason).join(Application).where(
            Application.call_id == h.call_id, Application.jurisdiction_code == h.late_county,
            Transition.action == "escalate")).scalars().all()
        at_county = c.execute(select(Application.id).where(
            Application.call_id == h.call_id, Application.jurisdiction_code == h.late_county,
            Application.level == "county")).all()
    engine.dispose()
    assert h.late_county_apps > 0 and len(rows) == h.late_county_apps == h.late_outcome["escalate"]
    assert all("逾期未审核" in reason for reason in rows) and at_county == []


def test_returned_applications_were_resubmitted_and_recommended(demo):
    report, _ = demo
    engine = make_engine(report.database_url)
    with engine.connect() as c:
        for ref in report.hebei.returned:
            actions = c.execute(select(Transition.action).join(Application).where(Application.ref == ref)
                                .order_by(Transition.id)).scalars().all()
            assert actions[:4] == ["submit", "return", "resubmit", "recommend"]
    engine.dispose()
    assert len(report.hebei.returned) == 2


def test_the_failing_enterprise_gets_no_later_tranches(demo):
    report, _ = demo
    beijing = next(p for p in report.funding.plans if "北京" in p["title"])
    payments = {t["tranche"]: t["payments"] for t in beijing["tranches"]}
    assert payments[2] == payments[1] - 1 == payments[3]
    assert len(report.funding.stopped) == 1 and "不合格" in report.funding.stopped[0]
    assert len(list((report.base_dir / "funds").glob("*.xlsx"))) == 6


def test_reminders_arrive_with_chinese_subjects_and_announcements_and_lists_are_written(demo):
    from notifications.smtp_sink import read_messages

    report, _ = demo
    subjects = [m["Subject"] for m in read_messages(report.base_dir / "mail")]
    assert any(s.startswith("【截止提醒】") for s in subjects) and any(s.startswith("【逾期督办】") for s in subjects)
    pages = {p.name for p in (report.base_dir / "announcements").glob("*.html")}
    assert {"notice-1-opening.html", "notice-1-result.html"} <= pages
    exports = list((report.base_dir / "exports").glob("公示名单-*.xlsx"))
    assert exports and report.mails == len(subjects)


def test_the_national_round_starts_from_recognised_hebei_enterprises(demo):
    report, _ = demo
    n = report.national
    assert 0 < n.applied <= report.hebei.recognised
    assert n.eligible + n.ineligible == n.applied
    if n.decisions[("provincial", "recommend")]:
        assert n.recognised == n.listed > 0


# --- safety and small rounds ------------------------------------------------------------------------


def test_a_non_empty_folder_the_demo_did_not_make_is_refused_and_nothing_is_deleted(tmp_path):
    foreign = tmp_path / "项目资料"
    foreign.mkdir()
    (foreign / "申报汇总.xlsx").write_text("bureau data")
    (foreign / "sub").mkdir()
    (foreign / "sub" / "notes.txt").write_text("keep")
    result = run_cli("--dir", str(foreign), "--enterprises", "1")
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.startswith("错误：") and len(message.splitlines()) == 1
    assert str(foreign) in message and "--dir" in message
    assert sorted(p.name for p in foreign.rglob("*")) == ["notes.txt", "sub", "申报汇总.xlsx"]
    assert (foreign / "申报汇总.xlsx").read_text() == "bureau data"


def test_only_a_folder_carrying_the_demo_marker_is_cleared(tmp_path):
    from srdi.demo.setup import MARKER, clear_home

    made = tmp_path / "made"
    made.mkdir()
    (made / MARKER).write_text("")
    (made / "old.eml").write_text("x")
    clear_home(made)
    assert sorted(p.name for p in made.iterdir()) == [MARKER]
    empty, absent = tmp_path / "empty", tmp_path / "a" / "b"
    empty.mkdir()
    clear_home(empty)
    clear_home(absent)
    assert (empty / MARKER).is_file() and (absent / MARKER).is_file()


def test_a_round_of_one_enterprise_completes_says_what_it_skipped_and_its_console_login_works(tmp_path):
    from fastapi.testclient import TestClient

    from srdi.demo.setup import MARKER
    from srdi.web.app import create_app

    target = tmp_path / "demo1"
    result = run_cli("--dir", str(target), "--enterprises", "1")
    assert result.exit_code == 0, result.output
    assert "本轮规模所限" in result.output and "未演示" in result.output
    assert (target / MARKER).is_file() and (target / "srdi.db").is_file()
    assert counts(f"sqlite:///{target / 'srdi.db'}") == (1, 1)       # only the Hebei call: nobody to go national
    command = printed_console_command(result.output)
    assert command["SRDI_DATABASE_URL"] == f"sqlite:///{target / 'srdi.db'}"
    assert command["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false" and command["argv"].endswith("srdi serve")
    users = result.output.split(f"密码 {PASSWORD}：", 1)[1].split("（用时")[0].split()
    assert "hebei" in users and "miit" in users
    engine = make_engine(command["SRDI_DATABASE_URL"])
    try:
        for username in users:
            with TestClient(create_app(engine, key="test")) as client:
                token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
                answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                                     follow_redirects=False)
                assert answer.status_code == 303 and client.get("/", follow_redirects=False).status_code == 200, username
    finally:
        engine.dispose()
    again = run_cli("--dir", str(target), "--enterprises", "1")    # its own folder: cleared and run again
    assert again.exit_code == 0 and counts(f"sqlite:///{target / 'srdi.db'}") == (1, 1)


def test_srdi_database_url_is_honoured_and_a_database_holding_data_is_refused(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'named.db'}"
    monkeypatch.setenv("SRDI_DATABASE_URL", url)
    target = tmp_path / "demo5"
    result = run_cli("--dir", str(target), "--enterprises", "5")
    assert result.exit_code == 0, result.output
    calls, applications = counts(url)
    assert calls >= 1 and applications >= 5 and not (target / "srdi.db").exists()
    assert printed_console_command(result.output)["SRDI_DATABASE_URL"] == url
    workbook = target / "hebei-2026-申报.xlsx"
    assert workbook.is_file()

    refused = run_cli("--dir", str(target), "--enterprises", "5")     # now it holds the demo's round
    assert refused.exit_code == 1
    assert refused.output.startswith("错误：") and len(refused.output.strip().splitlines()) == 1
    assert "已有数据" in refused.output and "申报批次" in refused.output
    assert workbook.is_file() and counts(url) == (calls, applications)


def test_a_database_password_is_not_printed_and_the_console_command_then_relies_on_the_environment(tmp_path):
    from srdi.demo import DemoReport
    from srdi.demo.report import console_command

    command, note = console_command(DemoReport(tmp_path, "postgresql://srdi:s3cret@db.example:5432/srdi", False))
    assert "s3cret" not in command + note and "SRDI_DATABASE_URL=" not in command
    assert command.endswith("srdi serve") and "SRDI_DATABASE_URL" in note
    plain, note = console_command(DemoReport(tmp_path, "postgresql://srdi@db.example:5432/srdi", False))
    assert shlex.split(plain)[0] == "SRDI_DATABASE_URL=postgresql://srdi@db.example:5432/srdi" and note == ""


@pytest.mark.postgres
def test_the_demo_runs_on_an_empty_postgresql_database_named_by_srdi_database_url(pg_url, tmp_path):
    target = tmp_path / "demo-pg"
    result = run_cli("--dir", str(target), "--enterprises", "5")
    assert result.exit_code == 0, result.output
    calls, applications = counts(pg_url)
    assert calls >= 1 and applications >= 5 and not (target / "srdi.db").exists()
    assert "postgresql" in printed_console_command(result.output)["SRDI_DATABASE_URL"]
