"""Enumerations shared by tables and profiles. Values are stable identifiers stored in SQL."""

from __future__ import annotations

from enum import StrEnum


class JurisdictionLevel(StrEnum):
    """行政层级: 部 → 省 → 市（州） → 区（县）."""

    ministry = "ministry"
    province = "province"
    prefecture = "prefecture"
    county = "county"


class ReviewLevel(StrEnum):
    """Review levels of a route (the jurisdiction level that decides)."""

    county = "county"
    municipal = "municipal"
    provincial = "provincial"
    ministry = "ministry"

    @property
    def jurisdiction_level(self) -> JurisdictionLevel:
        return {
            ReviewLevel.county: JurisdictionLevel.county,
            ReviewLevel.municipal: JurisdictionLevel.prefecture,
            ReviewLevel.provincial: JurisdictionLevel.province,
            ReviewLevel.ministry: JurisdictionLevel.ministry,
        }[self]

    @property
    def label(self) -> str:
        return {"county": "区县", "municipal": "市（州）", "provincial": "省", "ministry": "部"}[self.value]


class Role(StrEnum):
    """A user's role. Reviewers decide at their bureau's level; applicants act for one enterprise."""

    applicant = "applicant"
    reviewer = "reviewer"
    clerk = "clerk"
    admin = "admin"
    system = "system"


class EnterpriseSize(StrEnum):
    """企业规模 per 工信部联企业〔2011〕300号."""

    medium = "medium"
    small = "small"
    micro = "micro"

    @property
    def label(self) -> str:
        return {"medium": "中型", "small": "小型", "micro": "微型"}[self.value]


class ApplicationStatus(StrEnum):
    """Where an application stands at its current level."""

    pending = "pending"                  # 待审 at the current level
    returned = "returned"                # 退回修改: waiting for the applicant to resubmit
    recommended = "recommended"          # 同意推荐 at this level, waiting for the level to close
    rejected = "rejected"                # 不予推荐 (terminal for the call)
    withdrawn = "withdrawn"              # 申请人撤回 (terminal)
    quota_cut = "quota_cut"              # 超出名额未获推荐 (terminal)
    lapsed = "lapsed"                    # 逾期未审/未报，视同未申报 (terminal)
    on_notice = "on_notice"              # 公示中
    on_hold = "on_hold"                  # 公示期间被异议，调查中
    removed = "removed"                  # 异议成立，移出名单 (terminal)
    recognised = "recognised"            # 已认定 (terminal for the call)

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        ApplicationStatus.rejected,
        ApplicationStatus.withdrawn,
        ApplicationStatus.quota_cut,
        ApplicationStatus.lapsed,
        ApplicationStatus.removed,
        ApplicationStatus.recognised,
    }
)
