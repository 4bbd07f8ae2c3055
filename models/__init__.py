"""SQLModel tables, enums, and engine setup. Nothing here imports Prefect."""

from models.application import Application
from models.audit_chain import AuditSeal
from models.audit_log import OperatorLog, UserChange
from models.deadline import Deadline
from models.document import ApplicationDocument
from models.eligibility import EligibilityVerdict
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.funding import DisbursementRun, FundingRecipient, FundTranche, Payment, PaymentAdjustment
from models.funding_plan import ComplianceOpinion, ImplementationPlan, PlanItem, PlanVersion, WorkArrangement
from models.jurisdiction import Bureau, Jurisdiction, User
from models.login_attempt import LoginAttempt
from models.name_change import NameChange
from models.notice import Notice, NoticeEntry, Objection
from models.operations import JobRun, ScheduledJob, StepBlock
from models.outbox import OutgoingMail
from models.performance import (
    ContinuationEntry,
    ContinuationList,
    PerformanceActual,
    PerformanceReview,
    PerformanceTarget,
    ProvincialTargetValue,
    Rectification,
)
from models.programme import Call, Programme
from models.recognition import Recognition
from models.reminder import Reminder
from models.rereview import ReReviewCase
from models.review import LevelWindow
from models.sanction import Sanction
from models.state_change import StateChange
from models.transition import Transition
from models.web_session import WebSession

__all__ = [
    "Application",
    "ApplicationDocument",
    "AuditSeal",
    "Bureau",
    "Call",
    "ComplianceOpinion",
    "ContinuationEntry",
    "ContinuationList",
    "Deadline",
    "EligibilityVerdict",
    "DisbursementRun",
    "Enterprise",
    "EnterpriseFinancialYear",
    "FundingRecipient",
    "FundTranche",
    "ImplementationPlan",
    "JobRun",
    "Jurisdiction",
    "LevelWindow",
    "LoginAttempt",
    "NameChange",
    "Notice",
    "NoticeEntry",
    "Objection",
    "OperatorLog",
    "OutgoingMail",
    "Payment",
    "PaymentAdjustment",
    "PerformanceActual",
    "PerformanceReview",
    "PerformanceTarget",
    "PlanItem",
    "PlanVersion",
    "Programme",
    "ProvincialTargetValue",
    "Recognition",
    "Rectification",
    "Reminder",
    "ReReviewCase",
    "Sanction",
    "ScheduledJob",
    "StateChange",
    "StepBlock",
    "Transition",
    "User",
    "UserChange",
    "WebSession",
    "WorkArrangement",
]
