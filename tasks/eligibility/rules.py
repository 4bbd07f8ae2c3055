"""Evaluating a profile's eligibility rules for one application (资格审查), in plain Python.

Three-valued logic: a criterion whose figure is missing is "无法判断" (None), and a group is decided
as far as the known parts allow (all_of fails on any failure, any_of passes on any pass, k_of_n
counts). Nodes with ``gating: false`` are judged and recorded but do not decide. A relaxation
(放宽条件) whose condition holds waives the nodes it lists — all of them, or at most
``max_waived`` of those that fail. ``bands`` picks the band the metric falls in and applies that
band's rule; the band id becomes the application's category (79号 a/b/c). Exclusions (不得申报)
and bonus points (加分) sit beside the tree. The rules are compiled once per run (``Compiled``);
each node evaluated becomes one ``Row``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Optional

from models.metrics import get_metric
from models.rules import Bands, Criterion, EligibilityRules, Exclusion, Group, walk
from tasks.eligibility.metrics import Subject, YearValues, as_decimal, clause, comparator, fmt, scope_text, window_values, window_years
from tasks.intake.fields import BOARD_CHOICES

GROUP_WORDS = {"all_of": "全部满足", "any_of": "满足其一", "k_of_n": "满足其中{k}项"}


encode_figures = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode


@dataclass(slots=True)
class Row:
    node_id: str
    kind: str
    passed: Optional[bool] = None
    waived: bool = False
    points: Optional[Decimal] = None
    figures: Any = field(default_factory=dict)     # a dict, or already JSON-encoded text
    message: str = ""
    described: bool = True     # False: a met verdict whose figures and sentence are rendered when read (``render_met``)


@dataclass
class Background:
    """What exclusions read besides figures and facts (from Enterprise and Recognition rows)."""

    call_id: str
    call_year: int
    call_batch: Optional[int]
    opens_on: date
    tier: str
    listed_board: Optional[str] = None
    banned_until: Optional[date] = None
    recognitions: list[tuple[str, str, Optional[str]]] = field(default_factory=list)   # (tier, status, call_id)


@dataclass
class Outcome:
    eligible: Optional[bool]
    category: Optional[str]
    points: Decimal
    rows: list[Row]                                   # what is stored (groups are rebuilt by explain)
    results: dict[str, Optional[bool]] = field(default_factory=dict)   # every rule node's verdict


def combine(kind: str, results: list[Optional[bool]], k: Optional[int] = None) -> Optional[bool]:
    if kind == "all_of":
        return False if False in results else (None if None in results else True)
    if kind == "any_of":
        return True if True in results else (None if None in results else False)
    passed, unknown = results.count(True), results.count(None)
    return True if passed >= k else (None if passed + unknown >= k else False)


def group_message(kind: str, k: Optional[int], items: list[tuple[str, Optional[bool]]], passed: Optional[bool]) -> str:
    done = sum(1 for _, result in items if result)
    word = GROUP_WORDS[kind].format(k=k)
    if passed:
        return f"{word}（{done}/{len(items)}项满足）"
    parts = [f"{done}/{len(items)}项满足，要求{word}"]
    failed = "、".join(label for label, result in items if result is False)
    unknown = "、".join(label for label, result in items if result is None)
    if failed:
        parts.append(f"不满足：{failed}")
    if unknown:
        parts.append(f"待核实：{unknown}")
    return "；".join(parts)


class _Run:
    """One evaluation of compiled nodes for one application.

    ``describe_met`` False: a met, unwaived criterion or band keeps only its verdict (``Row.described`` False);
    its figures and sentence follow from the inputs and are rendered when read (``render_met``).
    """

    __slots__ = ("subject", "values", "waived", "rows", "results", "category", "record", "describe_met")

    def __init__(self, subject: Subject, values: YearValues, waived: dict[str, str], record: bool = True,
                 describe_met: bool = True):
        self.subject, self.values, self.waived, self.record = subject, values, waived, record
        self.describe_met = describe_met
        self.rows: list[Row] = []
        self.results: dict[str, Optional[bool]] = {}
        self.category: Optional[str] = None

    def brief(self, node, row: Row) -> bool:
        """Whether ``row`` may stay undescribed: not kept, or met, not waived, and the run renders met verdicts lazily."""
        if not self.record:
            return True
        if row.passed is True and not self.describe_met and node.id not in self.waived:
            row.described = False
            return True
        return False

    def finish(self, node, row: Row) -> Optional[bool]:
        if node.id in self.waived:
            row.waived, row.passed = True, True
            row.message = f"{row.message}（{self.waived[node.id]}，免于考核）"
        self.results[node.id] = row.passed
        return row.passed


class CCriterion:
    def __init__(self, node: Criterion, reference: int):
        self.id, self.label, self.op, self.gating = node.id, node.label, node.op, node.gating
        self.metric = get_metric(node.metric)
        numeric = isinstance(node.value, (int, Decimal)) and not isinstance(node.value, bool)
        self.threshold = as_decimal(node.value) if numeric else node.value
        self.test = comparator(node.op, self.threshold)
        self.window = node.years
        self.years = window_years(node.years, reference)
        self.scope = scope_text(node.years, reference)
        self.each = node.years.startswith("each")
        self.fact = self.metric.source == "fact" or node.years == "none"
        self.shown_threshold = fmt(node.value, places=6) if numeric else node.value
        self.unfilled = f"未填写“{self.metric.label}”，无法判断"
        self.encoded: dict = {}
        if node.op in ("is_true", "is_false"):   # the two sentences a yes/no fact can give, built once
            self.said = {v: clause(self.metric, node.op, None, "", v, v == (node.op == "is_true")) for v in (True, False)}

    def _fact_figures(self, value: Any) -> Any:
        """{"value", "threshold"}, built once per distinct value (most facts are 是/否); shared, never changed."""
        try:
            return self.encoded[value]
        except KeyError:
            figures = self.encoded[value] = {"value": value, "threshold": self.shown_threshold}
            return figures
        except TypeError:  # an unhashable value (a list of titles)
            return {"value": value, "threshold": self.shown_threshold}

    def run(self, run: _Run) -> Optional[bool]:
        row = Row(self.id, "criterion")
        if run.record:
            run.rows.append(row)
        if self.fact:
            value = run.subject.facts.get(self.metric.name)
            row.passed = self.test(value)
            if run.brief(self, row):
                return run.finish(self, row)
            row.figures = self._fact_figures(value)
            if value is None:
                row.message = self.unfilled
            elif self.op in ("is_true", "is_false"):
                row.message = self.said[bool(value)]
            else:
                row.message = clause(self.metric, self.op, self.threshold, "", value, row.passed)
            return run.finish(self, row)
        pairs = window_values(self.metric, self.window, self.years, run.values)
        outcomes = [self.test(value) for _, value in pairs]
        row.passed = combine("all_of", outcomes)
        if not run.record or run.brief(self, row):
            return run.finish(self, row)
        clauses = [clause(self.metric, self.op, self.threshold, f"{year}年" if self.each else self.scope, value, ok)
                   for (year, value), ok in zip(pairs, outcomes) if value is not None]
        if any(value is None for _, value in pairs):
            missing = "、".join(run.values.missing(self.metric, self.years)) or self.metric.label
            clauses.append(f"缺少{missing}，无法判断" if row.passed is None else f"（缺少{missing}）")
        if self.each and clauses:
            clauses[0] = f"{self.scope}：{clauses[0]}"
        row.message = "；".join(clauses)
        figures: dict[str, Any] = {"years": run.values.figures(self.metric, self.years), "threshold": self.shown_threshold}
        if self.each:
            figures["values"] = {str(year): fmt(value, places=4) for year, value in pairs if value is not None}
        elif pairs[0][1] is not None:
            figures["value"] = fmt(pairs[0][1], places=4)
        row.figures = figures
        return run.finish(self, row)


class CGroup:
    def __init__(self, node: Group, reference: int):
        self.id, self.label, self.kind, self.k, self.gating = node.id, node.label, node.type, node.k, node.gating
        self.items = [compile_node(item, reference) for item in node.items]

    def run(self, run: _Run) -> Optional[bool]:
        """Groups are not stored (explain rebuilds them from their children's rows); only the result is kept."""
        judged = []
        for item in self.items:
            result = item.run(run)
            if item.gating:
                judged.append(result)
        passed = combine(self.kind, judged, self.k) if judged else True
        if self.id in run.waived:
            passed = True
        run.results[self.id] = passed
        return passed


class CBands:
    gating = True

    def __init__(self, node: Bands, reference: int):
        self.id, self.label = node.id, node.label
        self.metric = get_metric(node.metric)
        self.window, self.years = node.years, window_years(node.years, reference)
        self.scope = scope_text(node.years, reference)
        self.bands = [(band, compile_node(band.rule, reference)) for band in node.bands]

    def run(self, run: _Run) -> Optional[bool]:
        row = Row(self.id, "bands")
        if run.record:
            run.rows.append(row)
        value = window_values(self.metric, self.window, self.years, run.values)[0][1]
        shown = f"{self.scope}{self.metric.label}"
        if value is None:
            row.figures = {"years": run.values.figures(self.metric, self.years)}
            row.message = f"缺少{'、'.join(run.values.missing(self.metric, self.years)) or shown}，无法分档"
            return run.finish(self, row)
        chosen = next(((band, rule) for band, rule in self.bands
                       if (band.min is None or value >= band.min) and (band.max is None or value < band.max)), None)
        if chosen is None:
            row.figures = {"years": run.values.figures(self.metric, self.years)}
            row.passed, row.message = False, f"{shown} {fmt(value, self.metric.unit)}，不在任何一档内"
            return run.finish(self, row)
        band, rule = chosen
        run.category = band.id
        row.passed = rule.run(run)
        if not run.brief(self, row):
            row.figures = {"years": run.values.figures(self.metric, self.years), "value": fmt(value, places=4), "band": band.id}
            row.message = f"{shown} {fmt(value, self.metric.unit)}，属{band.label}"
        return run.finish(self, row)


def compile_node(node, reference: int):
    if isinstance(node, Criterion):
        return CCriterion(node, reference)
    if isinstance(node, Group):
        return CGroup(node, reference)
    return CBands(node, reference)


class Compiled:
    """A profile's rules prepared once for a run: thresholds parsed, sentences' fixed parts built."""

    def __init__(self, rules: EligibilityRules, reference: int):
        self.rules = rules
        self.root = compile_node(rules.rule, reference)
        self.relaxations = [(r, compile_node(r.when, reference) if getattr(r, "when", None) is not None else None)
                            for r in rules.relaxations]
        self.bonus = [(b, compile_node(b.when, reference)) for b in rules.bonus]
        nodes = list(walk(rules.rule))
        for extra in [r.when for r in rules.relaxations if getattr(r, "when", None) is not None] + [b.when for b in rules.bonus]:
            nodes += list(walk(extra))
        self.labels = {node.id: node.label for node in nodes}
        self.reference = reference
        # the facts the tree's criteria read: with the raw figures, all a met verdict's sentence needs (render_met)
        self.fact_names = sorted({get_metric(n.metric).name for n in walk(rules.rule)
                                  if isinstance(n, Criterion) and (get_metric(n.metric).source == "fact" or n.years == "none")})


def _canonical_board(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    return BOARD_CHOICES.get(name, BOARD_CHOICES.get(name.removesuffix("公开发行"), name))


def exclusion_check(rule: Exclusion, facts: dict, background: Background) -> tuple[bool, str]:
    """(excluded, sentence) for one 不得申报 rule."""
    if rule.kind == "listed_on_board":
        board = _canonical_board(background.listed_board)
        hit = board is not None and (not rule.boards or board in {_canonical_board(b) for b in rule.boards})
        return hit, (f"已在{board}上市" if hit else (f"上市板块 {board}，不在所列板块内" if board else "未上市"))
    if rule.kind == "serious_dishonesty":
        hit = facts.get("serious_dishonesty") is True
        return hit, "存在严重失信行为" if hit else "未申报严重失信行为"
    if rule.kind == "accident_within_years":
        keys = ["major_accident_year"] + (["accident_year"] if getattr(rule, "severity", "major") == "any" else [])
        years = [int(facts[key]) for key in keys if facts.get(key) is not None]
        kind = "重大" if getattr(rule, "severity", "major") == "major" else ""
        if not years:
            return False, f"未申报{kind}安全、质量、环境事故"
        first, latest = background.call_year - rule.years, max(years)
        hit = latest >= first
        return hit, f"最近一次{kind}事故发生于{latest}年，{'在' if hit else '不在'}近{rule.years}年（{first}年以来）内"
    if rule.kind == "holds_title":
        held = rule.title in (facts.get("titles") or []) or any(t == rule.title and s == "active" for t, s, _ in background.recognitions)
        return held, f"已获{rule.title}" if held else f"未获{rule.title}"
    if rule.kind == "earlier_batch_recipient":
        tier = rule.title or background.tier
        earlier = [c for t, _, c in background.recognitions if t == tier and c != background.call_id]
        return bool(earlier), f"已获前批次支持（{earlier[0] or '批次不详'}）" if earlier else "未获前批次支持"
    if rule.kind == "banned":
        until = background.banned_until
        hit = until is not None and until >= background.opens_on
        return hit, f"禁止申报至{until}" if hit else "不在禁止申报期内"
    hit = facts.get(rule.fact) is True
    return hit, f"{get_metric(rule.fact).label if rule.fact else rule.label}：{'是' if hit else '否'}"


def _relaxations(compiled: Compiled, subject: Subject, values: YearValues, background: Background) -> tuple[list[Row], dict[str, str]]:
    rows: list[Row] = []
    waived: dict[str, str] = {}
    for relaxation, condition in compiled.relaxations:
        batches = getattr(relaxation, "call_batches", []) or []
        in_batch = not batches or background.call_batch in batches
        holds = condition.run(_Run(subject, values, {}, record=False)) if condition is not None and in_batch else in_batch
        applies = bool(holds) and in_batch
        targets = list(relaxation.waives) if applies else []
        limit = getattr(relaxation, "max_waived", None)
        if applies and limit is not None:
            tree = _Run(subject, values, {}, record=False)
            compiled.root.run(tree)
            targets = [t for t in targets if tree.results.get(t) is not True][:limit]
        for target in targets:
            waived.setdefault(target, f"适用{relaxation.label}")
        if applies:
            message = f"适用，免于考核：{'、'.join(compiled.labels.get(t, t) for t in targets) or '（无不满足项）'}"
        elif not in_batch:
            message = "不适用（本批次不在适用批次内）"
        else:
            message = "不适用（条件未满足）" if holds is False else "不适用（条件无法判断）"
        rows.append(Row(f"relaxation:{relaxation.id}", "relaxation", applies, figures={"waives": targets}, message=message))
    return rows, waived


def evaluate(compiled: Compiled, subject: Subject, background: Background, describe_met: bool = True) -> Outcome:
    """Every verdict of one application: the tree (with relaxations), exclusions, bonus, overall.

    ``describe_met`` False: met criteria and bands carry no figures or sentence (``Row.described`` False);
    the overall row's figures then hold the inputs (``INPUTS``) from which ``render_met`` gives them back.
    """
    values = YearValues(subject.years)
    relaxation_rows, waived = _relaxations(compiled, subject, values, background)
    run = _Run(subject, values, waived, describe_met=describe_met)
    result = compiled.root.run(run)
    overall = Row("overall", "overall")
    rows = [overall] + run.rows + relaxation_rows
    excluded = []
    for rule in compiled.rules.exclusions:
        hit, message = exclusion_check(rule, subject.facts, background)
        rows.append(Row(f"exclusion:{rule.id}", "exclusion", not hit, message=message))
        if hit:
            excluded.append(rule.label)
    points = Decimal(0)
    for bonus, condition in compiled.bonus:
        got = condition.run(_Run(subject, values, {}, record=False))
        earned = bonus.points if got else Decimal(0)
        points += earned
        rows.append(Row(f"bonus:{bonus.id}", "bonus", got, points=earned,
                        message=f"加{fmt(bonus.points)}分" if got else ("不加分" if got is False else "无法判断，暂不加分")))
    eligible = False if excluded else result
    overall.passed = eligible
    overall.figures = {"category": run.category, "bonus_points": fmt(points), "waived": sorted(waived)}
    if not describe_met:
        overall.figures[INPUTS] = inputs(compiled, subject)
    category = f"（{run.category}类）" if run.category else ""
    if eligible:
        overall.message = f"符合申报条件{category}"
    elif excluded:
        overall.message = "不得申报：" + "；".join(excluded)
    else:
        wanted = None if eligible is None else False
        messages = {r.node_id: r.message for r in run.rows}
        shown = [f"{node.label}（{messages[node.id]}）" for node in _reasons(compiled.root, run.results, wanted)][:4]
        head = "待核实" if eligible is None else "不符合申报条件"
        overall.message = f"{head}{category}：" + "；".join(shown) if shown else f"{head}{category}"
    if points:
        overall.message += f"；加分 {fmt(points)}"
    return Outcome(eligible, run.category, points, rows, run.results)


INPUTS = "inputs"   # key of the overall row's figures holding what the undescribed verdicts are rendered from


def inputs(compiled: Compiled, subject: Subject) -> dict:
    """What a met verdict's figures and sentence follow from: the reference year, the raw yearly figures
    (as the text a verdict's figures show) and the facts the criteria read."""
    years = {str(year): {column: str(value) for column, value in figures.items() if value is not None}
             for year, figures in subject.years.items()}
    facts = subject.facts
    return {"reference": compiled.reference, "years": years,
            "facts": {name: facts[name] for name in compiled.fact_names if name in facts}}


def render_met(compiled: Compiled, given: dict, node_ids: set[str]) -> dict[str, Row]:
    """The described rows of met verdicts stored without figures or sentence, from their ``inputs``: the tree
    judged again on the same inputs, every verdict described (what ``evaluate`` would have stored)."""
    years = {int(year): figures for year, figures in given["years"].items()}
    subject = Subject(0, given["reference"], years, dict(given["facts"]))
    run = _Run(subject, YearValues(years), {})
    compiled.root.run(run)
    return {row.node_id: row for row in run.rows if row.node_id in node_ids}


def _reasons(node, results: dict[str, Optional[bool]], wanted: Optional[bool]) -> list:
    """The criteria that make ``node`` come out ``wanted`` (False or None), following gating nodes down."""
    if results.get(node.id, True) is not wanted:
        return []
    if isinstance(node, CCriterion):
        return [node]
    children = node.items if isinstance(node, CGroup) else [rule for _, rule in node.bands]
    found = []
    for child in children:
        if getattr(child, "gating", True):
            found += _reasons(child, results, wanted)
    return found
