"""复核: the cohort due in a year re-applies through the re-review route; absent or failed → revoked."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models import Application, Deadline, Enterprise, Recognition
from models.deadline import DeadlineState
from models.errors import Forbidden, RuleViolation
from models.recognition import RecognitionStatus
from models.rereview import ReReviewCase, ReReviewOutcome
from tasks.notice.publication import close_due_notices, open_due_notices
from tasks.recognition.rereview import apply_rereview, open_rereview, rereview_records, settle_rereviews
from tasks.recognition.titles import active_recognitions, expire_recognitions

from .conftest import BEIJING, HEBEI, beijing, dump, legacy_recognition, through_pipeline

APPLY_BY = beijing(2026, 3, 5, 17, 30)


def recognition(engine, rid):
    with engine.connect() as c:
        return c.execute(select(Recognition).where(Recognition.id == rid)).one()


def hebei_cohort(engine):
    """Three Hebei titles granted 2023-03-20: valid to 2026-03-19, re-review due in 2026."""
    return [legacy_recognition(engine, HEBEI, n, date(2023, 3, 20)) for n in (1, 2, 3)]


def apply_for(engine, clock, numbers_applying, reject=()):
    def apply(c, call_id):
        usccs = c.execute(select(Enterprise.uscc).join(Recognition, Recognition.enterprise_id == Enterprise.id).where(
            Recognition.certificate_no.in_([f"OLD-{HEBEI}-{n:05d}" for n in numbers_applying]))).scalars().all()
        apply_rereview(c, call_id, rereview_records(c, usccs), "system", clock.now())
    return through_pipeline(engine, clock, HEBEI, 2026, [], kind="re_review", apply=apply, reject=reject)


def test_opening_creates_a_case_per_title_due_that_year_and_an_apply_by_deadline(engine, clock, users):
    titles = hebei_cohort(engine)
    legacy_recognition(engine, HEBEI, 9, date(2024, 5, 1))                  # due 2027: not in the cohort
    with engine.begin() as c:
        result = open_rereview(c, HEBEI, 2026, APPLY_BY, username="hb-clerk")
    assert result["cases_opened"] == 3 and result["call_id"] == "hebei-provincial-srdi-2026-rereview"
    with engine.connect() as c:
        due = dict(c.execute(select(Deadline.key, Deadline.due_at).where(Deadline.kind == "re_review")).all())
    assert due == {f"rereview:{t}:2026": APPLY_BY for t in titles}
    once = dump(engine)
    with engine.begin() as c:
        assert open_rereview(c, HEBEI, 2026, APPLY_BY)["cases_opened"] == 0
    assert dump(engine) == once


def test_only_the_programmes_own_bureau_opens_a_rereview(engine, clock, users):
    hebei_cohort(engine)
    with engine.begin() as c, pytest.raises(Forbidden):
        open_rereview(c, HEBEI, 2026, APPLY_BY, username="sjz-clerk")


def test_absent_and_failed_are_revoked_and_the_passed_one_is_renewed(engine, clock, users):
    first, second, third = hebei_cohort(engine)
    with engine.begin() as c:
        open_rereview(c, HEBEI, 2026, APPLY_BY, username="hb-clerk")
    call_id = apply_for(engine, clock, [1, 2], reject=[2])                   # no. 3 never applies
    with engine.connect() as c:
        levels = set(c.execute(select(Application.level).where(Application.call_id == call_id)).scalars())
    assert levels == {"provincial"}                                          # the profile's re-review route
    with engine.begin() as c:
        assert settle_rereviews(c) == {"rereview_absent": 1, "rereview_failed": 1, "rereview_revoked": 2}
    assert recognition(engine, third).status == RecognitionStatus.revoked
    assert "未在2026年03月05日 17:30前申请复核" in recognition(engine, third).revoked_reason
    assert "复核不合格（不予推荐）" in recognition(engine, second).revoked_reason
    with engine.begin() as c:
        open_due_notices(c)
    clock.advance(timedelta(days=10))
    with engine.begin() as c:
        assert close_due_notices(c)["recognised"] == 1
    with engine.connect() as c:
        renewed = c.execute(select(Recognition).where(Recognition.renews_id == first)).one()
        case = c.execute(select(ReReviewCase).where(ReReviewCase.recognition_id == first)).one()
    assert (renewed.valid_from, renewed.valid_to) == (date(2026, 3, 20), date(2029, 3, 19))
    assert case.outcome == ReReviewOutcome.passed and case.renewed_recognition_id == renewed.id
    with engine.connect() as c:
        on_day = [r["id"] for r in active_recognitions(c, "provincial_srdi", on=date(2026, 3, 19))]
        next_day = [r["id"] for r in active_recognitions(c, "provincial_srdi", on=date(2026, 3, 20))]
    assert on_day == [first] and next_day == [renewed.id]


def test_settling_twice_changes_nothing(engine, clock, users):
    hebei_cohort(engine)
    with engine.begin() as c:
        open_rereview(c, HEBEI, 2026, APPLY_BY, username="hb-clerk")
    clock.set(APPLY_BY + timedelta(minutes=1))
    with engine.begin() as c:
        settle_rereviews(c)
        expire_recognitions(c)
    once = dump(engine)
    with engine.begin() as c:
        assert settle_rereviews(c) == {"rereview_absent": 0, "rereview_failed": 0, "rereview_revoked": 0}
        assert expire_recognitions(c) == {"recognitions_expired": 0}
    assert dump(engine) == once


def test_no_application_after_the_apply_by_deadline(engine, clock, users):
    hebei_cohort(engine)
    with engine.begin() as c:
        open_rereview(c, HEBEI, 2026, APPLY_BY, username="hb-clerk")
    clock.set(APPLY_BY + timedelta(minutes=1))
    with engine.begin() as c, pytest.raises(RuleViolation, match="截止申报"):
        enterprise = c.execute(select(Enterprise.uscc).join(Recognition, Recognition.enterprise_id == Enterprise.id)).scalars().first()
        apply_rereview(c, "hebei-provincial-srdi-2026-rereview", rereview_records(c, [enterprise]), "system")


def test_a_yearly_review_within_the_validity_moves_the_next_review_and_absence_does_not_revoke(engine, clock, users):
    # 北京: valid 3 years, 复评 every year, consequences of not applying unstated (missing_revokes: false).
    kept = legacy_recognition(engine, BEIJING, 1, date(2025, 3, 20), county="110105")
    absent = legacy_recognition(engine, BEIJING, 2, date(2025, 3, 20), county="110108")
    with engine.begin() as c:
        open_rereview(c, BEIJING, 2026, APPLY_BY, username="bj-clerk")

    def apply(c, call_id):
        enterprise = c.execute(select(Enterprise.uscc).join(Recognition, Recognition.enterprise_id == Enterprise.id)
                               .where(Recognition.id == kept)).scalar_one()
        apply_rereview(c, call_id, rereview_records(c, [enterprise]), "system", clock.now())

    through_pipeline(engine, clock, BEIJING, 2026, [], kind="re_review", apply=apply)
    with engine.begin() as c:
        assert settle_rereviews(c)["rereview_revoked"] == 0
        open_due_notices(c)
    clock.advance(timedelta(days=10))
    with engine.begin() as c:
        close_due_notices(c)
        deadline = c.execute(select(Deadline.state).where(Deadline.key == f"rereview:{kept}:2027")).scalar_one()
    assert recognition(engine, kept).re_review_due == date(2027, 3, 19)
    assert recognition(engine, kept).status == recognition(engine, absent).status == RecognitionStatus.active
    assert deadline == DeadlineState.open
    with engine.connect() as c:
        assert c.execute(select(Recognition.id).where(Recognition.renews_id.is_not(None))).first() is None
