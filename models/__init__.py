"""SQLModel tables, enums, and engine setup. Nothing here imports Prefect."""

from models.application import Application
from models.deadline import Deadline
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.jurisdiction import Bureau, Jurisdiction, User
from models.programme import Call, Programme
from models.recognition import Recognition
from models.transition import Transition

__all__ = [
    "Application",
    "Bureau",
    "Call",
    "Deadline",
    "Enterprise",
    "EnterpriseFinancialYear",
    "Jurisdiction",
    "Programme",
    "Recognition",
    "Transition",
    "User",
]
