"""`srdi review`: a reviewer's decision, an applicant's resubmission or withdrawal — one domain call each."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Optional

import typer

from models.db import get_engine
from models.enums import ReviewLevel
from srdi.cli.identity import operator
from srdi.cli.output import JSON_OPTION, UsageError, emit
from tasks.reports.labels import status_label
from tasks.review.decisions import Decision, Outcome
from tasks.review.decisions import decide as decide_one
from tasks.review.decisions import resubmit as resubmit_one
from tasks.review.decisions import withdraw as withdraw_one

app = typer.Typer(help="审核：作出决定、重新提交、撤回", no_args_is_help=True)

ACTOR = typer.Option(..., "--as", help="以哪个用户的身份办理（用户名）")
REASON = typer.Option(None, "--reason", help="意见或原因（退回、不予推荐时必填）")
VERSION = typer.Option(None, "--version", help="您看到的版本号；已被他人修改时拒绝")


def _show(outcome: Outcome, as_json: bool) -> None:
    data = {"application_id": outcome.application_id, "ref": outcome.ref, "level": outcome.level,
            "status": outcome.status, "version": outcome.version}
    emit(data, as_json, lambda _: typer.echo(
        f"申报 {outcome.ref}：{ReviewLevel(outcome.level).label}级 {status_label(outcome.status)}（第{outcome.version}版）"))


def _score(value: Optional[str]) -> Optional[Decimal]:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise UsageError(f"--score 的值 {value} 无效，应为数字（最多两位小数）") from None


@app.command("decide")
def decide(
    application: str = typer.Argument(..., help="申报编号或 ID"),
    decision: Decision = typer.Option(..., "--decision", help="recommend（同意推荐）/ return（退回修改）/ reject（不予推荐）"),
    reason: Optional[str] = REASON,
    score: Optional[str] = typer.Option(None, "--score", help="评分（可选，最多两位小数）"),
    override: Optional[str] = typer.Option(None, "--override", help="资格审查结论为“不符合”而仍同意推荐时的推荐理由（此时必填）"),
    version: Optional[int] = VERSION,
    actor: str = ACTOR,
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a reviewer's decision on APPLICATION at its current level."""
    parsed = _score(score)
    actor = operator(actor)
    with get_engine().begin() as connection:
        outcome = decide_one(connection, application, decision, actor, reason=reason, score=parsed,
                             expected_version=version, override=override)
    _show(outcome, as_json)


@app.command("resubmit")
def resubmit(application: str = typer.Argument(..., help="申报编号或 ID"), reason: Optional[str] = REASON,
             version: Optional[int] = VERSION, actor: str = ACTOR, as_json: bool = JSON_OPTION) -> None:
    """The applicant resubmits a returned application to the same level."""
    actor = operator(actor)
    with get_engine().begin() as connection:
        outcome = resubmit_one(connection, application, actor, reason=reason, expected_version=version)
    _show(outcome, as_json)


@app.command("withdraw")
def withdraw(application: str = typer.Argument(..., help="申报编号或 ID"), reason: Optional[str] = REASON,
             version: Optional[int] = VERSION, actor: str = ACTOR, as_json: bool = JSON_OPTION) -> None:
    """The applicant withdraws the application (before the provincial level)."""
    actor = operator(actor)
    with get_engine().begin() as connection:
        outcome = withdraw_one(connection, application, actor, reason=reason, expected_version=version)
    _show(outcome, as_json)
