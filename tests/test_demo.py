"""`srdi demo` end to end on a small round: what a bureau would check in the demo's outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.application import Application
from models.db import make_engine
from models.transition import Transition


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("demo")
    mp.setenv("SRDI_DATABASE_URL", "sqlite://")          # restored afterwards; run_demo points it at base
    mp.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if "PREFECT_HOME" not in __import__("os").environ:      # never the repository's var/prefect from a test
        mp.setenv("PREFECT_HOME", str(base / "prefect"))
    from srdi.demo import run_demo

    lines: list[str] = []
    report = run_demo(base / "demo", enterprises=60, echo=lines.append, seed=7)
    yield report, lines
    mp.undo()


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
