"""`hds init SOURCE`: a starting hds.toml for an extract in a council's own shape.

It looks at every CSV file of the folder (or every sheet of the workbook)
and writes what it can tell: for each table of the contract, the file it
guessed; each contract column's heading, matched exactly, then with case and
punctuation folded, then as a close match (each marked in a comment, the
close ones as guesses to check); every distinct label of each coded column,
mapped where the label plainly names a code and otherwise left commented
out for the user to map; the date format its dates are written in; and the
organisation codes found, in a commented-out [partners]. What it writes is
only a start: `hds load` then either loads or names each line still missing.
"""

from __future__ import annotations

import difflib
import glob
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from hds.contract import CONTRACT, SPEC, Column, TableSpec
from hds.errors import HdsError
from hds.mapping import FLAG_CODES, allowed_codes, fold

CLOSE = 0.6  # the least similarity a close match (a guess) needs
MAX_LABELS = 60  # labels listed per column; a column with more is probably not coded
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%d %b %Y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d-%b-%y",
                "%d/%m/%y", "%Y/%m/%d")
USUAL_DATES = ("%Y-%m-%d", "%d/%m/%Y")  # what the contract reads without a date_format
# Headings that other systems use for the contract's columns (matched as close as the column's own name).
HINTS = {
    "discharge_id": ("discharge ref", "discharge no", "discharge number"),
    "patient_id": ("person id", "client id", "service user id", "person ref"),
    "discharge_date": ("date of discharge", "discharged on"),
    "kind": ("discharge route", "route", "discharge type"),
    "nhs_number": ("nhs no", "nhs num"),
    "episode_id": ("package id", "agreement no", "package ref", "service agreement id"),
    "service": ("service type", "care type", "package type"),
    "start_date": ("start", "from", "period start", "package start"),
    "end_date": ("end", "to", "period end", "package end"),
    "weekly_cost": ("cost per week", "weekly rate", "weekly cost gbp"),
    "organisation": ("funding organisation", "funder", "commissioner", "paid by"),
    "restart": ("restart of existing package", "restarted"),
    "bau_commissioned": ("commissioned as bau", "bau"),
    "event_id": ("record id", "event ref", "assessment id"),
    "event": ("event type", "assessment type"),
    "date": ("event date", "date of event", "assessment date"),
    "outcome": ("result", "decision outcome"),
    "block_id": ("block ref", "block no"),
    "description": ("details", "narrative"),
    "scheme": ("funding stream", "scheme name"),
    "amount": ("total cost", "total cost gbp", "value"),
    "receipt_id": ("payment ref", "remittance ref"),
    "claim_month": ("month claimed", "claim period"),
    "received_date": ("date received", "payment date"),
}


@dataclass
class Match:
    column: str
    heading: str
    how: str  # "exact", "folded" or "guess"


@dataclass
class Guess:
    """What `hds init` found for one table of the contract."""

    table: str
    files: list[str]  # the files (or sheets) it holds
    pattern: str  # the glob or sheet name written as `file`
    matches: list[Match]
    date_format: str | None
    dates_seen: list[str]  # a few date texts, when no format read them all
    labels: dict[str, Counter] = field(default_factory=dict)  # coded column -> label -> rows


@dataclass
class Started:
    """What `hds init` wrote, to tell the user."""

    path: Path
    guesses: list[Guess]
    unused: list[str]  # files (or sheets) that looked like no table
    organisations: Counter
    schemes: tuple[str, ...] = ()

    def summary(self) -> list[str]:
        lines = [f"Wrote {self.path}:"]
        for g in self.guesses:
            guessed = sum(m.how == "guess" for m in g.matches)
            to_map = sum(1 for column, labels in g.labels.items() for label in labels
                         if _label_code(SPEC[g.table].column(column), label, self.schemes) is None)
            lines.append(f"  {g.table:<12} {', '.join(g.files)}: {len(g.matches)} column(s) matched"
                         f"{f', {guessed} of them guesses to check' if guessed else ''}"
                         f"{f'; {to_map} label(s) to map' if to_map else ''}")
        lines += [f"  not a table: {name}" for name in self.unused]
        return lines


# --- the guessing ------------------------------------------------------------------------------

def _key(text: str) -> str:
    """A heading with case and punctuation folded: 'Discharge-Date ' and discharge_date agree."""
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def _words(text: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", str(text).casefold()))


def similarity(heading: str, column: str) -> tuple[float, str]:
    """How well a heading names a contract column, and how it was matched."""
    if heading == column:
        return 1.0, "exact"
    if _key(heading) == _key(column):
        return 0.99, "folded"
    words = _words(heading)
    names = (column.replace("_", " "), *HINTS.get(column, ()))
    best = max(difflib.SequenceMatcher(None, words, name).ratio() for name in names)
    if any(_key(name) == _key(heading) for name in HINTS.get(column, ())):
        best = max(best, 0.95)
    return best, "guess"


def match_columns(spec: TableSpec, headings: list[str]) -> list[Match]:
    """Each contract column's heading: the most similar pairs first, each heading used once."""
    pairs = []
    for column in spec.columns:
        for heading in headings:
            score, how = similarity(heading, column.name)
            if score >= CLOSE:
                pairs.append((score, column.name, heading, how))
    taken_columns, taken_headings, matches = set(), set(), {}
    for score, column, heading, how in sorted(pairs, key=lambda p: -p[0]):
        if column not in taken_columns and heading not in taken_headings:
            taken_columns.add(column)
            taken_headings.add(heading)
            matches[column] = Match(column, heading, how)
    return [matches[c.name] for c in spec.columns if c.name in matches]


def _table_score(spec: TableSpec, name: str, headings: list[str]) -> float:
    """How much a file looks like a table: its columns matched (required ones count double), and its name."""
    score = 0.0
    for m in match_columns(spec, headings):
        weight = 2 if spec.column(m.column).required else 1
        score += weight * (1.0 if m.how != "guess" else 0.6)
    stem = _words(Path(name).stem)
    if any(word in stem for word in (spec.name.rstrip("s"), spec.name.replace("_", " ").rstrip("s"))):
        score += 1
    return score


def assign_tables(raws: dict) -> tuple[dict[str, list[str]], list[str]]:
    """Which files (keys of `raws`) hold which table: the best file for each table, then the files
    with the same headings as it (an extract split by period); the rest hold no table."""
    scores = sorted(((_table_score(spec, raw.source, [h for h in raw.header if h]), spec.name, key)
                     for spec in CONTRACT for key, raw in raws.items()), key=lambda s: (-s[0], s[1], s[2]))
    chosen: dict[str, list[str]] = {}
    used: set[str] = set()
    for score, table, key in scores:
        if score >= 3 and table not in chosen and key not in used:
            chosen[table] = [key]
            used.add(key)
    for table, keys in chosen.items():
        header = raws[keys[0]].header
        keys += [k for k in sorted(raws) if k not in used and raws[k].header == header]
        used.update(keys)
    return chosen, [raws[k].source for k in sorted(raws) if k not in used]


def pattern_of(names: list[str], workbook: bool) -> str:
    """The `file` of a table: the name itself (a sheet's exactly, a file's as a glob), or for several files
    or sheets a glob of what they share."""
    if len(names) == 1:
        return names[0] if workbook else glob.escape(names[0])
    prefix = os.path.commonprefix(names)
    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1]
    suffix = suffix[len(suffix) - max(min(map(len, names)) - len(prefix), 0):]  # the two may not overlap
    return glob.escape(prefix) + "*" + glob.escape(suffix)


def date_format_of(texts: list[str]) -> str | None:
    """The first format that reads every one of `texts` (None if none does)."""
    import datetime as dt

    for fmt in DATE_FORMATS:
        try:
            for text in texts:
                dt.datetime.strptime(text, fmt)
            return fmt
        except ValueError:
            continue
    return None


def _label_code(column: Column, label: str, schemes: tuple[str, ...] = ()) -> str | None:
    """The code a label plainly names, or None: the code itself, its words, or one number in common."""
    codes = allowed_codes(column) or (schemes if column.kind == "scheme" else ())
    from hds.load import FLAG_WORDS

    if column.kind == "flag" and fold(label) in FLAG_WORDS:
        return label  # a yes/no the contract reads as it is
    if label in codes:
        return label
    words = set(_words(label).split())
    named = [c for c in codes if set(c.lower().split("_")) <= words]
    if len(named) == 1:
        return named[0]
    numbers = set(re.findall(r"\d+", label))
    numbered = [c for c in codes if set(re.findall(r"\d+", c)) and set(re.findall(r"\d+", c)) == numbers]
    return numbered[0] if len(numbered) == 1 else None


# --- reading the extract ------------------------------------------------------------------------

def read_every_table(source: Path):
    """Every CSV file of a folder, or every sheet of a workbook, read as a table (hds.sources), and the
    name of each (file name or sheet title) by its key in the tables."""
    from hds.sources import WORKBOOK_SUFFIXES, read_source

    if source.is_dir():
        names = {e.name.lower(): e.name for e in sorted(source.iterdir())
                 if e.is_file() and e.suffix.lower() == ".csv"}
        return read_source(source, tuple(names), {k: glob.escape(n) for k, n in names.items()}), names
    elif source.suffix.lower() in WORKBOOK_SUFFIXES:
        import openpyxl

        book = openpyxl.load_workbook(source, read_only=True)
        names = {ws.title.strip().lower(): ws.title for ws in book.worksheets}
        book.close()
    else:
        raise HdsError(f"{source}: expected a folder of CSV files or an .xlsx workbook")
    return read_source(source, tuple(names), names), names


def guess_table(table: str, raws: list, names: list[str], workbook: bool, schemes: tuple[str, ...]) -> Guess:
    """What can be told of one table from its files (or sheet) `raws`, named `names` in the folder or book."""
    spec = SPEC[table]
    matches = match_columns(spec, [h for h in raws[0].header if h])
    heading = {m.column: m.heading for m in matches}
    dates, labels = [], {}
    for column in spec.columns:
        if column.name not in heading:
            continue
        cells = [str(v).strip() for raw in raws for v in raw.frame[heading[column.name]].tolist()
                 if v is not None and str(v).strip()]
        if column.kind == "date":
            dates += [c for c in dict.fromkeys(cells)][:5000]
        elif column.coded and column.kind != "id":
            labels[column.name] = _by_label(cells)
    fmt = date_format_of(dates) if dates else None
    return Guess(table, [r.source for r in raws], pattern_of(names, workbook), matches,
                 fmt, [] if fmt or not dates else dates[:3], labels)


def _by_label(cells: list[str]) -> Counter:
    """Rows per label, labels that differ only in case and spaces counted as their commonest spelling."""
    spelt = Counter(cells)
    merged: dict[str, Counter] = {}
    for text, rows in spelt.items():
        merged.setdefault(fold(text), Counter())[text] = rows
    return Counter({forms.most_common(1)[0][0]: sum(forms.values()) for forms in merged.values()})


def _organisations(guesses: list[Guess], raws_by_table: dict) -> Counter:
    found = Counter()
    for g in guesses:
        heading = {m.column: m.heading for m in g.matches}.get("organisation")
        if heading:
            for raw in raws_by_table[g.table]:
                found.update(str(v).strip() for v in raw.frame[heading].tolist() if v is not None and str(v).strip())
    return found


def start(source: Path | str, target: Path | str, force: bool = False, schemes: tuple[str, ...] = ()) -> Started:
    """Look at the extract `source` and write a starting hds.toml to `target`; never over an existing
    file unless `force`."""
    source, target = Path(source), Path(target)
    if target.exists() and not force:
        raise HdsError(f"{target} already exists; hds init never overwrites it (use --force to replace it, or "
                       "run hds init with --db in another folder)")
    read, names = read_every_table(source)
    if not read.tables:
        raise HdsError(f"{source}: no CSV file or sheet that could be read as a table")
    raws = {key: raw for key, raw in read.tables.items()}
    workbook = not source.is_dir()
    chosen, unused = assign_tables(raws)
    by_table = {t: [raws[k] for k in keys] for t, keys in chosen.items()}
    guesses = [guess_table(spec.name, by_table[spec.name], [names[k] for k in chosen[spec.name]], workbook, schemes)
               for spec in CONTRACT if spec.name in by_table]
    started = Started(target, guesses, unused, _organisations(guesses, by_table), schemes)
    from hds.files import write_private

    refused = None if force else f"{target} already exists; hds init never overwrites it (use --force to replace it)"
    write_private(Path(target), render(started, source, schemes).encode("utf-8"), exists=refused)
    return started


# --- writing hds.toml ---------------------------------------------------------------------------

def _q(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(str(text), ensure_ascii=False)


def render(started: Started, source: Path, schemes: tuple[str, ...]) -> str:
    lines = [f"# A starting hds.toml, written by hds init from {source.name}. Check every line marked",
             "# 'guess', map every label marked 'to map' (remove the # and write the code), name the",
             "# partners, then run hds load: it loads, or names each line of the mapping still missing.", ""]
    lines += _partners(started.organisations)
    for g in started.guesses:
        lines += _table_lines(g, schemes)
    missing = [spec.name for spec in CONTRACT if spec.name not in {g.table for g in started.guesses}]
    if missing:
        lines += [f"# No file looked like {', '.join(missing)}: add [input.<table>] with its file when you have one."]
    if started.unused:
        lines += [f"# Not a table of the contract, so not read: {', '.join(started.unused)}"]
    return "\n".join(lines) + "\n"


def _partners(organisations: Counter) -> list[str]:
    codes = [code for code, _ in organisations.most_common()]
    found = ", ".join(f"{code} ({rows:,} rows)" for code, rows in organisations.most_common()) or "none found"
    council = codes[0] if codes else "..."
    ccg = next((c for c in codes if re.search(r"ccg|icb", c, re.I)), codes[1] if len(codes) > 1 else "...")
    if ccg == council:
        council = next((c for c in codes if c != ccg), "...")
    return ["# The recharge needs to know who is who; the organisation codes in the data:",
            f"#   {found}", "# [partners]", f"# council = {_q(council)}   # guess", f"# ccg = {_q(ccg)}   # guess", ""]


def _table_lines(g: Guess, schemes: tuple[str, ...]) -> list[str]:
    spec = SPEC[g.table]
    lines = [f"[input.{g.table}]", f"file = {_q(g.pattern)}   # {' and '.join(g.files)}"]
    if g.date_format and g.date_format not in USUAL_DATES:
        lines.append(f"date_format = {_q(g.date_format)}")
    elif g.dates_seen:
        lines.append(f"# date_format = \"...\"   # to write: no usual format reads dates such as "
                     f"{', '.join(repr(d) for d in g.dates_seen)}")
    lines += ["", f"[input.{g.table}.columns]"]
    found = {m.column: m for m in g.matches}
    notes = {"exact": "exact", "folded": "case and punctuation folded", "guess": "guess: a close match, check it"}
    for column in spec.columns:
        m = found.get(column.name)
        if m is not None:
            lines.append(f"{column.name} = {_q(m.heading)}   # {notes[m.how]}")
        else:
            need = "required: write their heading" if column.required else "optional; not found"
            lines.append(f"# {column.name} = \"...\"   # {need}")
    for column_name, labels in g.labels.items():
        lines += _value_lines(g.table, spec.column(column_name), labels, schemes)
    return lines + [""]


def _rows(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def _value_lines(table: str, column: Column, labels: Counter, schemes: tuple[str, ...]) -> list[str]:
    codes = allowed_codes(column) or (schemes if column.kind == "scheme" else FLAG_CODES)
    lines = ["", f"[input.{table}.values.{column.name}]"]
    listed = labels.most_common(MAX_LABELS)
    for label, rows in sorted(listed):
        code = _label_code(column, label, schemes)
        if code is None:
            lines.append(f"# {_q(label)} = \"\"   # to map ({_rows(rows)}): one of {', '.join(codes)}")
        elif code != label:
            lines.append(f"{_q(label)} = {_q(code)}   # guess ({_rows(rows)})")
    if len(labels) > MAX_LABELS:
        lines.append(f"# ... and {len(labels) - MAX_LABELS:,} more labels: is this column really {column.name}?")
    if len(lines) == 2:
        return []  # every label already is a code: nothing to map
    return lines
