"""`srdi scheduler`: the embedded scheduler's jobs, and running one of them now."""

from __future__ import annotations

import typer

from srdi.cli.output import JSON_OPTION, emit, table

app = typer.Typer(help="定时任务：查看任务与下次执行时间，或立即运行某一任务", no_args_is_help=True)


@app.command("jobs")
def jobs_command(as_json: bool = JSON_OPTION) -> None:
    """List the jobs with their next due times (北京时间) and last outcome, soonest first."""
    from srdi import scheduler as embedded

    jobs = embedded.sync_jobs()
    emit(jobs, as_json, lambda rows: table("定时任务", ["任务", "说明", "触发", "下次执行（北京时间）", "上次结果"],
                                            [[j["id"], j["name"], j["trigger"], j["next_run_time"] or "—",
                                              j["last_status"] or "—"] for j in rows]))


@app.command("run")
def run_command(
    job: str = typer.Argument(..., help="任务：pipeline-advance / reminder-sweep / send-outbox / funds-disbursement"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run JOB now, exactly as the scheduler would (recorded as a manual run). Exit 1 unless it succeeded."""
    from srdi import scheduler as embedded

    known = embedded.jobs()
    if job not in known:
        typer.echo(f"错误：没有名为 {job} 的定时任务；应为 {'、'.join(known)} 之一", err=True)
        raise typer.Exit(2)
    run = embedded.run_job(job)

    def render(r: dict) -> None:
        status = {"succeeded": "完成", "partial": "部分受阻", "failed": "失败", "busy": "未运行（另一进程正在运行）"}[r["status"]]
        typer.echo(f"{known[job].name}（{job}）：{status}{'：' + r['error'] if r.get('error') else ''}")

    emit(run, as_json, render)
    if run["status"] != "succeeded":
        raise typer.Exit(1)
