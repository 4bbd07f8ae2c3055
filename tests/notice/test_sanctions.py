"""禁止申报: false information bans an enterprise for the profile's years and revokes its title."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Enterprise, Recognition, Sanction
from models.errors import Forbidden, RuleViolation
from models.recognition import RecognitionStatus
from models.state_change import StateChange
from tasks.intake.applications import InvalidRecords, create_applications
from tasks.recognition.sanctions import ban_enterprise, banned_until
from tasks.reference.calls import open_call

from .conftest import BEIJING, HEBEI, beijing, enterprise_record, legacy_recognition, make_uscc

CALENDAR_2029 = """\
year: 2029
source: 测试用：假定的2029年节假日安排（国务院办公厅通知发布前的占位）
holidays: [2029-01-01, 2029-02-12, 2029-02-13, 2029-02-14, 2029-02-15, 2029-02-16]
workdays: [2029-02-10]
"""


def beijing_record(n):
    return {"uscc": make_uscc(n, "110105"), "name": f"北京测试企业{n:03d}有限公司", "size": "small",
            "industry_code": "C3484", "jurisdiction_code": "110105"}


@pytest.fixture
def banned(engine, clock, users):
    """Enterprise no. 1 (北京朝阳) held a Beijing title and is banned on 2026-03-02 for false information."""
    title = legacy_recognition(engine, BEIJING, 1, date(2025, 6, 1), county="110105")
    with engine.begin() as c:
        result = ban_enterprise(c, make_uscc(1, "110105"), BEIJING, "申报材料中研发费用专项审计报告系伪造", "bj-clerk")
    return title, result


def apply_in(engine, clock, when):
    clock.set(when)
    with engine.begin() as c:
        call = open_call(c, BEIJING, when.year, opens_at=when, closes_at=when + timedelta(days=20), now=when)
        return create_applications(c, call.id, [beijing_record(1)], "system", when)


def test_the_ban_runs_for_the_profiles_years_and_revokes_the_title(engine, clock, banned):
    title, result = banned
    assert result["banned_until"] == date(2029, 3, 1) and result["revoked"] == 1
    with engine.connect() as c:
        revoked = c.execute(select(Recognition).where(Recognition.id == title)).one()
        sanction = c.execute(select(Sanction)).one()
        assert banned_until(c, [revoked.enterprise_id], on=date(2029, 3, 1)) == {revoked.enterprise_id: date(2029, 3, 1)}
        assert banned_until(c, [revoked.enterprise_id], on=date(2029, 3, 2)) == {}
    assert revoked.status == RecognitionStatus.revoked and "3年内（至2029-03-01）不得申报" in revoked.revoked_reason
    assert (sanction.decided_by, sanction.starts_on) == ("bj-clerk", date(2026, 3, 2))


def test_the_revocation_is_logged_with_the_clerk_and_the_reason(engine, clock, banned):
    title, _ = banned
    with engine.connect() as c:
        log = c.execute(select(StateChange).where(StateChange.machine == "recognition", StateChange.subject_id == title)).all()
    assert [(r.action, r.from_status, r.to_status, r.actor, r.role) for r in log] == [("revoke", "active", "revoked", "bj-clerk", "clerk")]
    assert "伪造" in log[0].reason


def test_a_banned_enterprise_is_refused_on_the_last_banned_day(engine, clock, banned, tmp_path, monkeypatch):
    (tmp_path / "2029.yaml").write_text(CALENDAR_2029, encoding="utf-8")
    monkeypatch.setenv("SRDI_CALENDAR_DIR", str(tmp_path))
    with pytest.raises(InvalidRecords, match="被禁止申报至 2029-03-01"):
        apply_in(engine, clock, beijing(2029, 3, 1, 10))
    with engine.connect() as c:
        assert c.execute(select(Enterprise.banned_until)).scalars().all() == [date(2029, 3, 1)]


def test_the_day_after_the_ban_ends_the_enterprise_may_apply_again(engine, clock, banned, tmp_path, monkeypatch):
    (tmp_path / "2029.yaml").write_text(CALENDAR_2029, encoding="utf-8")
    monkeypatch.setenv("SRDI_CALENDAR_DIR", str(tmp_path))
    assert apply_in(engine, clock, beijing(2029, 3, 2, 10)).created == 1


def test_a_programme_without_a_ban_rule_cannot_ban(engine, clock, users):
    legacy_recognition(engine, HEBEI, 5, date(2025, 6, 1))
    with engine.begin() as c, pytest.raises(RuleViolation, match="未规定禁止申报年限"):
        ban_enterprise(c, enterprise_record(5)["uscc"], HEBEI, "虚报", "hb-clerk")


def test_only_the_programmes_bureau_bans(engine, clock, users):
    legacy_recognition(engine, BEIJING, 1, date(2025, 6, 1), county="110105")
    with engine.begin() as c, pytest.raises(Forbidden):
        ban_enterprise(c, make_uscc(1, "110105"), BEIJING, "虚报", "hb-clerk")


def test_a_title_is_revoked_by_its_recognising_bureau_with_a_reason_and_only_once(engine, clock, users):
    from tasks.recognition.titles import revoke_recognition

    rid = legacy_recognition(engine, HEBEI, 6, date(2025, 6, 1))
    certificate = f"OLD-{HEBEI}-00006"
    for user, reason, error in (("hb-clerk", " ", RuleViolation), ("sjz-clerk", "重大安全生产事故", Forbidden)):
        with engine.begin() as c, pytest.raises(error):
            revoke_recognition(c, certificate, reason, user)
    with engine.begin() as c:
        revoke_recognition(c, certificate, "发生重大安全生产责任事故（第十七条）", "hb-clerk")
    with engine.connect() as c:
        row = c.execute(select(Recognition).where(Recognition.id == rid)).one()
    assert (row.status, row.revoked_by, row.revoked_reason) == (
        RecognitionStatus.revoked, "hb-clerk", "发生重大安全生产责任事故（第十七条）")
    with engine.begin() as c, pytest.raises(RuleViolation, match="不能撤销"):
        revoke_recognition(c, certificate, "再次撤销", "hb-clerk")
