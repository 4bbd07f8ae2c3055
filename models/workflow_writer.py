"""The workflow writer: applies one declared action (models/workflow.py) to a set of rows, set-wise.

Per chunk of ids: the log rows (``transition`` for application moves, ``state_change`` otherwise) as
one INSERT … SELECT that writes nothing unless every row may take the action (status among the
action's sources, plus the caller's guard such as the version read), then one UPDATE with the same
guard (one per batch when batches of rows get their own constants). Per-row values are written just
before and read back by the log; per-row reasons read the rows first and write update and log as
executemany. A refused move — an undeclared action, a role the action does not admit, a row in
another status — raises before anything of the chunk is written; a refusal in a later chunk leaves
the earlier ones to the caller's transaction to roll back (every caller runs in one). The result
says which rows changed, so callers need not re-read.

Usage (inside the caller's transaction)::

    apply(connection, "application", "recommend", [12, 13], actor=reviewer, at=now, guard={"version": 4})
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from sqlalchemy import and_, bindparam, func, literal, select
from sqlalchemy.engine import Connection

from models.enums import Role
from models.errors import Forbidden, IllegalMove
from models.id_list import in_list
from models.state_change import StateChange
from models.transition import Transition
from models.workflow import Action, Actor, Applied, Machine, SystemActor, get_machine
from models.workflow_refusal import Conflict, status_value
from models.workflow_refusal import refusal as _refusal

GROUP = 5000          # ids per IN (…): well under the parameter limits of SQLite and PostgreSQL


def initial(machine: Union[str, Machine], action: str) -> dict:
    """The status column and value a row created by ``action`` starts with, to put into its INSERT."""
    m = get_machine(machine)
    a = m.action(action)
    if not a.creates:
        raise IllegalMove(f"“{a.label}”不是{m.label}的新建操作")
    return {m.column: a.target}


def _check_role(m: Machine, a: Action, actor: Actor) -> None:
    role = Role(getattr(actor.role, "value", actor.role))
    if role not in a.roles:
        allowed = "、".join(sorted(r.value for r in a.roles))
        raise Forbidden(f"用户 {actor.username}（角色 {role.value}）不能对{m.label}作“{a.label}”（{m.name}.{a.name}），须为：{allowed}")


def _chunks(items: list, size: int = GROUP) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---- statements (built once per shape) ---------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    machine: str
    action: str
    per_row: bool                          # executemany by id, else IN (…)
    value_keys: tuple[str, ...]            # columns this move sets besides the status
    guard_keys: tuple[tuple[str, bool], ...]   # (column, is None) equality guards
    jurisdiction_column: Optional[str]     # log the row's own jurisdiction (system acting per row)
    step_key_column: Optional[str]         # log step_key as the given prefix + this column
    row_keys: tuple[str, ...] = ()         # set per row before the IN (…) form; the log reads them back from the row


def _table(m: Machine):
    return m.table.__table__


def _condition(m: Machine, a: Action, shape: Shape, creating: bool):
    t = _table(m)
    status = t.c[m.column]
    ids = t.c.id == bindparam("k") if shape.per_row else in_list(t.c.id, "ids")
    parts = [ids, status == bindparam("source", type_=status.type) if creating
             else status.in_([bindparam(f"s{i}", type_=status.type) for i in range(len(a.sources))])]
    for key, is_null in shape.guard_keys:
        parts.append(t.c[key].is_(None) if is_null else t.c[key] == bindparam(f"g_{key}", type_=t.c[key].type))
    return and_(*parts)


def _all_or_nothing(m: Machine, condition, shape: Shape):
    """The rows meeting ``condition``, only if every listed row does: counted by a window over the one id list."""
    if shape.per_row:
        return condition
    t = _table(m)
    legal = select(t.c.id, func.count().over().label("legal")).where(condition).subquery("legal")
    return t.c.id.in_(select(legal.c.id).where(legal.c.legal == bindparam("n")))


def _log_statement(m: Machine, a: Action, shape: Shape, creating: bool, whole: bool):
    t, status = _table(m), _table(m).c[m.column]
    log = _log_table(m, a)
    columns = {
        "at": bindparam("at", type_=log.c.at.type), "actor": bindparam("actor"), "role": bindparam("role", type_=log.c.role.type),
        "action": literal(a.name), "reason": bindparam("reason", type_=log.c.reason.type),
        "from_status": literal(None) if creating else status,
        "to_status": status if a.target is None else bindparam("to_status", type_=log.c.to_status.type),
        "jurisdiction_code": t.c[shape.jurisdiction_column] if shape.jurisdiction_column else bindparam("jurisdiction"),
        "step_key": (bindparam("step_key") + t.c[shape.step_key_column]) if shape.step_key_column else bindparam("step_key"),
    }
    if _in_transitions(m, a):
        columns.update(application_id=t.c.id, from_level=literal(None) if creating else t.c.level,
                       to_level=bindparam("v_level", type_=log.c.to_level.type) if "level" in shape.value_keys else t.c.level,
                       score=bindparam("v_score", type_=log.c.score.type) if "score" in shape.value_keys
                       else t.c.score if "score" in shape.row_keys else literal(None, log.c.score.type))
    else:
        columns.update(subject_id=t.c.id, machine=literal(m.name))
    condition = _condition(m, a, shape, creating)
    where = _all_or_nothing(m, condition, shape) if whole else condition
    # the caller checks the count: PostgreSQL (psycopg) reports an INSERT … SELECT's rowcount only when asked to keep it
    return log.insert().from_select(list(columns), select(*columns.values()).where(where)).execution_options(preserve_rowcount=True)


def _update_statement(m: Machine, a: Action, shape: Shape, whole: bool, versions: bool):
    t = _table(m)
    values: dict[str, Any] = {key: bindparam(f"v_{key}", type_=t.c[key].type) for key in shape.value_keys}
    if a.target is not None:
        values[m.column] = bindparam("to_status", type_=t.c[m.column].type)
    if m.version_column and a.target is not None:          # a non-move is no new version of the row
        values[m.version_column] = t.c[m.version_column] + 1
    if m.touched_column and m.touched_column not in values and a.target is not None:
        values[m.touched_column] = bindparam("at", type_=t.c[m.touched_column].type)
    if not values:
        return None                # a non-move that sets nothing: the log row is all there is
    condition = _condition(m, a, shape, False)
    update = t.update().where(_all_or_nothing(m, condition, shape) if whole else condition).values(values)
    return update.returning(t.c.id, t.c[m.version_column]) if versions else update


def _in_transitions(m: Machine, a: Action) -> bool:
    """Applications log their moves in ``transition``; a non-move (an eligibility verdict) is no change of
    stage, so it is recorded in ``state_change`` like every other machine's changes."""
    return m.name == "application" and a.target is not None


def _log_table(m: Machine, a: Action):
    return (Transition if _in_transitions(m, a) else StateChange).__table__


def _before_columns(m: Machine, shape: Shape) -> list:
    """What the log needs of a row before the move: id, status, level (applications), the named columns."""
    t = _table(m)
    names = ["id", m.column] + (["level"] if m.name == "application" else [])
    names += [c for c in (shape.jurisdiction_column, shape.step_key_column) if c and c not in names]
    return [t.c[name] for name in names]


@lru_cache(maxsize=64)
def _row_update(shape: Shape):
    """Per-row values by id (executemany), written just before the move of the same rows and only on a row that
    may take it (the move's own condition), so a refused chunk leaves them only on rows the caller's rollback discards."""
    m = get_machine(shape.machine)
    t = _table(m)
    condition = _condition(m, m.action(shape.action), Shape(m.name, shape.action, True, (), shape.guard_keys, None, None), False)
    return t.update().where(condition).values({k: bindparam(f"v_{k}", type_=t.c[k].type) for k in shape.row_keys})


@lru_cache(maxsize=512)
def _statements(shape: Shape, creating: bool, checked: bool = False, versions: bool = False):
    """(log insert, update, legal-rows select) for one shape; the first write of the IN (…) form is all-or-nothing
    unless the caller ``checked`` the rows in its transaction; ``versions``: the update returns each row's new version.

    The per-row form has no log statement: its log rows are built from the legal-rows select."""
    m = get_machine(shape.machine)
    a = m.action(shape.action)
    in_shape = Shape(m.name, a.name, False, (), shape.guard_keys, None, None)
    legal = select(*_before_columns(m, shape)).where(_condition(m, a, in_shape, creating))
    log = _log_statement(m, a, shape, creating, whole=not checked) if m.logged and not shape.per_row else None
    whole = log is None and not shape.per_row and not checked
    update = None if creating else _update_statement(m, a, shape, whole, versions)
    return log, update, legal


def _log_rows(m: Machine, a: Action, shape: Shape, rows: list, params: dict, reasons: Mapping, row_values: Mapping,
              values: Mapping) -> list[dict]:
    """The log rows of a per-row move, from the rows as read before it and the values it sets."""
    out = []
    for row in rows:
        status = status_value(row._mapping[m.column])
        entry = {"at": params["at"], "actor": params["actor"], "role": params["role"], "action": a.name,
                 "jurisdiction_code": row._mapping[shape.jurisdiction_column] if shape.jurisdiction_column else params["jurisdiction"],
                 "from_status": status, "to_status": a.leads_to(status), "reason": reasons.get(row.id, params["reason"]),
                 "step_key": (params["step_key"] or "") + row._mapping[shape.step_key_column] if shape.step_key_column
                 else params["step_key"]}
        if _in_transitions(m, a):
            after = {**values, **row_values.get(row.id, {})}
            entry.update(application_id=row.id, from_level=row.level, to_level=after.get("level", row.level),
                         score=after.get("score") if "score" in shape.value_keys else None)
        else:
            entry.update(subject_id=row.id, machine=m.name)
        out.append(entry)
    return out


# ---- refusals ----------------------------------------------------------------------------------

# ---- the writer --------------------------------------------------------------------------------

def apply(connection: Connection, machine: Union[str, Machine], action: str, ids: Optional[Iterable[int]] = None, *,
          actor: Actor, at: datetime, where=None, guard: Optional[Mapping[str, Any]] = None,
          values: Optional[Mapping[str, Any]] = None, row_values: Optional[Mapping[int, Mapping[str, Any]]] = None,
          batches: Optional[Sequence[tuple[Iterable[int], Mapping[str, Any]]]] = None,
          reason: Optional[str] = None, reasons: Optional[Mapping[int, Optional[str]]] = None,
          step_key: Optional[str] = None, jurisdiction_column: Optional[str] = None, step_key_column: Optional[str] = None,
          skip_others: bool = False, conflict: Conflict = None, checked: bool = False, versions: bool = False) -> Applied:
    """Apply ``action`` of ``machine`` to the rows ``ids`` (or to every row matching ``where``).

    ``guard`` adds equality conditions every row must meet (``{"version": 4}``; ``None`` means IS
    NULL); ``values`` sets further columns to constants, ``row_values`` per row ({id: {column:
    value}}); ``batches`` — [(ids, {column: value})…] instead of ``ids`` — gives sets of rows their
    own constants for columns the log does not record (one UPDATE per batch, one log statement for
    all). ``reason``/``reasons`` (per row) and ``step_key`` go into the log. With
    ``jurisdiction_column`` the log names each row's own jurisdiction instead of the actor's, with
    ``step_key_column`` the step key is ``step_key`` + that column. Unless ``skip_others`` (move the
    rows that may, leave the rest) or ``where`` is given, every listed row must be able to take the
    action, else ``IllegalMove`` (its message ``conflict`` when the caller gives one) and nothing of
    it is written. The version column is increased and the touched column set to ``at`` by the writer.

    ``checked``: the caller has just read, in its own transaction, that every row may take the action
    under the same guard, so the writer skips its all-or-nothing count; a row that moved meanwhile
    still raises, and the caller's transaction (which every caller has) rolls back what was written.
    ``versions``: ``Applied.versions`` gives each moved row's new version (RETURNING; no re-read).
    """
    m = get_machine(machine)
    a = m.action(action)
    if a.creates:
        raise IllegalMove(f"“{a.label}”新建{m.label}，请用 create / record_created")
    _check_role(m, a, actor)
    guard, values, row_values, reasons = dict(guard or {}), dict(values or {}), row_values or {}, reasons or {}
    row_keys = {k for v in row_values.values() for k in v}
    parts_of, batch_params = _batches(m, batches or (), ids, where)
    batch_keys = {k[2:] for p in batch_params for k in p}
    if m.column in set(values) | row_keys | batch_keys:
        raise IllegalMove(f"{m.label}的状态只能由操作“{a.label}”设定，不能作为附加值写入")
    per_row = bool(reasons) or bool(row_keys & {"level", jurisdiction_column, step_key_column})
    if per_row and batches:
        raise ValueError("batches cannot be combined with per-row reasons or per-row values the log reads")
    shape = Shape(m.name, a.name, per_row, tuple(sorted(set(values) | batch_keys | (row_keys if per_row else set()))),
                  tuple(sorted((k, v is None) for k, v in guard.items())), jurisdiction_column, step_key_column,
                  () if per_row else tuple(sorted(row_keys)))
    if versions and (not m.version_column or a.target is None or per_row or batches):
        raise ValueError("versions are returned only by a versioned move of listed rows")
    log, update, legal = _statements(shape, False, checked, versions)
    params = _params(m, a, actor, at, reason, step_key)
    params.update({f"g_{k}": v for k, v in guard.items() if v is not None})
    params.update({f"v_{k}": v for k, v in values.items()})
    if where is not None:
        wanted = _select_where(connection, m, a, where, guard, params, ids)
        skip_others = True
    else:
        wanted = sorted(parts_of) if batches else sorted(set(ids or ()))
    done: list[int] = []
    new_versions: dict[int, int] = {}
    for chunk in _chunks(wanted):
        if skip_others or per_row:
            found = {row.id: row for row in connection.execute(legal, {**params, "ids": chunk})}
            if not skip_others and len(found) != len(chunk):
                raise _refusal(connection, m, a, chunk, conflict, False)
            chunk = [i for i in chunk if i in found]
            if not chunk:
                continue
        if per_row:
            rows = [{**params, "k": i, **{f"v_{k}": row_values.get(i, {}).get(k, values.get(k)) for k in shape.value_keys}}
                    for i in chunk]
            _write(connection, m, a, chunk, conflict, None, update, None, [(chunk, rows)])
            if m.logged:
                connection.execute(_log_table(m, a).insert(), _log_rows(m, a, shape, [found[i] for i in chunk], params, reasons,
                                                                     row_values, values))
        else:
            if shape.row_keys:
                connection.execute(_row_update(shape), [
                    {**params, "k": i, **{f"v_{k}": row_values.get(i, {}).get(k, values.get(k)) for k in shape.row_keys}}
                    for i in chunk])
            parts = _split(chunk, parts_of, batch_params) if batches else [(chunk, {})]
            _write(connection, m, a, chunk, conflict, log, update, {**params, "ids": chunk, "n": len(chunk)},
                   [(part, {**params, **extra, "ids": part, "n": len(part)}) for part, extra in parts],
                   new_versions if versions else None)
        done += chunk
    return Applied(m.name, a.name, done, new_versions)


def _batches(m: Machine, batches, ids, where) -> tuple[dict[int, int], list[dict]]:
    """id → batch index, and each batch's parameters; batches may not set what the log records."""
    parts_of: dict[int, int] = {}
    params: list[dict] = []
    for index, (batch_ids, batch_values) in enumerate(batches):
        if ids is not None or where is not None:
            raise ValueError("give either ids (or where) or batches")
        if m.name == "application" and {"level", "score"} & set(batch_values):
            raise ValueError("batches may set only columns the transition log does not record")
        params.append({f"v_{k}": v for k, v in batch_values.items()})
        for i in batch_ids:
            if parts_of.setdefault(i, index) != index:
                raise ValueError(f"row {i} is in two batches")
    if len({tuple(sorted(p)) for p in params}) > 1:
        raise ValueError("every batch sets the same columns")
    return parts_of, params


def _split(chunk: list[int], parts_of: dict[int, int], batch_params: list[dict]) -> list[tuple[list[int], dict]]:
    parts: dict[int, list[int]] = {}
    for i in chunk:
        parts.setdefault(parts_of[i], []).append(i)
    return [(ids, batch_params[index]) for index, ids in parts.items()]


def _params(m: Machine, a: Action, actor: Actor, at: datetime, reason: Optional[str], step_key: Optional[str]) -> dict:
    role = getattr(actor.role, "value", actor.role)
    params = {"at": at, "actor": actor.username, "role": role, "jurisdiction": actor.jurisdiction_code, "reason": reason,
              "step_key": step_key, "to_status": a.target}
    params.update({f"s{i}": s for i, s in enumerate(sorted(a.sources))})
    return params


def _select_where(connection: Connection, m: Machine, a: Action, where, guard: dict, params: dict,
                  ids: Optional[Iterable[int]]) -> list[int]:
    t = _table(m)
    query = select(t.c.id).where(where, t.c[m.column].in_(sorted(a.sources)))
    for key, value in guard.items():
        query = query.where(t.c[key].is_(None) if value is None else t.c[key] == value)
    if ids is not None:
        query = query.where(t.c.id.in_(sorted(set(ids))))
    return sorted(connection.execute(query).scalars())


def _write(connection: Connection, m: Machine, a: Action, chunk: list[int], conflict: Conflict, log, update,
           log_params, updates: list[tuple[list[int], Any]], versions: Optional[dict[int, int]] = None) -> None:
    """The log rows (the all-or-nothing check), then the update of each part of the chunk; refused unless all moved.

    With ``versions`` the update returns (id, new version) rows, collected there."""
    if log is not None:
        logged = connection.execute(log, log_params).rowcount
        if logged != len(chunk):
            raise _refusal(connection, m, a, chunk, conflict, False)
    if update is None:
        return
    if versions is None:
        moved = sum(connection.execute(update, params).rowcount for _, params in updates)
    else:
        returned = [row for _, params in updates for row in connection.execute(update, params)]
        versions.update((row[0], row[1]) for row in returned)
        moved = len(returned)
    if moved != len(chunk):
        raise _refusal(connection, m, a, chunk, conflict, False)


def create(connection: Connection, machine: Union[str, Machine], action: str, rows: Sequence[Mapping[str, Any]], *,
           actor: Actor, at: datetime, reason: Optional[str] = None, step_key: Optional[str] = None) -> list[int]:
    """Insert ``rows`` in the status ``action`` creates (the writer sets it) and log them; returns their ids in order."""
    m = get_machine(machine)
    a = m.action(action)
    if not a.creates:
        raise IllegalMove(f"“{a.label}”不新建{m.label}")
    _check_role(m, a, actor)
    if not rows:
        return []
    t = _table(m)
    statement = t.insert().returning(t.c.id, sort_by_parameter_order=True)
    ids = [row.id for row in connection.execute(statement, [{**row, m.column: a.target} for row in rows])]
    record_created(connection, m, action, ids, actor=actor, at=at, reason=reason, step_key=step_key)
    return ids


def record_created(connection: Connection, machine: Union[str, Machine], action: str, ids: Iterable[int], *,
                   actor: Actor, at: datetime, reason: Optional[str] = None, step_key: Optional[str] = None,
                   jurisdiction_column: Optional[str] = None, step_key_column: Optional[str] = None) -> int:
    """Log the creation of rows already inserted with ``initial(machine, action)`` (e.g. by insert_new).

    Refused (``IllegalMove``, nothing logged) unless every row is in the status the action creates."""
    m = get_machine(machine)
    a = m.action(action)
    if not a.creates:
        raise IllegalMove(f"“{a.label}”不新建{m.label}")
    _check_role(m, a, actor)
    ids = sorted(set(ids))
    if not m.logged or not ids:
        return len(ids)
    shape = Shape(m.name, a.name, False, (), (), jurisdiction_column, step_key_column)
    log, _, _ = _statements(shape, True)
    params = {**_params(m, a, actor, at, reason, step_key), "source": a.target}
    for chunk in _chunks(ids):
        if connection.execute(log, {**params, "ids": chunk, "n": len(chunk)}).rowcount != len(chunk):
            raise _refusal(connection, m, a, chunk, None, True)
    return len(ids)


__all__ = ["Actor", "Applied", "SystemActor", "apply", "create", "initial", "record_created"]
