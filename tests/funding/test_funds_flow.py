"""The disbursement flow on a real (test) Prefect server: three tasks on whole sets, re-runnable."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models.funding import DisbursementRun, Payment, RunStatus
from tests.funding.conftest import BEIJING

pytestmark = pytest.mark.slow


def test_the_flow_pays_each_recipient_once_however_often_it_runs(engine, approved, tmp_path, prefect_harness):
    from flows.funds import disburse_tranche

    first = disburse_tranche(BEIJING, 1, received_at="2021-08-10T09:00", out_dir=str(tmp_path))
    second = disburse_tranche(BEIJING, 1, out_dir=str(tmp_path))
    assert (first["created"], second["created"], second["payments"]) == (11, 0, 11)
    assert first["allocation_plan_due_at"].isoformat() == "2021-09-09T15:59:59+00:00"
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Payment)).scalar() == 11
        assert c.execute(select(DisbursementRun.status)).scalars().all() == [RunStatus.completed] * 2
