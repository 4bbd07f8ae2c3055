"""`srdi scheduler`: the embedded scheduler's jobs and their next fire times (北京时间)."""

from __future__ import annotations

import typer

from srdi.cli.output import JSON_OPTION, emit, table

app = typer.Typer(help="定时任务：查看内置调度器的任务与下次执行时间", no_args_is_help=True)


@app.command("jobs")
def jobs_command(
    sync: bool = typer.Option(True, "--sync/--no-sync", help="先按当前数据（公示、项目规程）更新任务"),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the stored jobs with their next fire times, soonest first."""
    from srdi import scheduler as embedded

    scheduler = embedded.build_scheduler()
    scheduler.start(paused=True)          # paused: reads and syncs the store, never runs a job
    try:
        if sync:
            embedded.sync_jobs(scheduler)
        jobs = embedded.job_table(scheduler)
    finally:
        scheduler.shutdown(wait=False)
    emit(jobs, as_json, lambda rows: table("定时任务", ["任务", "说明", "触发", "下次执行（北京时间）"],
                                            [[j["id"], j["name"], j["trigger"], j["next_run_time"] or "—"] for j in rows]))
