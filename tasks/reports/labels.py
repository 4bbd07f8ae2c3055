"""Chinese labels for statuses and transition actions, as clerks read them."""

from __future__ import annotations

from models.enums import ApplicationStatus

STATUS_LABELS = {
    ApplicationStatus.pending: "待审核",
    ApplicationStatus.returned: "退回修改",
    ApplicationStatus.recommended: "同意推荐",
    ApplicationStatus.rejected: "不予推荐",
    ApplicationStatus.withdrawn: "已撤回",
    ApplicationStatus.quota_cut: "超出名额",
    ApplicationStatus.lapsed: "视同未申报",
    ApplicationStatus.on_notice: "公示中",
    ApplicationStatus.on_hold: "异议调查中",
    ApplicationStatus.removed: "移出名单",
    ApplicationStatus.recognised: "已认定",
}

ACTION_LABELS = {
    "submit": "提交申报",
    "recommend": "同意推荐",
    "return": "退回修改",
    "reject": "不予推荐",
    "resubmit": "重新提交",
    "withdraw": "撤回申报",
    "forward": "报送上级",
    "escalate": "逾期报送上级",
    "lapse": "视同未申报",
    "quota_cut": "超出名额",
    "notice-open": "列入公示",
    "objection": "收到异议",
    "objection-upheld": "异议成立，移出名单",
    "objection-rejected": "异议不成立，恢复公示",
    "recognise": "公示期满，予以认定",
}


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
