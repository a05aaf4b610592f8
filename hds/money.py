"""Money in integer pence; pounds as Decimal only at the edges.

Rounding is half-up to the penny, done once per (episode, month, funder) as
RULES.md fixes. Working in integer pence makes the division by 7 exact.
"""

from __future__ import annotations

import re
from decimal import Decimal

_MONEY = re.compile(r"£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")
PENNY = Decimal("0.01")


EXCEL_TOLERANCE = Decimal("0.000001")  # pounds: a number cell this close to a penny amount is that amount


def parse_money(value) -> int:
    """Pence from a cell: decimal pounds, at most two decimals, optional £ and commas.

    A number cell of a workbook holds a binary fraction: Excel shows 700.70 for
    a cell that holds 700.6999999999999. Such a cell is read as the penny
    amount it is within a millionth of a pound of (what Excel shows); a number
    that is not that close to a whole penny is refused, never rounded."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an amount of money")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"'{value}' is not an amount of money")
        exact = Decimal(repr(value))
        penny = exact.quantize(PENNY)
        if abs(exact - penny) > EXCEL_TOLERANCE:
            raise ValueError(f"{exact} has more than two decimal places; enter the amount to the penny")
        value = format(penny, "f")
    elif isinstance(value, (int, Decimal)):
        value = format(Decimal(str(value)).normalize(), "f")
    text = str(value).strip()
    if text.startswith("-") or text.startswith("£-"):
        raise ValueError(f"'{text}' is negative; amounts must be zero or more")
    match = _MONEY.fullmatch(text)
    if not match:
        raise ValueError(f"'{text}' is not an amount; expected pounds with at most two decimals, e.g. 1234.50 or £1,234.50")
    whole = int(match.group(1).replace(",", ""))
    fraction = (match.group(3) or ".")[1:].ljust(2, "0")
    return whole * 100 + int(fraction)


def pounds(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(PENNY)


def cost_of_days(weekly_pence, days):
    """weekly cost x days / 7, rounded half-up to the penny, in pence: the one formula for what days of
    care cost. Integers, or numpy int64 arrays (element by element, exactly)."""
    return divide_half_up(weekly_pence * days, 7)


def divide_half_up(numerator, denominator):
    """numerator / denominator rounded half-up, for non-negative integers (or int64 arrays)."""
    return (2 * numerator + denominator) // (2 * denominator)


def format_pounds(pence: int) -> str:
    """£1,234.50, and -£248.38 for a negative amount (never £-248.38): money as people read it."""
    whole, part = divmod(abs(int(pence)), 100)
    return f"{'-' if pence < 0 else ''}£{whole:,}.{part:02d}"


def format_pounds_each(pence) -> list[str]:
    """`format_pounds` of every amount of an int64 array, the same text at two thirds of the cost: numpy
    splits pounds from pence, the pence are looked up, leaving one f-string an amount."""
    import numpy as np

    whole, part = np.divmod(np.abs(pence), 100)
    signs = np.where(pence < 0, "-£", "£").tolist()
    pennies = np.array(_PENCE, dtype=object)[part].tolist()
    return [f"{sign}{units:,}.{p}" for sign, units, p in zip(signs, whole.tolist(), pennies)]


_PENCE = tuple(f"{p:02d}" for p in range(100))
