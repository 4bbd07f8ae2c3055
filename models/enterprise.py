"""Enterprises (企业) and their yearly financial rows; ratios and growth are computed, never typed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Optional

from sqlmodel import Field, SQLModel, UniqueConstraint
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc as stdnum_uscc

from models.enums import EnterpriseSize
from models.errors import SrdiError
from models.exact import exact

MONEY = exact(16, 4)


class InvalidUSCC(SrdiError, ValueError):
    """A 统一社会信用代码 that is not well-formed per GB 32100-2015."""


_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"            # GB 32100-2015 code characters (python-stdnum's)
_CODE_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_DIGITS = frozenset("0123456789")
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _canonical(text: str) -> bool:
    """True when ``text`` is already a canonical, valid USCC: what python-stdnum's ``validate`` accepts
    unchanged, checked with the weights built once (an import checks every row's code)."""
    if len(text) != 18 or not _DIGITS.issuperset(text[:8]):
        return False
    try:
        total = sum(_CODE_VALUE[c] * w for c, w in zip(text, _WEIGHTS))
        return _CODE_VALUE[text[17]] == -total % 31
    except KeyError:
        return False


def normalise_uscc(value: str) -> str:
    """Return the canonical 18-character USCC or raise InvalidUSCC with the reason in Chinese.

    python-stdnum is the reference: a code that is not canonical and valid as typed goes through it
    (separators, lower case, and every refusal with its reason).
    """
    if value.__class__ is str and _canonical(value):
        return value
    text = stdnum_uscc.compact(value or "")
    try:
        return stdnum_uscc.validate(text)
    except stdnum_exceptions.InvalidChecksum:
        raise InvalidUSCC(f"统一社会信用代码 {text} 校验位错误（GB 32100-2015）") from None
    except stdnum_exceptions.InvalidLength:
        raise InvalidUSCC(f"统一社会信用代码 {text} 应为18位，实际 {len(text)} 位") from None
    except stdnum_exceptions.ValidationError:
        raise InvalidUSCC(f"统一社会信用代码 {text} 含非法字符或编码结构错误") from None


class Enterprise(SQLModel, table=True):
    """An enterprise, identified by its 统一社会信用代码."""

    id: Optional[int] = Field(default=None, primary_key=True)
    uscc: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=128, index=True)
    size: EnterpriseSize
    industry_code: str = Field(max_length=5, description="GB/T 4754-2017 行业代码")
    jurisdiction_code: str = Field(foreign_key="jurisdiction.code", index=True, description="所在区（县）")
    registered_on: Optional[date] = None
    listed_board: Optional[str] = Field(default=None, max_length=32, description="上市板块; None = 未上市")
    name_changed_on: Optional[date] = Field(default=None, description="更名日期（须在规定期限内备案）")
    banned_until: Optional[date] = Field(default=None, description="因提供虚假材料被禁止申报至（含）")
    ban_reason: Optional[str] = None
    created_at: Optional[datetime] = None


class EnterpriseFinancialYear(SQLModel, table=True):
    """One audited year of an enterprise's figures, stored raw in 万元."""

    __tablename__ = "enterprise_financial_year"
    __table_args__ = (UniqueConstraint("enterprise_id", "fiscal_year"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    enterprise_id: int = Field(foreign_key="enterprise.id", index=True)
    fiscal_year: int
    revenue_wan: Decimal = Field(**MONEY, description="营业收入（万元）")
    main_business_revenue_wan: Decimal = Field(**MONEY, description="主营业务收入（万元）")
    rd_expense_wan: Decimal = Field(default=Decimal(0), **MONEY, description="研发经费总额（万元）")
    total_profit_wan: Optional[Decimal] = Field(default=None, **MONEY, description="利润总额（万元）")
    net_profit_wan: Optional[Decimal] = Field(default=None, **MONEY, description="净利润（万元）")
    total_assets_wan: Optional[Decimal] = Field(default=None, **MONEY, description="资产总额（万元）")
    total_liabilities_wan: Optional[Decimal] = Field(default=None, **MONEY, description="负债总额（万元）")
    taxes_paid_wan: Optional[Decimal] = Field(default=None, **MONEY, description="上缴税金（万元）")
    employees: Optional[int] = Field(default=None, description="从业人数")
    rd_staff: Optional[int] = Field(default=None, description="研发人员数")
