"""Chinese labels for statuses and transition actions, as clerks read them."""

from __future__ import annotations

from models.enums import ApplicationStatus
from models.workflow import APPLICATION

# Both read from the workflow table (models/workflow.py), the one place statuses and actions are named.
STATUS_LABELS = {ApplicationStatus(status): label for status, label in APPLICATION.statuses.items()}
ACTION_LABELS = {name: action.label for name, action in APPLICATION.actions.items()}


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[ApplicationStatus(status)]
    except ValueError:
        return status


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)

OUTCOME_LABELS = {
    "closed": "结束审核",
    "forwarded": "报送上级",
    "escalated": "逾期报送上级",
    "lapsed": "视同未申报",
    "quota_cut": "超出名额",
    "kept": "留待公示",
    "over_soft_quota": "超出建议名额",
    "windows_opened": "开启上级审核",
    "waiting": "尚不能结束",
    "undecided_at_close": "截止时未办结",
}


def outcome_text(counts: dict) -> str:
    """'报送上级 12，超出名额 3' from a level close's counts (zeros left out)."""
    return "，".join(f"{OUTCOME_LABELS.get(k, k)} {v}" for k, v in counts.items() if isinstance(v, int) and v)
