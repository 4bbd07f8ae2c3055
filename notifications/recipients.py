"""Who is responsible for a deadline, and whom to tell when it is overdue (责任主体与督办对象).

* A bureau's deadline (``enterprise_id`` empty) goes to the bureau(s) of its jurisdiction — the
  bureau's own mailbox and every active staff user (reviewer / clerk / admin) there with an
  e-mail address. Funding deadlines (allocation plan, tranche) also go to the 财政部门 there.
* An enterprise's deadline (name-change filing, annual data, …) goes to the enterprise's active
  applicant users.
* An overdue deadline is escalated one level up: for a bureau's deadline to the bureau(s) of the
  parent jurisdiction; for an enterprise's deadline to the bureau(s) of the deadline's own
  jurisdiction, which supervises the enterprise. The ministry has no level above it: its
  overdue items are escalated to the ministry's own bureaus.

Every lookup takes the whole batch of deadlines and runs a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Connection

from models.enums import Role
from models.jurisdiction import Bureau, Jurisdiction, User

STAFF_ROLES = (Role.reviewer, Role.clerk, Role.admin)
FINANCE_DEADLINE_KINDS = frozenset({"allocation_plan", "tranche", "disbursement"})
CHUNK = 500


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    kind: str                      # bureau / user / applicant
    jurisdiction_code: str | None


class DeadlineLike(Protocol):
    id: int
    kind: str
    jurisdiction_code: str
    enterprise_id: int | None


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bureau_kinds_for(deadline_kind: str) -> tuple[str, ...]:
    return ("sme", "finance") if deadline_kind in FINANCE_DEADLINE_KINDS else ("sme",)


def _unique(recipients: Iterable[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    out = []
    for recipient in recipients:
        if recipient.email not in seen:
            seen.add(recipient.email)
            out.append(recipient)
    return out


def _address(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if "@" in value else None


def bureau_staff(connection: Connection, codes: set[str]) -> dict[tuple[str, str], list[Recipient]]:
    """(jurisdiction code, bureau kind) → the bureau mailboxes and staff users there."""
    found: dict[tuple[str, str], list[Recipient]] = defaultdict(list)
    bureau_kind: dict[int, str] = {}
    for chunk in _chunks(sorted(codes)):
        for row in connection.execute(
            select(Bureau.id, Bureau.name, Bureau.kind, Bureau.email, Bureau.jurisdiction_code)
            .where(Bureau.jurisdiction_code.in_(chunk)).order_by(Bureau.id)
        ):
            bureau_kind[row.id] = row.kind
            if email := _address(row.email):
                found[(row.jurisdiction_code, row.kind)].append(Recipient(email, row.name, "bureau", row.jurisdiction_code))
        for row in connection.execute(
            select(User.display_name, User.email, User.jurisdiction_code, User.bureau_id)
            .where(User.jurisdiction_code.in_(chunk), User.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.id)
        ):
            if email := _address(row.email):
                kind = bureau_kind.get(row.bureau_id, "sme") if row.bureau_id else "sme"
                found[(row.jurisdiction_code, kind)].append(Recipient(email, row.display_name, "user", row.jurisdiction_code))
    return found


def applicant_users(connection: Connection, enterprise_ids: set[int]) -> dict[int, list[Recipient]]:
    found: dict[int, list[Recipient]] = defaultdict(list)
    for chunk in _chunks(sorted(enterprise_ids)):
        for row in connection.execute(
            select(User.display_name, User.email, User.jurisdiction_code, User.enterprise_id)
            .where(User.enterprise_id.in_(chunk), User.role == Role.applicant, User.active.is_(True))
            .order_by(User.id)
        ):
            if email := _address(row.email):
                found[row.enterprise_id].append(Recipient(email, row.display_name, "applicant", row.jurisdiction_code))
    return found


def parent_codes(connection: Connection, codes: set[str]) -> dict[str, str]:
    """Jurisdiction code → its parent's code (the ministry maps to itself)."""
    parents: dict[str, str] = {}
    for chunk in _chunks(sorted(codes)):
        for row in connection.execute(select(Jurisdiction.code, Jurisdiction.parent_code).where(Jurisdiction.code.in_(chunk))):
            parents[row.code] = row.parent_code or row.code
    return parents


def _bureaus_at(staff: dict, code: str, deadline_kind: str) -> list[Recipient]:
    return [r for kind in bureau_kinds_for(deadline_kind) for r in staff.get((code, kind), [])]


def responsible(connection: Connection, deadlines: list[DeadlineLike]) -> dict[int, list[Recipient]]:
    """Deadline id → the people who must act on it."""
    bureau_items = [d for d in deadlines if d.enterprise_id is None]
    staff = bureau_staff(connection, {d.jurisdiction_code for d in bureau_items})
    applicants = applicant_users(connection, {d.enterprise_id for d in deadlines if d.enterprise_id is not None})
    out: dict[int, list[Recipient]] = {}
    for d in deadlines:
        people = applicants.get(d.enterprise_id, []) if d.enterprise_id is not None else _bureaus_at(staff, d.jurisdiction_code, d.kind)
        out[d.id] = _unique(people)
    return out


def escalation(connection: Connection, deadlines: list[DeadlineLike]) -> dict[int, list[Recipient]]:
    """Deadline id → the bureau one level up (督办对象)."""
    parents = parent_codes(connection, {d.jurisdiction_code for d in deadlines})

    def supervisor(d: DeadlineLike) -> str:
        return d.jurisdiction_code if d.enterprise_id is not None else parents.get(d.jurisdiction_code, d.jurisdiction_code)

    staff = bureau_staff(connection, {supervisor(d) for d in deadlines})
    return {d.id: _unique(_bureaus_at(staff, supervisor(d), d.kind)) for d in deadlines}
