"""`srdi reminders`: the daily reminder sweep (每日提醒), by hand."""

from __future__ import annotations

import typer

from srdi.cli.output import JSON_OPTION, emit

app = typer.Typer(help="截止提醒：按法定工作日计划提醒并发送邮件", no_args_is_help=True)


def _print(result: dict) -> None:
    if result.get("skipped"):
        typer.echo(result["skipped"])
        return
    typer.echo(f"{result['today']}：到期事项 {result['deadlines']} 项，新增提醒 {result['reminders']} 条，"
               f"入队邮件 {result['mails']} 封，取消 {result['cancelled']} 封，逾期超过督办期转为已逾期 {result['missed']} 项")
    for key in result["without_recipient"]:
        typer.echo(f"  无收件人（请为责任单位登记邮箱）：{key}")
    for error in result["errors"]:
        typer.echo(f"  未计算：{error}")
    send = result.get("send")
    if send:
        typer.echo(f"发送：成功 {send['sent']} 封，待重发 {send['deferred']} 封，失败 {send['failed']} 封")
        if send["server_unavailable"]:
            typer.echo(f"  {send['server_unavailable']}；邮件保留在发件箱，服务器恢复后自动发送")


@app.command("sweep")
def sweep_command(
    send: bool = typer.Option(True, "--send/--no-send", help="入队后立即发送"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue every reminder due today (nothing on a non-working day), then send the outbox; exit 2 when
    the SMTP server could not be reached (everything stays queued for the next run)."""
    from notifications.sender import send_queued
    from tasks.reminders.sweep import sweep

    result = sweep().as_dict()
    if send and not result["skipped"]:
        result["send"] = send_queued().as_dict()
    emit(result, as_json, _print)
    if (result.get("send") or {}).get("server_unavailable"):
        raise typer.Exit(2)         # the reminders are queued but none could go out: the clerk must know
