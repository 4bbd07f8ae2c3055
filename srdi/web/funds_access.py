"""Who may do what with a 实施方案 in the console (资金操作权限).

财建〔2021〕2号 三: the province (省级中小企业主管部门会同财政部门) submits the 实施方案, runs the annual review and
disburses each tranche; the ministry (工业和信息化部、财政部) gives the 合规性审核意见, 批复 the plan and fixes a
grade (工业和信息化部商财政部明确绩效考核等次). 扣减、追回 is recorded by the province or the ministry.
A plan outside what the user may see is NotFound (404); a plan the user sees but may not act on is a refusal
(Forbidden, flashed in Chinese). The domain functions check the plan's state and rules.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from models.enums import JurisdictionLevel
from models.errors import Forbidden, NotFound
from srdi.web.funds import visible_plans
from tasks.people.actors import BUREAU_ROLES, Actor

PROVINCE_ACTS = {"submit": "报送实施方案", "review": "开展年度绩效考核", "run": "拨付资金"}
MINISTRY_ACTS = {"opinion": "登记合规性审核意见", "approve": "批复实施方案", "grade": "改定绩效考核等次"}
EITHER_ACTS = {"adjust": "登记扣减或追回"}


def plan_in_reach(session: Session, scope: Actor, plan_id: int) -> dict[str, Any]:
    """The plan as the 资金 page shows it, or NotFound when it is not the user's to see."""
    found = next((p for p in visible_plans(session, scope) if p["id"] == plan_id), None)
    if found is None:
        raise NotFound(f"实施方案 {plan_id} 不存在或不在您的辖区范围内")
    return found


def refusal(scope: Actor, act: str, province_code: str) -> str | None:
    """Why ``scope`` may not do ``act`` on a plan of ``province_code`` (None: it may)."""
    what = {**PROVINCE_ACTS, **MINISTRY_ACTS, **EITHER_ACTS}[act]
    if scope.role not in BUREAU_ROLES:
        return f"您的角色无权{what}，须为主管部门工作人员"
    own_province = scope.jurisdiction_code == province_code
    ministry = scope.jurisdiction_level == JurisdictionLevel.ministry
    if act in PROVINCE_ACTS and not own_province:
        return f"{what}由该省级主管部门办理，您所在的{scope.jurisdiction_name or scope.jurisdiction_code}无权办理"
    if act in MINISTRY_ACTS and not ministry:
        return f"{what}由工业和信息化部（会同财政部）办理，省级及以下用户无权办理"
    if act in EITHER_ACTS and not (own_province or ministry):
        return f"{what}由省级主管部门或工业和信息化部办理，您所在的{scope.jurisdiction_name or scope.jurisdiction_code}无权办理"
    return None


def require(scope: Actor, act: str, province_code: str) -> None:
    reason = refusal(scope, act, province_code)
    if reason:
        raise Forbidden(reason)


def allowed(scope: Actor, province_code: str) -> dict[str, bool]:
    """Each act → may the user do it on this province's plan (which forms the page shows)."""
    return {act: refusal(scope, act, province_code) is None for act in (*PROVINCE_ACTS, *MINISTRY_ACTS, *EITHER_ACTS)}
