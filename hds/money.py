"""Money in integer pence; pounds as Decimal only at the edges.

Rounding is half-up to the penny, done once per (episode, month, funder) as
RULES.md fixes. Working in integer pence makes the division by 7 exact.
"""

from __future__ import annotations

import re
from decimal import Decimal

_MONEY = re.compile(r"£?\s*(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?")
PENNY = Decimal("0.01")


def parse_money(value) -> int:
    """Pence from a cell: decimal pounds, at most two decimals, optional £ and commas."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not an amount of money")
    if isinstance(value, (int, float, Decimal)):
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


def cost_of_days(weekly_pence: int, days: int) -> int:
    """weekly cost x days / 7, rounded half-up to the penny, in pence."""
    return divide_half_up(weekly_pence * days, 7)


def divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def format_pounds(pence: int) -> str:
    return f"{'-' if pence < 0 else ''}£{pounds(abs(pence)):,}"
