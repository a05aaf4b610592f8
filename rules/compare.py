"""Compare two allocation tables of one month: what other rules or parameters would change.

Give it the month's allocation table under the current rules (**base**) and
under an alternative library (**alternative**: say, an exported copy with a
different free period), computed from the same data. The result, JSON-able::

    {"month": "2020-10",
     "base":        {"total": {...}, "funders": {funder: {"days", "amount"}},
                     "schemes": {scheme: {funder: {"days", "amount"}}}},
     "alternative": {... the same ...},
     "difference":  {funder: {"days": int, "amount": "decimal string"}},   # alternative - base
     "lines": [{episode or block, funder, scheme and days, amount, rule on each side, days_moved, amount_moved}],
     "episodes_changed": int}

A line is an (episode or block cost, funder) of the month whose days,
amount, rule or scheme differ between the sides; a side without that
funder shows 0 days and an empty rule. Amounts are pounds as decimal
strings, computed from integer pence. A discharge outside every scheme is
listed under the scheme "(none)".

Rules move days between funders but cannot add or remove days: for every
episode (and block cost) the days moved add up to zero. ``compare`` checks
this and refuses two tables for which it does not hold (they were not made
from the same data and month).
"""

from __future__ import annotations

from hds.errors import HdsError
from hds.facts import FUNDER_NAMES
from hds.money import pounds
from hds.table import Table

NO_SCHEME = "(none)"


class CompareError(HdsError):
    """Two allocation tables that cannot be compared."""


def compare(base: Table, alternative: Table, month: str | None = None) -> dict:
    """Base and alternative allocation tables of one month, side by side (see the module's docstring)."""
    month = _month(base, alternative, month)
    sides = {"base": _rows(base, month), "alternative": _rows(alternative, month)}
    figures = {name: _by_funder(rows) for name, rows in sides.items()}
    result = {"month": month}
    for name, rows in sides.items():
        result[name] = _totals(rows, figures[name])
    result["difference"] = {
        funder: {"days": figures["alternative"][funder][0] - figures["base"][funder][0],
                 "amount": str(pounds(figures["alternative"][funder][1] - figures["base"][funder][1]))}
        for funder in FUNDER_NAMES}
    lines, moved = [], {}
    base_rows, alt_rows = sides["base"], sides["alternative"]
    for key in sorted(set(base_rows) | set(alt_rows), key=lambda k: (k[0], k[1], FUNDER_NAMES.index(k[2]))):
        b, a = base_rows.get(key), alt_rows.get(key)
        b_days, a_days = (b["days"] if b else 0), (a["days"] if a else 0)
        b_pence, a_pence = (b["amount_pence"] if b else 0), (a["amount_pence"] if a else 0)
        item = (key[0], key[1])
        moved[item] = moved.get(item, 0) + a_days - b_days
        if b and a and (b_days, b_pence, b["rule"], b["scheme"]) == (a_days, a_pence, a["rule"], a["scheme"]):
            continue
        either = b or a
        lines.append({
            "patient_id": either["patient_id"], "discharge_id": either["discharge_id"],
            "episode_id": either["episode_id"], "block_id": either["block_id"], "funder": key[2],
            "base_scheme": _scheme(b), "base_days": b_days, "base_amount": str(pounds(b_pence)),
            "base_rule": b["rule"] if b else "",
            "alternative_scheme": _scheme(a), "alternative_days": a_days, "alternative_amount": str(pounds(a_pence)),
            "alternative_rule": a["rule"] if a else "",
            "days_moved": a_days - b_days, "amount_moved": str(pounds(a_pence - b_pence)),
        })
    unbalanced = [item for item, days in moved.items() if days]
    if unbalanced:
        kind, ident = unbalanced[0]
        raise CompareError(f"{kind} {ident} has {moved[unbalanced[0]]:+d} days in {month} under the alternative: "
                           "rules can only move days between funders, so the two tables were not computed from the "
                           "same data and month")
    result["lines"] = lines
    result["episodes_changed"] = len({(line["episode_id"], line["block_id"]) for line in lines})
    return result


def _month(base: Table, alternative: Table, month: str | None) -> str:
    if month is not None:
        return month
    months = {m for table in (base, alternative) if len(table) for m in table["month"].tolist()}
    if len(months) != 1:
        raise CompareError("give the month to compare: the tables hold "
                           + (", ".join(sorted(months)) if months else "no rows"))
    return months.pop()


def _rows(table: Table, month: str) -> dict[tuple[str, str, str], dict]:
    rows = {}
    for record in table.records():
        if record["month"] != month:
            continue
        kind, ident = ("episode", record["episode_id"]) if record["episode_id"] else ("block", record["block_id"])
        key = (kind, ident, record["funder"])
        if key in rows:
            raise CompareError(f"{kind} {ident} has two rows for funder {record['funder']} in {month}: "
                               "not an allocation table")
        rows[key] = record
    return rows


def _scheme(row: dict | None) -> str:
    if row is None:
        return ""
    return row["scheme"] or NO_SCHEME


def _by_funder(rows: dict) -> dict[str, tuple[int, int]]:
    """funder -> (days, pence), every funder present."""
    figures = {f: [0, 0] for f in FUNDER_NAMES}
    for record in rows.values():
        figures[record["funder"]][0] += record["days"]
        figures[record["funder"]][1] += record["amount_pence"]
    return {f: (d, p) for f, (d, p) in figures.items()}


def _totals(rows: dict, by_funder: dict[str, tuple[int, int]]) -> dict:
    schemes: dict[str, dict[str, list[int]]] = {}
    for record in rows.values():
        figures = schemes.setdefault(record["scheme"] or NO_SCHEME, {}).setdefault(record["funder"], [0, 0])
        figures[0] += record["days"]
        figures[1] += record["amount_pence"]
    return {
        "total": {"days": sum(d for d, _ in by_funder.values()),
                  "amount": str(pounds(sum(p for _, p in by_funder.values())))},
        "funders": {f: {"days": d, "amount": str(pounds(p))} for f, (d, p) in by_funder.items()},
        "schemes": {scheme: {funder: {"days": d, "amount": str(pounds(p))}
                             for funder, (d, p) in sorted(funders.items(), key=lambda x: FUNDER_NAMES.index(x[0]))}
                    for scheme, funders in sorted(schemes.items())},
    }
