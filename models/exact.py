"""Exact decimals (精确小数): money in 万元, scores, points, shares and performance values.

Every Decimal column is declared with ``Field(**exact(max_digits, decimal_places))``, whose column
type is ``ExactDecimal(precision, scale)``:

- PostgreSQL: ``NUMERIC(p, s)``, exact already; values pass through untouched.
- SQLite: the column is still declared ``NUMERIC(p, s)`` (so the schema the migrations build is the
  same on both backends), but it holds the value × 10^scale as an INTEGER (``typeof()`` is
  ``integer``). SQLite has no exact decimal type: a Decimal bound as it is would become a REAL, and
  20,002 payments would sum to 3000700.02000015 万元. Scaled integers make storage, comparison,
  ORDER BY and SUM exact.

Python always sees a ``Decimal`` with exactly ``scale`` decimals (on SQLite; PostgreSQL returns
the column's scale itself). A value with more decimals than the scale is rounded half-up (half away
from zero) to the scale — what PostgreSQL's NUMERIC does on assignment, so both backends store the
same amount; callers that compute money (tranche payments) quantize before storing, so nothing
they write is rounded here. A value with more integer digits than ``precision - scale`` allows is
refused, as PostgreSQL refuses it (numeric field overflow).

In SQL expressions the type follows the column: ``func.sum``, ``func.max``, ``func.coalesce`` and
``case`` results are read back through it, and a literal compared with the column (``col >= 100``)
or added to it is scaled by the bind processor. Arithmetic that would mix scales is refused when the
expression is built, on every backend: ``col × col`` or ``col ÷ col`` between two exact columns, and
``+``/``−`` between exact columns of different scales (scale them explicitly if ever needed).
``col × n`` and ``col ÷ n`` with a plain number keep the column's type. Raw SQL (``text()``) that
reads these columns on SQLite sees the scaled integers; give it ``.columns(col=ExactDecimal(...))``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Numeric
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

_SCALING = (operators.mul, operators.truediv, operators.floordiv, operators.mod)
_ADDING = (operators.add, operators.sub)


class ExactDecimalError(ValueError):
    """A value that does not fit the column (too many integer digits) or is not a number."""


class ScaledInteger(BigInteger):
    """SQLite storage of an ExactDecimal: an integer, declared NUMERIC(p, s) like on PostgreSQL."""

    def __init__(self, precision: int, scale: int):
        super().__init__()
        self.precision, self.scale = precision, scale


@compiles(ScaledInteger)
def _declare_as_numeric(type_: ScaledInteger, compiler, **kw) -> str:
    return f"NUMERIC({type_.precision}, {type_.scale})"


class ExactDecimal(TypeDecorator):
    """NUMERIC(precision, scale) on PostgreSQL; value × 10^scale as an INTEGER on SQLite."""

    impl = Numeric
    cache_ok = True

    class Comparator(TypeDecorator.Comparator, Numeric.Comparator):
        def _adapt_expression(self, op, other_comparator):
            other = other_comparator.type
            if isinstance(other, ExactDecimal):
                if op in _SCALING:
                    raise TypeError(f"精确小数列之间不能直接相乘除（{self.expr} {op.__name__} …）：请在 Python 中计算")
                if op in _ADDING and other.scale != self.type.scale:
                    raise TypeError(f"小数位数不同的精确小数列不能直接相加减（{self.type.scale} 位与 {other.scale} 位）")
            return super()._adapt_expression(op, other_comparator)

    comparator_factory = Comparator

    def __init__(self, precision: int, scale: int):
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision, self.scale = precision, scale
        self.quantum = Decimal(1).scaleb(-scale)
        self.limit = Decimal(10) ** (precision - scale)

    def __repr__(self) -> str:
        return f"ExactDecimal({self.precision}, {self.scale})"

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(ScaledInteger(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def coerce_compared_value(self, op, value):
        """A literal multiplier or divisor is a plain number; anything compared or added is an amount."""
        if op in _SCALING:
            return Numeric() if isinstance(value, (Decimal, float)) else BigInteger()
        return self

    def exact(self, value: Any) -> Decimal:
        """``value`` as a Decimal rounded half-up to the scale; refuses what the column cannot hold."""
        try:
            number = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
            rounded = number.quantize(self.quantum, rounding=ROUND_HALF_UP)
        except (InvalidOperation, TypeError, ValueError):
            raise ExactDecimalError(f"{value!r} 不是数字，不能存入 NUMERIC({self.precision}, {self.scale}) 列") from None
        if not rounded.is_finite() or abs(rounded) >= self.limit:
            raise ExactDecimalError(
                f"{value} 超出列的范围 NUMERIC({self.precision}, {self.scale})（整数部分最多 {self.precision - self.scale} 位）"
            )
        return rounded

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return int(self.exact(value).scaleb(self.scale))

    def process_literal_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return int(self.exact(value).scaleb(self.scale))

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        if isinstance(value, int):
            return Decimal(value).scaleb(-self.scale).quantize(self.quantum)
        # a REAL (an AVG, a division) or TEXT computed in SQL from scaled integers
        return Decimal(repr(value) if isinstance(value, float) else value).scaleb(-self.scale).quantize(
            self.quantum, rounding=ROUND_HALF_UP
        )


def exact(max_digits: int, decimal_places: int) -> dict:
    """Field arguments of an exact decimal column: ``Field(**exact(16, 4))`` for 万元 to 0.0001."""
    return dict(max_digits=max_digits, decimal_places=decimal_places, sa_type=ExactDecimal(max_digits, decimal_places))
