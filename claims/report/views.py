"""What each report shows, in each format: allocations, claims, reconciliations, recharges,
findings, coverage and comparisons as a readable table,
CSV, JSON or an Excel workbook.

Money leaves the program as pounds with two decimals: a Decimal in Excel
cells, a decimal string in JSON, plain text in CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from claims.claim import LINE_FIELDS, Claim
from claims.report.deliver import Report
from claims.report.formats import Pounds, columns_csv, ids_cell, pounds_column, to_csv, to_json  # noqa: F401 (re-exported)
from claims.report.formats import ids_column, text_columns
from hds.money import format_pounds, format_pounds_each, pounds
from hds.table import Table

if TYPE_CHECKING:  # named in annotations only: the claim's view does not pay for importing them
    from claims.recharge import Recharge
    from claims.reconcile import Reconciliation

ALLOCATION_COLUMNS = ["patient_id", "discharge_id", "episode_id", "block_id", "scheme", "month",
                      "funder", "days", "amount", "rule"]
CLAIM_COLUMNS = ["kind", "patient_id", "discharge_id", "episode_id", "block_id", "description",
                 "scheme", "service", "organisation", "days", "amount"]
ADJUSTMENT_COLUMNS = ["claim_month"] + CLAIM_COLUMNS + ["reason"]


# --- plain helpers --------------------------------------------------------------

def to_table(records: list[dict], columns: list[str]) -> str:
    """Aligned text for the terminal: readable headings, money right-aligned as £1,234.50 / -£248.38."""
    from claims.report import columns as fields
    from claims.report.text import Shown, table, terminal_width

    def shown(value):
        return format_pounds(int(Decimal(value) * 100)) if isinstance(value, (Decimal, Pounds)) else value

    return table([Shown(fields.heading(c), [shown(r[c]) for r in records],
                         "right" if fields.kind(c) in ("money", "int") else "left")
                  for c in columns], terminal_width())


# --- allocations ------------------------------------------------------------------

def allocation_records(rows: Table) -> list[dict]:
    names = [c for c in ALLOCATION_COLUMNS if c != "amount"] + ["amount_pence"]
    return [{**dict(zip(names[:-1], values[:-1])), "amount": Pounds.of(values[-1])} for values in rows.rows(names)]


def allocations_report(rows: Table) -> Report:
    return Report("", tuple(ALLOCATION_COLUMNS), allocation_records(rows), sheet="Allocations",
                  shown=("patient_id", "episode_id", "block_id", "scheme", "funder", "days", "amount", "rule"))


# --- claims -------------------------------------------------------------------------

def line_records(lines: Table) -> list[dict]:
    """Claim lines as records: LINE_FIELDS, with the amount in pounds last."""
    keys = [f for f in LINE_FIELDS if f != "amount_pence"] + ["amount"]
    return [dict(zip(keys, values[:-1] + (Pounds.of(values[-1]),))) for values in lines.rows(keys[:-1] + ["amount_pence"])]


def claim_totals(claim: Claim) -> dict:
    return {
        "claim": pounds(claim.total_pence),
        "current": pounds(claim.current_pence),
        "adjustments": pounds(claim.adjustments_pence),
        "individual": pounds(claim.total_of_kind("individual")),
        "block": pounds(claim.total_of_kind("block")),
        "by_scheme": {k: pounds(v) for k, v in claim.totals_by("scheme").items()},
        "by_service": {k: pounds(v) for k, v in claim.totals_by("service").items()},
        "by_organisation": {k: pounds(v) for k, v in claim.totals_by("organisation").items()},
    }


def claim_json(claim: Claim) -> str:
    lines = line_records(claim.lines)
    for line in lines:
        del line["reason"]
    return to_json({"month": claim.month, "rulebook_version": claim.rulebook_version, "load": claim.load_id,
                    "submission": claim.submission["id"] if claim.submission else None,
                    "lines": lines, "adjustments": line_records(claim.adjustments), "totals": claim_totals(claim)})


def claim_csv(claim: Claim) -> str:
    """One table: current lines (claim_month = the month) then adjustments."""
    lines = Table.concat([claim.lines, claim.adjustments])
    columns = [pounds_column(lines["amount_pence"].tolist()) if c == "amount" else lines[c].tolist()
               for c in ADJUSTMENT_COLUMNS]
    return columns_csv(ADJUSTMENT_COLUMNS, columns, [c not in ("days", "amount") for c in ADJUSTMENT_COLUMNS])


def lines_table(lines: Table, columns: list[str]) -> str:
    """Claim lines for the terminal, straight from their columns: services by name, an episode or a
    block cost in one column ("item")."""
    from claims.report import columns as fields
    from claims.report.labels import service_text
    from claims.report.text import Shown, table, terminal_width

    def values(c):
        if c == "amount":
            return format_pounds_each(lines["amount_pence"])
        if c == "item":
            return [e or b for e, b in zip(lines["episode_id"].tolist(), lines["block_id"].tolist())]
        if c == "service":
            services = lines["service"].tolist()
            return list(map({s: service_text(s) for s in set(services)}.__getitem__, services))
        return lines[c].tolist()

    return table([Shown(fields.heading(c) if c != "item" else "Episode", values(c),
                        "right" if fields.kind(c) in ("money", "int") else "left") for c in columns], terminal_width())


TERMINAL_LINE_COLUMNS = ["patient_id", "item", "scheme", "service", "organisation", "days", "amount"]
TERMINAL_ADJUSTMENT_COLUMNS = ["claim_month", "patient_id", "item", "scheme", "days", "amount", "reason"]


def claim_heading(claim: Claim) -> list[str]:
    counts = f"{len(claim.lines):,} line(s), {len(claim.adjustments):,} adjustment(s)"
    if claim.status == "not claimed":
        return [f"Not claimed: {claim.month} is before {claim.first_submitted}, the first month submitted; it was "
                f"claimed outside hds and hds never claims it. What the data gives for it: {counts}"] + claim.notes
    title = {"submitted": "Claim", "draft": "Draft claim", "carried": "What was claimed"}[claim.status]
    return [f"{title} to NHS England for {claim.month}: {counts}"] + claim.notes


def claim_table(claim: Claim, summary: bool = False) -> str:
    """The claim for the terminal: its lines and adjustments (unless `summary`), then its summary."""
    parts = claim_heading(claim) + [""]
    if claim.lines and not summary:
        parts += [lines_table(claim.lines, TERMINAL_LINE_COLUMNS), ""]
    if claim.adjustments and not summary:
        parts += ["Adjustments for earlier months", lines_table(claim.adjustments, TERMINAL_ADJUSTMENT_COLUMNS), ""]
    return "\n".join(parts + claim_summary(claim))


def claim_summary(claim: Claim) -> list[str]:
    """The claim's totals: by scheme (this month, adjustments, total), by earlier month, service and organisation."""
    from claims.report.labels import service_text
    from claims.report.text import Shown, table, terminal_width

    current, adjusted = claim.totals_by("scheme", "current"), claim.totals_by("scheme", "adjustments")
    schemes = sorted(set(current) | set(adjusted))
    money = [format_pounds(current.get(s, 0)) for s in schemes], [format_pounds(adjusted.get(s, 0)) for s in schemes]
    parts = [f"Summary of the claim for {claim.month}", "", table([
        Shown("Scheme", schemes + ["Total"]), Shown("This month", money[0] + [format_pounds(claim.current_pence)], "right"),
        Shown("Adjustments", money[1] + [format_pounds(claim.adjustments_pence)], "right"),
        Shown("Total", [format_pounds(current.get(s, 0) + adjusted.get(s, 0)) for s in schemes]
              + [format_pounds(claim.total_pence)], "right")], terminal_width()), ""]
    if len(claim.adjustments):
        by_month = claim.totals_by("claim_month", "adjustments")
        parts += [table([Shown("Adjusted month", list(by_month)),
                         Shown("Amount", [format_pounds(v) for v in by_month.values()], "right")], terminal_width()), ""]
    for title, key, label in (("Service", "service", service_text), ("Organisation", "organisation", str)):
        totals = claim.totals_by(key)
        parts += [table([Shown(title, [label(k) for k in totals]),
                         Shown("Amount", [format_pounds(v) for v in totals.values()], "right")], terminal_width()), ""]
    parts += [f"Individual lines: {format_pounds(claim.total_of_kind('individual'))}",
              f"Block lines: {format_pounds(claim.total_of_kind('block'))}",
              f"Adjustments: {format_pounds(claim.adjustments_pence)}"]
    if claim.status == "not claimed":
        return parts + [f"Not claimed by hds; the data gives {claim.month}: {format_pounds(claim.total_pence)}"]
    return parts + [f"Total claim for {claim.month}: {format_pounds(claim.total_pence)}"]


# --- reconciliation -------------------------------------------------------------

def reconciliation_records(rec: Reconciliation) -> list[dict]:
    return [{"month": rec.month, "scheme": s.scheme, "claimed": pounds(s.claimed_pence),
             "received": pounds(s.received_pence),
             "difference": pounds(s.received_pence - s.claimed_pence) if s.status != "awaiting" else "",
             "status": s.status, "council_share": pounds(s.split["council"]) if s.split else "",
             "ccg_share": pounds(s.split["ccg"]) if s.split else ""} for s in rec.schemes]


def running_records(rec: Reconciliation) -> list[dict]:
    return [{"month": p.month, "claimed": pounds(p.claimed_pence), "received": pounds(p.received_pence),
             "difference": pounds(p.received_pence - p.claimed_pence) if p.status != "awaiting" else "",
             "status": p.status} for p in rec.running]


RECONCILE_COLUMNS = ["month", "scheme", "claimed", "received", "difference", "status", "council_share", "ccg_share"]
RUNNING_COLUMNS = ["month", "claimed", "received", "difference", "status"]


def reconciliation_report(rec: Reconciliation) -> Report:
    """`hds reconcile`: per scheme, then the running position; the pack's Reconciliation sheet shows it too."""
    rule = f"Shortfalls are split between the partners {rec.split_rule} (5.4)"
    records, running = reconciliation_records(rec), running_records(rec)
    return Report(
        f"Reconciliation of submission {rec.submission_id} ({rec.month}) with money received from NHS England",
        tuple(RECONCILE_COLUMNS), records, (rule + ".",),
        {"month": rec.month, "submission": rec.submission_id, "schemes": records, "running": running,
         "shortfall_split": rec.split_rule},
        (Report("Running position", tuple(RUNNING_COLUMNS), running, sheet="Running position", heading=rule),),
        sheet="Reconciliation", total=True, shown=tuple(RECONCILE_COLUMNS[1:]),
        heading=f"Submission {rec.submission_id} ({rec.month}) and the money received from NHS England")


# --- recharge ------------------------------------------------------------------------

def recharge_records(r: Recharge) -> list[dict]:
    return [{"item": i.description, "owed_by": r.ccg if i.payer == "ccg" else r.council,
             "owed_to": r.council if i.payer == "ccg" else r.ccg, "lines": i.lines, "amount": pounds(i.pence)}
            for i in r.items]


RECHARGE_COLUMNS = ["item", "owed_by", "owed_to", "lines", "amount"]


def recharge_net(r: Recharge) -> str:
    net = r.ccg_owes_council
    if net == 0:
        return f"Net for {r.month}: nothing due either way"
    payer, payee = (r.ccg, r.council) if net > 0 else (r.council, r.ccg)
    return f"Net for {r.month}: {payer} owes {payee} {format_pounds(abs(net))}"


def recharge_report(r: Recharge) -> Report:
    """`hds recharge`: the items between the partners and the net; the pack's Recharge sheet shows it too."""
    net = r.ccg_owes_council
    records = recharge_records(r)
    return Report(
        f"Recharge statement between {r.council} (council) and {r.ccg} (CCG) for {r.month}",
        tuple(RECHARGE_COLUMNS), records, (recharge_net(r),),
        {"month": r.month, "council": r.council, "ccg": r.ccg, "items": records,
         "net": {"owed_by": r.ccg if net >= 0 else r.council, "owed_to": r.council if net >= 0 else r.ccg,
                 "amount": pounds(abs(net))}},
        sheet="Recharge",
        heading=f"Recharge between {r.council} (council) and {r.ccg} (CCG) for {r.month}. {recharge_net(r)}")


# --- rules: coverage and comparison -----------------------------------------------------

COVERAGE_COLUMNS = ["rule", "funder", "cites", "rows", "days", "amount", "sole_days", "sole_amount"]


def coverage_records(result: dict) -> list[dict]:
    return [{**r, "cites": ", ".join(r["cites"]), "amount": Pounds(r["amount"]),
             "sole_amount": Pounds(r["sole_amount"])} for r in result["rules"]]


def coverage_table(result: dict, month: str) -> str:
    from claims.report.text import Shown, table, terminal_width

    def pence(text):
        return format_pounds(int(Decimal(text) * 100))

    rules = result["rules"]
    paragraphs = result["paragraphs"]
    parts = [f"Rules and paragraphs that decided the days of {month}", "",
             table([Shown("Rule", [r["rule"] for r in rules]), Shown("Funder", [r["funder"] for r in rules]),
                    Shown("Paragraphs", [", ".join(r["cites"]) for r in rules]),
                    Shown("Days", [f"{r['days']:,}" for r in rules], "right"),
                    Shown("Amount", [pence(r["amount"]) for r in rules], "right")], terminal_width()), "",
             table([Shown("Paragraph", [p["paragraph"] for p in paragraphs]),
                    Shown("Rules citing it", [", ".join(p["rules"]) for p in paragraphs]),
                    Shown("Days", [f"{p['days']:,}" for p in paragraphs], "right"),
                    Shown("Amount", [pence(p["amount"]) for p in paragraphs], "right")], terminal_width()), ""]
    if result["unused"]:
        parts.append(f"Rules that decided no day this month: {', '.join(result['unused'])}")
    parts.append(f"Total: {result['total']['days']:,} days, {pence(result['total']['amount'])}; a day decided by "
                 "several rules (a rule cell such as a+b) counts for each of them")
    return "\n".join(parts)


def comparison_columns(result: dict) -> list[str]:
    return list(result["lines"][0]) if result["lines"] else [
        "patient_id", "discharge_id", "episode_id", "block_id", "funder", "base_days", "alternative_days", "days_moved"]


def pennies_note(result: dict) -> str:
    """Why the amounts moved need not add up to nothing: each (episode, month, funder) is rounded to the
    penny on its own, so the same days split differently between funders can cost a few pence more or less."""
    moved = sum(int(Decimal(d["amount"]) * 100) for d in result["difference"].values())
    if moved == 0:
        return "The amounts moved add up to £0.00."
    return (f"The amounts moved add up to {format_pounds(moved)}, not £0.00: each episode's money is rounded to "
            "the penny once for each month and funder, so the same days split differently between funders can "
            "round to a few pence more or less.")


def comparison_table(result: dict, rules_dir) -> str:
    from claims.report.text import Shown, table, terminal_width

    def pence(text):
        return format_pounds(int(Decimal(text) * 100))

    funders = list(result["difference"])
    base, alt = result["base"]["funders"], result["alternative"]["funders"]
    parts = [f"{result['month']} under the shipped rules (base) and under {rules_dir} (alternative)", "",
             table([Shown("Funder", funders),
                    Shown("Base days", [f"{base.get(f, {}).get('days', 0):,}" for f in funders], "right"),
                    Shown("Base amount", [pence(base.get(f, {}).get("amount", "0")) for f in funders], "right"),
                    Shown("Alternative days", [f"{alt.get(f, {}).get('days', 0):,}" for f in funders], "right"),
                    Shown("Alternative amount", [pence(alt.get(f, {}).get("amount", "0")) for f in funders], "right"),
                    Shown("Days moved", [f"{result['difference'][f]['days']:+,}" for f in funders], "right"),
                    Shown("Amount moved", [pence(result["difference"][f]["amount"]) for f in funders], "right")],
                   terminal_width()), "",
             f"Days moved between funders add up to {sum(d['days'] for d in result['difference'].values()):+,} "
             f"(rules move days, they never add or remove them); {result['episodes_changed']:,} episode(s) changed.",
             pennies_note(result)]
    lines = result["lines"]
    if lines:
        shown = lines[:200]
        parts += ["", "Lines that changed" + (f" (the first 200 of {len(lines):,}; --csv for all)" if len(lines) > 200
                                             else ""),
                  table([Shown("Episode", [l["episode_id"] or l["block_id"] for l in shown]),
                         Shown("Funder", [l["funder"] for l in shown]),
                         Shown("Base", [f"{l['base_days']} d {l['base_rule']}" for l in shown]),
                         Shown("Alternative", [f"{l['alternative_days']} d {l['alternative_rule']}" for l in shown]),
                         Shown("Moved", [pence(l["amount_moved"]) for l in shown], "right")], terminal_width())]
    return "\n".join(parts)


# --- findings of the checks -------------------------------------------------------------

FINDING_COLUMNS = ["code", "severity", "paragraph", "subject", "patient", "discharge", "episode", "block", "event",
                   "amount", "message"]


def finding_columns(findings) -> dict[str, list]:
    """Each field of FINDING_COLUMNS as a list over the findings: the ids of a kind as the text of one
    cell, the amount as Pounds."""
    return {"code": [f.code for f in findings], "severity": [f.severity for f in findings],
            "paragraph": [f.paragraph for f in findings], "subject": [f.subject for f in findings],
            **{kind: ids_column([f.ids.get(kind, ()) for f in findings])
               for kind in ("patient", "discharge", "episode", "block", "event")},
            "amount": [Pounds.of(f.amount_pence) for f in findings], "message": [f.message for f in findings]}


def finding_records(findings) -> list[dict]:
    columns = finding_columns(findings)
    return [dict(zip(columns, row)) for row in zip(*columns.values())]


def findings_csv(findings) -> str:
    """The rows of `finding_records` as CSV (what `to_csv` writes), written a column at a time."""
    columns = finding_columns(findings)
    return columns_csv(FINDING_COLUMNS, [columns[c] for c in FINDING_COLUMNS], text_columns(FINDING_COLUMNS))


def finding_json(findings) -> list[dict]:
    return [{"code": f.code, "severity": f.severity, "paragraph": f.paragraph, "subject": f.subject,
             "ids": {k: list(v) for k, v in f.ids.items()}, "amount": Pounds.of(f.amount_pence),
             "message": f.message, "acknowledged": f.acknowledged or None} for f in findings]


def finding_totals(totals: dict) -> dict:
    return {"errors": totals["errors"], "warnings": totals["warnings"],
            "amount_at_stake": Pounds.of(totals["amount_at_stake_pence"]), "by_code": totals["by_code"]}


def findings_table(findings, month: str, summary: bool = False) -> str:
    """The findings for the terminal, a row each (unless `summary`), then their summary by code. The first
    line comes already fitted to the terminal, as `show` would fit it: then `show` finds no line to wrap
    among a national month's quarter of a million, and prints the text as it is, not taken apart."""
    from claims.report.text import Shown, fit, table, terminal_width

    if not findings:
        return f"No findings for {month}: every check passed."
    errors = sum(f.severity == "error" for f in findings)
    head = (f"{len(findings)} finding(s) for {month}: {errors} error(s), {len(findings) - errors} warning(s)"
            + ("; errors stop 'hds submit' until corrected or acknowledged" if errors else ""))
    width = terminal_width()
    fitted = fit(head, width)  # left to `show` when a word is wider than the terminal (fit twice, it moves)
    parts = [fitted if max(map(len, fitted.split("\n"))) <= width else head, ""]
    if not summary:
        parts += [table([
            Shown("Finding (CODE:SUBJECT)", [f.key for f in findings]),
            Shown("Severity", [f.severity for f in findings]), Shown("Para", [f.paragraph for f in findings]),
            Shown("At stake", [format_pounds(f.amount_pence) if f.amount_pence else "" for f in findings], "right"),
            Shown("What it means", [f.message + (f" Acknowledged: {f.acknowledged}." if f.acknowledged else "")
                                     for f in findings])], width), ""]
    return "\n".join(parts + findings_summary(findings, month))


def findings_summary(findings, month: str) -> list[str]:
    """The findings by code: severity, paragraph, how many, the money at stake."""
    from claims.report.text import Shown, table, terminal_width

    codes: dict[str, list] = {}
    for f in findings:
        codes.setdefault(f.code, []).append(f)
    rows = sorted(codes.items(), key=lambda item: (item[1][0].severity != "error", item[0]))
    return [f"Summary of the findings for {month}, by code", "", table([
        Shown("Code", [code for code, _ in rows] + ["Total"]),
        Shown("Severity", [found[0].severity for _, found in rows] + [""]),
        Shown("Para", [found[0].paragraph for _, found in rows] + [""]),
        Shown("Findings", [f"{len(found):,}" for _, found in rows] + [f"{len(findings):,}"], "right"),
        Shown("At stake", [format_pounds(sum(f.amount_pence for f in found)) for _, found in rows]
              + [format_pounds(sum(f.amount_pence for f in findings))], "right")], terminal_width())]


SEVERITIES = ("error", "warning")  # worst first


def failing(findings, fail_on: str | None) -> str:
    """For `hds check --fail-on SEVERITY`: why the check fails (empty when it passes)."""
    if fail_on is None:
        return ""
    worse = SEVERITIES[:SEVERITIES.index(fail_on) + 1]
    count = sum(f.severity in worse for f in findings)
    return (f"{count} finding(s) of severity {' or '.join(worse)} (--fail-on {fail_on}); the findings are listed above"
            if count else "")


def findings_report(findings, month: str, totals: dict, summary: bool = False) -> Report:
    """`hds check`: a finding a row; JSON lists every id, the table reads as sentences (with `summary`,
    only the summary by code). The rows and the JSON are made only for a format that shows them."""
    def data() -> dict:
        return {"month": month, "findings": finding_json(findings), "totals": finding_totals(totals)}

    return Report(f"Findings of the checks for {month}", tuple(FINDING_COLUMNS),
                  _Later(lambda: finding_records(findings)), sheet="Findings", total=True,
                  render={"table": lambda: findings_table(findings, month, summary), "json": lambda: to_json(data()),
                          "csv": lambda: findings_csv(findings)})


class _Later(Sequence):
    """Rows made when first read (a national month's findings are tens of thousands of rows)."""

    def __init__(self, make: Callable[[], list[dict]]):
        self._make = make

    @cached_property
    def _rows(self) -> list[dict]:
        return self._make()

    def __getitem__(self, index):
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)


def coverage_report(result: dict, month: str) -> Report:
    """`hds rules coverage`: days and money per rule and paragraph."""
    return Report(f"Rules and paragraphs that decided the days of {month}", tuple(COVERAGE_COLUMNS),
                  coverage_records(result), data={"month": month, **result}, sheet="Coverage",
                  render={"table": lambda: coverage_table(result, month)})


def comparison_report(result: dict, rules_dir) -> Report:
    """`hds compare`: a month under two sets of rules; the rows are the lines that changed."""
    return Report(f"{result['month']} under the shipped rules and under {rules_dir}",
                  tuple(comparison_columns(result)), result["lines"], data=result, sheet="Comparison",
                  render={"table": lambda: comparison_table(result, rules_dir)})


def claim_report(claim: Claim, pack=None, summary: bool = False) -> Report:
    """`hds claim --month`: its lines and adjustments, drawn their own way (the CSV column by column);
    `pack()`, when given, writes the month-end pack; `summary`: the table without the lines."""
    render = {"table": lambda: claim_table(claim, summary), "csv": lambda: claim_csv(claim),
              "json": lambda: claim_json(claim)}
    if pack is not None:
        render["xlsx"] = pack
    return Report(f"Claim to NHS England for {claim.month}", tuple(ADJUSTMENT_COLUMNS), sheet="Claim", render=render)
