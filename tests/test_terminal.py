"""The terminal: every table fits the width (COLUMNS, 80 when unknown), text wraps, no amount is ever cut;
claim and check end with a summary and can show only it."""

import re
from collections import Counter

import pytest

from claims.report.text import RICH_ROWS, Shown, fit, table
from tests.cli_helpers import hds, ok

AMOUNT = re.compile(r"-?£[0-9,]+\.[0-9]{2}(?![0-9])")


def amounts(text: str) -> Counter:
    return Counter(AMOUNT.findall(text))


def assert_no_amount_cut(text: str) -> None:
    for line in text.splitlines():
        for at in [m.start() for m in re.finditer("£", line)]:
            assert AMOUNT.match(line, at - (1 if at and line[at - 1] == "-" else 0)), line


COMMANDS = [("status",), ("claim", "--month", "2020-10"), ("claim", "--month", "2020-11"),
            ("claim", "--month", "2020-09"), ("reconcile", "--month", "2020-10"), ("recharge", "--month", "2020-10"),
            ("log",), ("trace", "P000000"), ("check", "--month", "2020-11"), ("claim", "--from", "2020-09", "--to",
                                                                              "2020-12"), ("rules", "list")]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_with_80_columns_no_line_is_wider_and_no_amount_is_cut(paid_store, args):
    narrow = ok(*args, "--db", paid_store, env={"COLUMNS": "80"}) if args[0] != "rules" else ok(
        *args, env={"COLUMNS": "80"})
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert_no_amount_cut(narrow)
    wide = ok(*args, "--db", paid_store, env={"COLUMNS": "250"}) if args[0] != "rules" else ok(
        *args, env={"COLUMNS": "250"})
    assert amounts(narrow) == amounts(wide)  # every amount still there, whole


def test_without_columns_a_pipe_gets_80(paid_store, monkeypatch):
    monkeypatch.delenv("COLUMNS")
    text = ok("status", "--db", paid_store)
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_table_too_wide_for_the_terminal_is_shown_a_row_at_a_time():
    columns = [Shown("Reason", ["a reason that is long"]), Shown("Amount", ["£1,234,567.89"], "right"),
               Shown("Other", ["£2,000.00"], "right")]
    text = table(columns, 20)
    assert text.splitlines() == ["Reason: a reason", "  that is long", "Amount:", "  £1,234,567.89",
                                 "Other:  £2,000.00"]  # the amount moves to a line of its own, whole


def test_text_columns_wrap_and_numbers_keep_their_width():
    columns = [Shown("Item", ["care after the free period, paid by the council"]), Shown("Amount", ["£12.50"], "right")]
    lines = table(columns, 30).splitlines()
    assert max(len(line) for line in lines) <= 30
    assert lines[2].endswith("£12.50") and len(lines) > 3  # the item wrapped under its column


def test_a_long_table_is_laid_out_the_same_way_without_rich():
    rows = RICH_ROWS + 1
    columns = [Shown("Patient", [f"P{i:06d}" for i in range(rows)]),
               Shown("Reason", ["weekly cost changed in load 2" if i % 2 else "new" for i in range(rows)]),
               Shown("Amount", [f"£{i % 10}.00" for i in range(rows)], "right")]
    long = table(columns, 30).splitlines()
    short = table([Shown(c.heading, c.values[:4], c.align) for c in columns], 30).splitlines()
    assert long[:len(short)] == short  # the fast path draws what rich draws
    assert max(len(line) for line in long) <= 30


def test_a_table_where_nothing_wraps_is_drawn_without_rich_as_rich_draws_it():
    """Any table _as_rich passes (nothing wraps, every character one column wide) comes out of _plain
    exactly as rich lays it out."""
    import random

    from claims.report.text import _as_rich, _fit, _plain, _rich, _texts

    chance = random.Random(23)
    letters = [chr(c) for c in range(0x21, 0x7f)] + ["£"] * 3

    def value():
        kind = chance.random()
        if kind < 0.2:
            return chance.choice(["", None, chance.randrange(-100_000, 10_000_000)])
        words = ("".join(chance.choice(letters) for _ in range(chance.randrange(1, 9))) for _ in range(3))
        return " ".join(list(words)[:chance.randrange(1, 4)])[:chance.randrange(1, 30)].strip()

    drawn = 0
    for _ in range(1_000):
        rows, width = chance.choice([0, 1, 2, chance.randrange(60)]), chance.randrange(20, 200)
        shape = [(value() or "X", [value() for _ in range(rows)], chance.choice(["left", "right"]))
                 for _ in range(chance.randrange(1, 8))]

        def laid_out():
            columns = [Shown(str(heading), _texts(values), align) for heading, values, align in shape]
            for c in columns:
                c.width = c.natural()
            return columns if _fit(columns, width) and _as_rich(columns) else None

        if laid_out() is not None:
            drawn += 1
            assert _plain(laid_out(), width) == _rich(laid_out(), width), shape
    assert drawn > 600


def test_a_table_whose_text_wraps_at_spaces_is_drawn_without_rich_as_rich_draws_it():
    """Any table _as_rich passes where text wraps (words apart by single spaces, none wider than its
    column) comes out of _plain exactly as rich lays it out; and one with a word too wide, spaces rich
    and textwrap would break differently, or a value with a space at an end, is left to rich."""
    import random

    from claims.report.text import _as_rich, _fit, _plain, _rich, _texts

    chance = random.Random(29)
    words = ["a", "ab", "load", "weekly_cost", "E0051104:", "1068.42", "->", "£4.43", "in", "episode", "x" * 12, "y" * 16]

    def value():
        if chance.random() < 0.2:
            return chance.choice(["", None, chance.randrange(-100_000, 10_000_000)])
        text = " ".join(chance.choice(words) for _ in range(chance.randrange(1, 12)))
        if chance.random() < 0.05:  # a space at an end: rich and _plain place it differently
            return chance.choice([" " + text, text + " "])
        return text if chance.random() < 0.9 else chance.choice(["  ", " ", "\t"]).join([text, "end"])

    drawn = refused = 0
    for _ in range(1_500):
        rows, width = chance.choice([1, 2, chance.randrange(40)]), chance.randrange(20, 120)
        shape = [(value() or "X", [value() for _ in range(rows)], chance.choice(["left", "left", "right"]))
                 for _ in range(chance.randrange(1, 6))]

        def laid_out():
            columns = [Shown(str(heading)[:12].strip() or "X", _texts(values), align) for heading, values, align in shape]
            for c in columns:
                c.width = c.natural()
            return columns if _fit(columns, width) else None

        columns = laid_out()
        if columns is None:
            continue
        wraps = any(len(v) > c.width for c in columns for v in c.values)
        if _as_rich(columns):
            drawn += wraps
            assert _plain(laid_out(), width) == _rich(laid_out(), width), (shape, width)
        else:
            refused += wraps
    assert drawn > 150 and refused > 50, (drawn, refused)


def test_long_tables_wrap_their_cells_exactly_as_textwrap_does():
    """The fast wrap of a long table's cells makes the lines textwrap makes, for any text and width."""
    import random
    import textwrap

    from claims.report.text import _wrap

    chance = random.Random(23)
    pieces = ["a", "ab", "free", "D0004808+D0072755", "£569.34", "(2020-09-07)", "x" * 30, " ", "  ", "\t", "\n",
              "\xa0", "é"]
    for _ in range(5_000):
        text = "".join(chance.choice(pieces) if chance.random() < 0.3 else chance.choice(pieces[:7]) + " "
                       for _ in range(chance.randrange(1, 25)))
        text = text.strip() if chance.random() < 0.7 else text
        width = chance.randrange(1, 40)
        expected = [text] if len(text) <= width else (
            textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""])
        assert _wrap(text, width) == expected, (text, width)


def _drawn_a_row_at_a_time(columns) -> str:
    """What _plain draws, as _cells lays out each row alone (the way that wraps a cell at a time)."""
    from claims.report.text import GAP, RULE, _cells, _template

    template = _template(columns)
    lines = _cells([c.heading for c in columns], columns) + [RULE * (sum(c.width for c in columns)
                                                                    + GAP * (len(columns) - 1))]
    for i in range(len(columns[0].values)):
        lines += _cells([c.values[i] for c in columns], columns, template)
    return "\n".join(lines)


def test_wide_rows_wrapped_a_column_at_a_time_are_the_rows_wrapped_alone():
    """_plain cuts the wide cells of a long table a column at a time (_wrap_many, _joined): a word longer
    than its column among other words, two spaces, a tab, a space at either end, a newline, unicode, a
    cut CODE:SUBJECT beside a sentence, each comes out as _cells lays out its row alone."""
    import itertools

    from claims.report.text import _plain

    sentence = "the scheme would pay twice for those days"
    for text in ["ab scheme-funded cd ef", "ab  cd ef gh ij", "ab\tcd ef gh", " ab cd ef gh", "ab cd ef gh ",
                 "aaaa bbbb cccc", "HDS-DOUBLE-FREE:D0004808+D0072755", "é漢字 ab cd ef", "ab\ncd ef gh"]:
        for width, key in itertools.product(range(3, 15), ("same", "wide")):
            for values in ([text, sentence], [sentence, text], [text, text + " x"]):
                columns = [Shown("Key", ["D0004808+D0072755", text]), Shown("£", ["£1.00", "£2.00"], "right"),
                           Shown("Words", values)]
                for c, w in zip(columns, (width if key == "same" else 40, 6, width)):
                    c.width = w
                assert _plain(columns, 80) == _drawn_a_row_at_a_time(columns), (text, width, values)


def test_any_long_table_is_drawn_as_its_rows_wrapped_alone():
    """Random long tables of words, sentences (some with other whitespace or spaces at their ends) and
    numbers, fitted to random widths: _plain draws each as _cells lays out its rows one by one."""
    import random

    from claims.report.text import _fit, _plain, _texts

    chance = random.Random(23)
    words = ["a", "ab", "free", "HDS-DOUBLE-FREE:D0004808+D0072755", "£569.34", "(2020-09-07)", "scheme-funded",
             "x" * 30, "é", "漢字", ""]

    def value(kind, tricky):
        if kind == "number":
            return chance.randrange(-10**9, 10**9)
        if kind == "word":  # one word, as a finding's CODE:SUBJECT
            return "".join(chance.choice(words[:8]) for _ in range(chance.randrange(1, 4)))
        some = words[:-1] if tricky else words[:3] + words[4:7] * 3
        text = " ".join(chance.choice(some) for _ in range(chance.randrange(1, 30)))
        if tricky and chance.random() < 0.2:  # other whitespace, or spaces, inside or at either end
            at = chance.choice([0, len(text) // 2, len(text)])
            return text[:at] + chance.choice([" ", "  ", "\t", "\n", "\xa0", "\x1b"]) + text[at:]
        return text

    checked = 0
    for _ in range(600):
        rows, width, tricky = chance.randrange(1, 60), chance.randrange(20, 120), chance.random() < 0.5
        kinds = [chance.choice(["word", "text", "number"]) for _ in range(chance.randrange(1, 6))]
        columns = [Shown(f"{kind} {k}", _texts([value(kind, tricky) for _ in range(rows)]),
                         "right" if kind == "number" else "left") for k, kind in enumerate(kinds)]
        for c in columns:
            c.width = c.natural()
        if _fit(columns, width):
            assert _plain(columns, width) == _drawn_a_row_at_a_time(columns), [(c.heading, c.values) for c in columns]
            checked += 1
    assert checked > 300


def test_prose_wraps_under_its_indent_and_never_cuts_a_word():
    text = fit("  - 2020-10: under-paid by £2,846.82: hds reconcile --month 2020-10 and agree the split (5.4)", 40)
    assert text.splitlines() == ["  - 2020-10: under-paid by £2,846.82:", "    hds reconcile --month 2020-10 and",
                                 "    agree the split (5.4)"]


def test_fit_wraps_only_the_longer_lines_as_it_wrapped_every_line():
    """fit takes out and wraps only the lines longer than the width: the text is what wrapping it a line at
    a time makes, for any text (lines of any length, indents, list items, blank and empty lines)."""
    import random
    import textwrap

    def a_line_at_a_time(text, width):
        out = []
        for line in text.split("\n"):
            indent = len(line) - len(line.lstrip(" "))
            more = indent + (2 if line.lstrip(" ").startswith(("- ", "* ")) else 4 if indent else 2)
            out += [line] if len(line) <= width else textwrap.wrap(
                line, width, subsequent_indent=" " * min(more, width // 2), break_long_words=False,
                break_on_hyphens=False) or [""]
        return "\n".join(out)

    chance = random.Random(23)
    pieces = ["word", "£2,846.82", "- ", "* ", "  ", " ", "\n", "\t", "é漢字", "x" * 50, ""]
    for _ in range(3_000):
        text = "".join(chance.choice(pieces) + (" " if chance.random() < 0.6 else "")
                       for _ in range(chance.randrange(0, 60)))
        width = chance.randrange(5, 90)
        assert fit(text, width) == a_line_at_a_time(text, width), (text, width)


def test_claim_and_check_end_with_a_summary_and_can_show_only_it(paid_store):
    full = ok("claim", "--month", "2020-11", "--db", paid_store)
    summary = ok("claim", "--month", "2020-11", "--summary", "--db", paid_store)
    assert "Summary of the claim for 2020-11" in full and full.endswith(summary.split("\n", 2)[2])
    assert "P000000" in full and "P000000" not in summary
    assert "Total claim for 2020-11: £657,963.47" in summary and "Interim bed" in summary
    check = ok("check", "--month", "2020-11", "--summary", "--db", paid_store)
    assert "Summary of the findings for 2020-11, by code" in check
    assert re.search(r"HDS-DOUBLE-FREE\s+error\s+4\.4\s+5\s+£4,094\.22", check)
    assert "HDS-DOUBLE-FREE:" not in check  # no finding listed one by one


def test_check_fails_on_errors_for_scripts(paid_store):
    failed = hds("check", "--month", "2020-11", "--summary", "--fail-on", "error", "--db", paid_store)
    assert failed.exit_code == 1 and "5 finding(s) of severity error (--fail-on error)" in failed.output
    passed = hds("check", "--month", "2020-10", "--summary", "--fail-on", "error", "--db", paid_store)
    assert passed.exit_code == 0
    warned = hds("check", "--month", "2020-10", "--summary", "--fail-on", "warning", "--db", paid_store)
    assert warned.exit_code == 1 and "64 finding(s) of severity error or warning" in warned.output


def test_dash_h_is_help():
    assert ok("-h") == ok("--help") and ok("claim", "-h") == ok("claim", "--help")
    assert "Examples: hds claim --month 2020-10" in ok("claim", "-h")


def test_long_output_is_paged_on_a_terminal_and_printed_plainly_when_piped(monkeypatch):
    import shutil

    import click

    from claims.report import text as terminal

    paged, echoed = [], []
    monkeypatch.setattr(click, "echo_via_pager", lambda content: paged.append(content))
    monkeypatch.setattr(click, "echo", lambda content, **kw: echoed.append(content))
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=None: __import__("os").terminal_size((80, 24)))
    long, short = "\n".join(f"line {n}" for n in range(100)), "one line"
    monkeypatch.setattr(terminal.sys.stdout, "isatty", lambda: True)
    terminal.show(long)
    terminal.show(short)
    assert paged == [long] and echoed == [short]
    monkeypatch.setattr(terminal.sys.stdout, "isatty", lambda: False)
    terminal.show(long)
    assert paged == [long] and echoed == [short, long]  # piped: never paged
