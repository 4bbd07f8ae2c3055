"""`srdi workflow`: the table of allowed status changes (流转规则, models/workflow.py)."""

from __future__ import annotations

from typing import Optional

import typer

from models.workflow import MACHINES, Machine
from srdi.cli.output import JSON_OPTION, emit, one_of

app = typer.Typer(help="流转规则：每类事项的状态、操作及可操作的角色", no_args_is_help=True)


def machine_data(m: Machine) -> dict:
    return {
        "machine": m.name, "label": m.label, "table": m.table.__tablename__, "column": m.column, "logged": m.logged,
        "statuses": m.statuses,
        "actions": [{"action": a.name, "label": a.label, "from": sorted(a.sources, key=list(m.statuses).index),
                     "to": a.target, "roles": sorted(r.value for r in a.roles)} for a in m.actions.values()],
    }


def text_lines(m: Machine) -> list[str]:
    """One block per machine: a heading, then one line per action: name, label, from → to, who."""
    log = ("流转记录 transition" if m.name == "application" else "状态变更记录 state_change") if m.logged else "不另记录"
    lines = [f"{m.label}（{m.name}，{m.table.__tablename__}.{m.column}，{log}）"]
    width = max(len(a.name) for a in m.actions.values())
    for a in m.actions.values():
        sources = "、".join(m.status_label(s) for s in sorted(a.sources, key=list(m.statuses).index)) or "（新建）"
        target = m.status_label(a.target) if a.target else "（状态不变）"
        who = "、".join(sorted(r.value for r in a.roles))
        lines.append(f"  {a.name:<{width}}  {a.label}：{sources} → {target}　［{who}］")
    return lines


def _quote(text: str) -> str:
    """A dot string; a backslash stays an escape (``\\n`` is a line break in a label)."""
    return '"' + text.replace('"', '\\"') + '"'


def dot(machines: list[Machine]) -> str:
    """A Graphviz digraph: one cluster per machine, a node per status, an edge per declared move."""
    out = ["digraph workflow {", "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="sans-serif"];',
           '  edge [fontname="sans-serif", fontsize=10];']
    for m in machines:
        out += [f"  subgraph cluster_{m.name} {{", f"    label={_quote(f'{m.label}（{m.name}）')};"]
        out.append(f"    {_quote(m.name + '.new')} [shape=point, label=\"\"];")
        for status, label in m.statuses.items():
            shown = _quote(label + "\\n" + status)
            out.append(f"    {_quote(f'{m.name}.{status}')} [label={shown}];")
        for a in m.actions.values():
            edge = _quote(f"{a.name} {a.label}")
            if a.target is None:
                note = f"{a.name} {a.label}：任一状态，状态不变"
                out.append(f"    {_quote(f'{m.name}.{a.name}')} [shape=note, label={_quote(note)}];")
                continue
            for source in sorted(a.sources, key=list(m.statuses).index) or ["new"]:
                out.append(f"    {_quote(f'{m.name}.{source}')} -> {_quote(f'{m.name}.{a.target}')} [label={edge}];")
        out.append("  }")
    out.append("}")
    return "\n".join(out)


@app.command("show")
def show(
    machine: Optional[str] = typer.Option(None, "--machine", help="只显示一类事项，如 application、notice、tranche"),
    as_dot: bool = typer.Option(False, "--dot", help="输出 Graphviz 图（dot 源码）"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The workflow table: for each stateful table, its actions, from → to, and who may take them."""
    one_of(machine, MACHINES, "--machine")
    chosen = [MACHINES[machine]] if machine else list(MACHINES.values())
    if as_dot:
        typer.echo(dot(chosen))
        return
    emit([machine_data(m) for m in chosen], as_json,
         lambda _: typer.echo("\n\n".join("\n".join(text_lines(m)) for m in chosen)))
