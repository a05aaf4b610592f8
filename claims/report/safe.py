"""The rules that keep text from the data harmless where it is shown: in a spreadsheet (never run
as a formula) and on a terminal (control characters escaped).

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

import re

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


def unneutralise(text: str) -> str:
    """Text as it was before `neutralise`: the apostrophe it put before a formula leader taken off
    again (a finding's subject written by 'hds check --csv' and read back from an acknowledgements
    file); other text unchanged."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in _LEADERS:
        return text[1:]
    return text


def is_neutral(text: str) -> bool:
    """True when `text` cannot be read as a formula (what `neutralise` guarantees)."""
    return not text or text[0] not in _LEADERS


# Characters a terminal acts on rather than shows: C0 controls but tab and newline, DEL, C1 controls
# (0x9b starts an escape sequence like ESC [), and the bidirectional overrides that reorder what is seen.
_TERMINAL_UNSAFE = {c: f"\\x{c:02x}" for c in [*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0)]}
_TERMINAL_UNSAFE.update({c: f"\\u{c:04x}" for c in [*range(0x202a, 0x202f), *range(0x2066, 0x206a)]})


_ANY_UNSAFE = re.compile("[" + "".join(re.escape(chr(c)) for c in _TERMINAL_UNSAFE) + "]")


def printable(text: str) -> str:
    """`text` as it may be printed on a terminal: every control character (but tab and newline) written
    as an escape, e.g. ESC as \\x1b, so stored text can never recolour, hide or overwrite what is read."""
    return text.translate(_TERMINAL_UNSAFE) if _ANY_UNSAFE.search(text) else text


def printable_line(text: str) -> str:
    """`text` escaped for one line of output: newlines and tabs escaped too."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")
