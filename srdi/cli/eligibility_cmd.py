"""`srdi eligibility`: judge a call's applications by its programme's rules, and explain one verdict."""

from __future__ import annotations

import typer

from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="资格审查：按申报项目的条件逐条判断并说明依据", no_args_is_help=True)

MARK = {True: "✓", False: "✗", None: "?"}
KIND_WORDS = {"exclusion": "不得申报情形", "relaxation": "放宽条件", "bonus": "加分项"}   # ✓ on an exclusion: not excluded


@app.command("run")
def run(call: str = typer.Option(..., "--call", help="申报批次 ID"), as_json: bool = JSON_OPTION) -> None:
    """Judge every application of the call (re-running replaces the verdicts; nothing accumulates)."""
    from models.db import get_engine
    from tasks.eligibility.engine import run_eligibility

    with get_engine().begin() as connection:
        summary = run_eligibility(connection, call)
    classes = "，".join(f"{k}类 {v}" for k, v in summary.by_category.items() if k != "-")
    emit(vars(summary), as_json, lambda _: typer.echo(
        f"批次 {call}：审查 {summary.evaluated} 份，符合 {summary.eligible}，不符合 {summary.ineligible}，"
        f"待核实 {summary.undetermined}" + (f"（{classes}）" if classes else "") + f"；结论 {summary.verdicts} 条"))


@app.command("explain")
def explain(application: str = typer.Argument(..., help="申报编号或申报 ID"), as_json: bool = JSON_OPTION) -> None:
    """Print each rule's verdict for one application, with the figures used."""
    from models.db import get_engine
    from tasks.eligibility.engine import explain as explain_application

    with get_engine().connect() as connection:
        story = explain_application(connection, application)
    emit(story, as_json, _render)


def _render(story: dict) -> None:
    typer.echo(f"{story['application']}  {story['enterprise']}（{story['uscc']}）  批次 {story['call_id']}")
    for line in story["verdicts"]:
        indent = "  " * line["depth"]
        mark = "免" if line["waived"] else MARK[line["passed"]]
        kind = KIND_WORDS.get(line["kind"])
        label = f"{kind}「{line['label']}」" if kind else line["label"]
        note = "（仅记录，不作门槛）" if not line["gating"] and line["kind"] not in KIND_WORDS else ""
        typer.echo(f"{indent}{mark} {label}{note}：{line['message']}")
