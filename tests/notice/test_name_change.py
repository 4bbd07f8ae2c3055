"""更名备案: Hebei titles must file a change of name within one month, or the title is deemed waived."""

from datetime import date

from sqlalchemy import select

from models import Deadline, Enterprise, NameChange, Recognition
from models.deadline import DeadlineState
from models.name_change import NameChangeStatus
from models.profile import Validity
from models.recognition import RecognitionStatus
from tasks.recognition.name_change import add_months, file_name_change, lapse_unfiled_name_changes, name_change_due, record_name_change

from .conftest import BEIJING, HEBEI, beijing, dump, enterprise_record, legacy_recognition


def uscc(n):
    return enterprise_record(n)["uscc"]


def title(engine, rid):
    with engine.connect() as c:
        return c.execute(select(Recognition).where(Recognition.id == rid)).one()


def test_one_month_is_a_calendar_month_and_days_can_be_working_days():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    due = name_change_due(date(2026, 3, 2), Validity(years=3, name_change_within_months=1))
    assert due == beijing(2026, 4, 2, 23, 59).replace(second=59)
    working = Validity(years=3, name_change_within_days=5, name_change_unit="working_days")
    assert name_change_due(date(2025, 9, 30), working).date() == date(2025, 10, 14)


def test_filing_within_the_month_keeps_the_title_and_takes_the_new_name(engine, clock, users):
    rid = legacy_recognition(engine, HEBEI, 1, date(2025, 6, 1))
    with engine.begin() as c:
        record_name_change(c, uscc(1), "河北新名称科技有限公司", date(2026, 3, 2))
    clock.set(beijing(2026, 4, 2, 20, 0))
    with engine.begin() as c:
        assert file_name_change(c, uscc(1), "河北新名称科技有限公司", date(2026, 3, 2), "hb-clerk") == {"filed": 1, "late": 0, "revoked": 0}
    with engine.connect() as c:
        name = c.execute(select(Enterprise.name).where(Enterprise.uscc == uscc(1))).scalar_one()
        state = c.execute(select(Deadline.state).where(Deadline.kind == "name_change")).scalar_one()
    assert name == "河北新名称科技有限公司" and state == DeadlineState.met
    assert title(engine, rid).status == RecognitionStatus.active


def test_a_late_filing_is_recorded_and_deemed_a_waiver_of_the_title(engine, clock, users):
    rid = legacy_recognition(engine, HEBEI, 2, date(2025, 6, 1))
    with engine.begin() as c:
        result = file_name_change(c, uscc(2), "河北改名二号有限公司", date(2026, 1, 15), "hb-clerk")
    assert result == {"filed": 0, "late": 1, "revoked": 1}
    with engine.connect() as c:
        change = c.execute(select(NameChange)).one()
    assert change.status == NameChangeStatus.late and change.filed_by == "hb-clerk"
    assert "视为自动放弃资格" in title(engine, rid).revoked_reason


def test_no_filing_by_the_deadline_is_a_waiver_and_the_sweep_runs_once(engine, clock, users):
    rid = legacy_recognition(engine, HEBEI, 3, date(2025, 6, 1))
    with engine.begin() as c:
        record_name_change(c, uscc(3), "河北改名三号有限公司", date(2026, 1, 31))   # due 2026-02-28
    with engine.begin() as c:
        assert lapse_unfiled_name_changes(c) == {"name_changes_waived": 1, "name_change_revoked": 1}
    once = dump(engine)
    with engine.begin() as c:
        assert lapse_unfiled_name_changes(c) == {"name_changes_waived": 0, "name_change_revoked": 0}
    assert dump(engine) == once
    assert title(engine, rid).status == RecognitionStatus.revoked


def test_a_programme_without_a_period_opens_no_obligation(engine, clock, users):
    legacy_recognition(engine, BEIJING, 4, date(2025, 6, 1), county="110105")
    with engine.begin() as c:
        enterprise = c.execute(select(Enterprise.uscc).where(Enterprise.jurisdiction_code == "110105")).scalar_one()
        assert record_name_change(c, enterprise, "北京改名有限公司", date(2026, 2, 1)) == []
