"""`srdi programmes`: the programme profiles (项目规则) in programmes/ — list, show, check."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import typer

from models.enums import ReviewLevel
from models.errors import SrdiError
from models.profile import DeadlineRule, NoticeRule, Profile, ProfileError
from models.rules import Bands, Criterion, EligibilityRules, Group
from srdi.cli.output import JSON_OPTION, emit, table
from tasks.reference.programmes import get_profile, load_all, load_file

app = typer.Typer(help="项目规则文件（programmes/）：列出、查看、校验", no_args_is_help=True)

UNIT = {"working_days": "个工作日", "natural_days": "个自然日"}
EVENT = {"call_opens": "申报开始", "call_closes": "申报截止", "level_opens": "本级开始受理"}
YEARS = {
    "last": "上年", "each_last_2": "近两年每年", "sum_last_2": "近两年合计", "aggregate_last_2": "近两年合计之比",
    "avg_last_2": "近两年平均", "each_last_3": "近三年每年", "none": "",
}
GROUP = {"all_of": "全部满足", "any_of": "任一满足"}


def _fail(message: str) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(1)


def deadline_text(rule: DeadlineRule) -> str:
    cut = rule.cutoff.strftime("%H:%M:%S")
    edge = "前（不含）" if rule.exclusive else "（含）"
    if rule.kind == "fixed":
        text = f"{rule.at.isoformat()}{edge}"
    elif rule.kind == "annual":
        text = f"每年 {rule.month_day} {cut}{edge}"
    else:
        text = f"{EVENT[rule.event]}后{rule.days}{UNIT[rule.unit]}，{cut}{edge}"
    return text + ("（假设）" if rule.assumed else "")


def notice_text(notice: NoticeRule | None) -> str:
    if notice is None:
        return "—"
    first = "首日计入" if notice.opening_day_counts else "首日不计"
    return f"{notice.length}{UNIT[notice.unit]}（{first}，{notice.publisher.label}发布）" + ("（假设）" if notice.assumed else "")


def rule_lines(node, depth: int = 0) -> Iterator[str]:
    pad = "  " * depth
    flag = "" if getattr(node, "gating", True) else "〔仅记录〕"
    if isinstance(node, Criterion):
        value = "" if node.value is None else f" {node.value}"
        years = f"（{YEARS[node.years]}）" if node.years != "none" else ""
        yield f"{pad}- [{node.id}] {node.label}：{node.metric} {node.op}{value}{years}{flag}"
    elif isinstance(node, Group):
        how = f"至少 {node.k} 项" if node.type == "k_of_n" else GROUP[node.type]
        yield f"{pad}* [{node.id}] {node.label}（{how}）{flag}"
        for item in node.items:
            yield from rule_lines(item, depth + 1)
    elif isinstance(node, Bands):
        yield f"{pad}* [{node.id}] {node.label}（按 {node.metric} {YEARS[node.years]} 分档）"
        for band in node.bands:
            span = f"[{band.min if band.min is not None else '-∞'}, {band.max if band.max is not None else '+∞'})"
            yield f"{pad}  档 {band.id} {span} {band.label}"
            yield from rule_lines(band.rule, depth + 2)


def eligibility_lines(rules: EligibilityRules) -> Iterator[str]:
    yield from rule_lines(rules.rule)
    for ex in rules.exclusions:
        yield f"排除 [{ex.id}] {ex.label}"
    for bonus in rules.bonus:
        yield f"加分 [{bonus.id}] {bonus.label}：+{bonus.points}"
    for relax in rules.relaxations:
        limit = f"，至多 {relax.max_waived} 项" if relax.max_waived else ""
        batches = f"，仅第 {relax.call_batches} 批" if relax.call_batches else ""
        yield f"放宽 [{relax.id}] {relax.label}：免 {', '.join(relax.waives)}{limit}{batches}"


def summary(profile: Profile) -> dict:
    return {
        "id": profile.id,
        "name": profile.name,
        "tier": profile.tier,
        "jurisdiction": profile.jurisdiction,
        "documents": [doc.number for doc in profile.documents],
        "route": [step.level.value for step in profile.route],
        "notice": notice_text(profile.notice),
    }


@app.command("list")
def list_programmes(as_json: bool = JSON_OPTION) -> None:
    """List the programmes in programmes/."""
    try:
        rows = [summary(p) for p in load_all().values()]
    except SrdiError as exc:
        _fail(str(exc))
    emit(rows, as_json, lambda data: table(
        "项目规则", ["编号", "文号", "审核路径", "公示"],
        [[r["id"], "；".join(r["documents"]), " → ".join(ReviewLevel(x).label for x in r["route"]), r["notice"]] for r in data],
    ))


def _render(profile: Profile) -> None:
    echo = typer.echo
    echo(f"{profile.name}（{profile.id}，{profile.tier}，辖区 {profile.jurisdiction}）")
    for doc in profile.documents:
        where = f" [{doc.seed} L{doc.lines}]" if doc.seed else ""
        echo(f"  依据：{doc.number} {doc.title}{where}")
    if profile.applicant_deadline:
        echo(f"企业申报截止：{deadline_text(profile.applicant_deadline)}")
    echo("审核路径：")
    for step in profile.route:
        flags = (("可选", step.optional), ("第三方评价", step.third_party_evaluation), ("会同财政", step.co_sign_finance))
        extras = [x for x, on in flags if on]
        echo(f"  {step.level.label}｜{step.label}{'（' + '、'.join(extras) + '）' if extras else ''}")
        echo(f"    截止：{deadline_text(step.deadline)}；逾期：{'视同未报' if step.on_missed == 'lapse' else '提示上级'}")
        if step.quota:
            caps = "；".join(f"其中{c.label}≤{c.max}" for c in step.quota.sub_caps)
            cap = '≤' + str(step.quota.max) if step.quota.max is not None else '按辖区'
            echo(f"    名额：{cap}{('；' + caps) if caps else ''}{'（建议名额）' if step.quota.soft else ''}")
    echo(f"公示：{notice_text(profile.notice)}")
    if profile.validity:
        v = profile.validity
        rr = f"，每 {v.re_review.every_years} 年复核" if v.re_review else ""
        echo(f"有效期：{v.years} 年{rr}")
    if profile.ban:
        echo(f"虚假材料禁止申报：{profile.ban.years} 年")
    if profile.funding:
        f = profile.funding
        echo("资金分期：" + "；".join(f"{t.label} {t.share_pct}%" + ("（假设）" if t.assumed else "") for t in f.tranches))
        if f.grade_factors:
            echo("考核系数：" + "、".join(f"{g} {x}" for g, x in f.grade_factors.items()) + ("（假设）" if f.grade_factors_assumed else ""))
    if profile.eligibility:
        echo("资格条件：")
        for line in eligibility_lines(profile.eligibility):
            echo(f"  {line}")


@app.command("show")
def show(programme_id: str = typer.Argument(..., metavar="ID", help="项目编号，如 national-little-giant"),
         as_json: bool = JSON_OPTION) -> None:
    """Show one programme's route, deadlines, notice, quotas and rules."""
    try:
        profile = get_profile(programme_id)
    except SrdiError as exc:
        _fail(str(exc))
    emit(profile.model_dump(mode="json", exclude_none=True), as_json, lambda _data: _render(profile))


@app.command("check")
def check(file: Path = typer.Argument(..., metavar="FILE", help="项目规则文件（YAML）"), as_json: bool = JSON_OPTION) -> None:
    """Validate one profile file; exits non-zero with one line naming the file and the field."""
    try:
        if not file.is_file():
            raise ProfileError(f"{file}: 文件不存在")
        loaded = load_file(file)
    except ProfileError as exc:
        if as_json:
            emit({"file": str(file), "ok": False, "error": str(exc)}, True, lambda _d: None)
            raise typer.Exit(1) from None
        _fail(str(exc))
    emit(
        {"file": str(file), "ok": True, "id": loaded.profile.id, "sha256": loaded.sha256},
        as_json,
        lambda _d: typer.echo(f"✓ {file}: {loaded.profile.id} OK"),
    )
