"""The one rule that keeps exported text from running as a spreadsheet formula.

A spreadsheet treats a cell typed or imported as `=...`, `+...`, `-...` or
`@...` as a formula, and a leading tab or carriage return can hide such a
cell from the eye (OWASP, "CSV injection"). Patient ids, organisation names,
adjustment reasons and every other piece of text that comes from data go
through `neutralise` before any export writes them, CSV and Excel alike:
text that begins with one of those characters gets a leading apostrophe, so
it is shown (and re-imported) as text; all other text is left exactly as it
was.

Full-width forms of the same characters (＝＋－＠, as typed with some input
methods) are treated the same way: some spreadsheet programs normalise them
to their ASCII forms when text is entered or imported.

Only text goes through this rule. Numbers stay numbers: a negative amount
is written as a number, never as the text "-12.50".
"""

from __future__ import annotations

FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")
FULL_WIDTH_LEADERS = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # ＝ ＋ － ＠

_LEADERS = frozenset(FORMULA_LEADERS + FULL_WIDTH_LEADERS)
QUOTE = "'"


def neutralise(text: str) -> str:
    """Text that no spreadsheet will run as a formula: a leading ' before any of
    FORMULA_LEADERS (or their full-width forms); other text unchanged.

    Applying it twice changes nothing more: the result starts with ' or with
    a harmless character.
    """
    if not isinstance(text, str):
        raise TypeError(f"neutralise takes text, not {type(text).__name__}")
    if text and text[0] in _LEADERS:
        return QUOTE + text
    return text


def is_neutral(text: str) -> bool:
    """True when `text` cannot be read as a formula (what `neutralise` guarantees)."""
    return not text or text[0] not in _LEADERS
