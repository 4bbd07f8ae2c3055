"""Every status change goes through the workflow writer (models/workflow.py): nothing else writes a
status column. The test reads the source of every layer and fails naming the file and line of any
other write — an UPDATE … SET status, a ``.values(status=…)`` on an update, an ``on_conflict`` that
rewrites a status, or an attribute assignment ``row.status = …``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("models", "notifications", "tasks", "flows", "srdi")
STATUS_COLUMNS = {"status", "state"}
WRITER = {"models/workflow.py", "models/workflow_writer.py"}
RAW_SQL = re.compile(r"\bUPDATE\b[^;]*\bSET\b[^;]*\b(status|state)\s*=", re.IGNORECASE | re.DOTALL)


def _sources() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")
                  if p.relative_to(ROOT).as_posix() not in WRITER)


def _chain_calls(node: ast.AST) -> list[str]:
    """Names called along a method chain: update(T).where(…).values(…) -> ['values', 'where', 'update']."""
    names = []
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            func = node.func
            names.append(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
            node = func.value if isinstance(func, ast.Attribute) else func
        else:
            node = node.value
    return names


def _dict_sets_status(node: ast.AST) -> bool:
    if isinstance(node, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value in STATUS_COLUMNS for k in node.keys)
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
        return any(k.arg in STATUS_COLUMNS for k in node.keywords)
    return False


def _status_dicts(tree: ast.AST) -> set[str]:
    """Names bound to a dict literal that sets a status: ``values = {"status": …}`` then ``.values(**values)``."""
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and _dict_sets_status(node.value)
            for target in node.targets if isinstance(target, ast.Name)}


def _sets_status(call: ast.Call, status_dicts: set[str]) -> bool:
    for keyword in call.keywords:
        if keyword.arg in STATUS_COLUMNS or _dict_sets_status(keyword.value):
            return True
        if keyword.arg is None and isinstance(keyword.value, ast.Name) and keyword.value.id in status_dicts:
            return True
    return any(_dict_sets_status(arg) or (isinstance(arg, ast.Name) and arg.id in status_dicts) for arg in call.args)


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root).as_posix()
    found = []
    tree = ast.parse(text)
    status_dicts = _status_dicts(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in STATUS_COLUMNS:
                    found.append(f"{where}:{node.lineno}: assigns .{target.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            chain = _chain_calls(node)
            if node.func.attr == "values" and "update" in chain and _sets_status(node, status_dicts):
                found.append(f"{where}:{node.lineno}: UPDATE … .values() writes a status")
            if node.func.attr == "on_conflict_do_update" and _sets_status(node, status_dicts):
                found.append(f"{where}:{node.lineno}: ON CONFLICT DO UPDATE writes a status")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_SQL.search(node.value):
            found.append(f"{where}:{node.lineno}: raw SQL UPDATE … SET status")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


def test_no_status_is_written_outside_the_workflow_writer():
    offences = [line for path in _sources() for line in _offences(path)]
    assert not offences, "status writes outside the workflow writer:\n" + "\n".join(offences)


def test_the_check_sees_each_kind_of_write(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "row.status = 'x'\n"
        "c.execute(update(T).where(T.id == 1).values(status='y'))\n"
        "c.execute(update(T).values({'state': 'z'}))\n"
        "stmt.on_conflict_do_update(index_elements=['id'], set_={'status': 'w'})\n"
        "c.execute(text('UPDATE t SET status = 1 WHERE id = 2'))\n"
        "CHANGE = dict(status=bindparam('to'), version=T.version + 1)\n"
        "c.execute(update(T).where(T.id.in_(ids)).values(**CHANGE))\n"
        "c.execute(update(T).values(closed_at=now))\n"          # not a status write
        "c.execute(insert(T).values(status='new'))\n",          # a new row starts somewhere
        encoding="utf-8")
    assert [line.split(": ", 1)[0] for line in _offences(sample, tmp_path)] == [
        "sample.py:1", "sample.py:2", "sample.py:3", "sample.py:4", "sample.py:5", "sample.py:7"]
