"""SQLModel tables, enums, and engine setup. Nothing here imports Prefect."""

from models.application import Application
from models.enterprise import Enterprise, EnterpriseFinancialYear
from models.jurisdiction import Bureau, Jurisdiction, User
from models.programme import Call, Programme
from models.transition import Transition

__all__ = [
    "Application",
    "Bureau",
    "Call",
    "Enterprise",
    "EnterpriseFinancialYear",
    "Jurisdiction",
    "Programme",
    "Transition",
    "User",
]
