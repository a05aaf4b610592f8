"""`hds status` and `hds claim --from/--to`: months side by side, for the terminal and as data."""

from __future__ import annotations

from claims.overview import MONTH_STATES, Overview, recharge_net
from claims.report.labels import when_text
from claims.report.deliver import Report
from claims.report.formats import pounds_text
from claims.report.text import Shown, table, terminal_width
from hds.days import iso
from hds.money import format_pounds
from hds.month import Month
from hds.timetable import deadlines, spoken


def _day(day) -> str:
    """'Wed 23 Dec 2020', or blank."""
    return spoken(day, "ddd D MMM YYYY") if day is not None else ""


def _recharge_text(recharge: dict | None) -> str:
    if recharge is None:
        return ""
    if not recharge["amount"]:
        return "nothing due"
    return f"{recharge['owed_by']} owes {recharge['owed_to']}"


def recharge_owed(net: int | None, config) -> dict | None:
    """The recharge of a submitted month as who owes whom how much (pence); None for a month not submitted."""
    if net is None:
        return None
    payer, payee = (config.ccg, config.council) if net >= 0 else (config.council, config.ccg)
    return {"owed_by": payer if net else None, "owed_to": payee if net else None, "amount": abs(net)}


def status_span(source, config) -> tuple[Month, Month]:
    """The months `hds status` lists: every month of the data, and every month of [timetable]."""
    months = [Month.of_day(source.first_day()), Month.of_day(source.latest_day()), *config.timetable]
    return min(months), max(months)


def deadline_reminders(ov: Overview, config, on) -> list[str]:
    """A month not yet submitted (nor claimed in a later submission) whose information is due to the
    CCG within three working days of `on`: what to say about it, first."""
    due = deadlines(config.timetable)
    return [text for m in ov.months if m.month in due and not m.submission and not m.carried_in
            for text in [due[m.month].reminder(on)] if text]


def status_rows(ov: Overview, config) -> list[dict]:
    """Each month's figures (money in pence; None where there is nothing)."""
    rows = []
    due = deadlines(config.timetable)
    for m in ov.months:
        s = m.submission
        rows.append({
            "month": m.month, "claim": m.total_pence, "state": m.state,
            "submitted": {"id": s["id"], "at": s["submitted_at"], "hash": s["hash"]} if s else None,
            "claimed_in": {"id": m.carried_in[0], "month": m.carried_in[1]} if m.carried_in else None,
            "received": m.received_pence if m.received_any else None,
            "payment": m.payment if s else None, "recharge": recharge_owed(recharge_net(m, config), config),
            "to_partners": m.amount_by_funder.get("ccg", 0) + m.amount_by_funder.get("council", 0),
            "deadline": due[m.month].deadline if m.month in due else None,
            "due_to_ccg": due[m.month].due if m.month in due else None,
        })
    return rows


def _submitted_text(row: dict) -> str:
    if row["submitted"]:
        day = when_text(row["submitted"]["at"], time=False).split(" ")
        return f"#{row['submitted']['id']}, {day[0]} {day[1][:3]} {day[2]}" if len(day) == 3 else f"#{row['submitted']['id']}"
    if row["claimed_in"]:
        return f"in #{row['claimed_in']['id']} ({row['claimed_in']['month']})"
    return ""


def next_steps(ov: Overview, warnings: tuple[str, ...], findings_note: str = "", reminders: list[str] = (),
               partners_named: bool = True) -> list[str]:
    steps = list(reminders) + [f"run 'hds verify': {w}" for w in warnings]
    if not partners_named:
        steps.append("name the council and the CCG in [partners] of hds.toml beside the store (council = \"...\", "
                     "ccg = \"...\") to see each month's recharge and invoice")
    submitted = [m for m in ov.months if m.submission]
    if submitted:
        last = submitted[-1].month
        after = [m for m in ov.months if m.month > last and (m.claimed_pence or m.days_by_funder)]
        if after:
            steps.append(f"check and submit {after[0].month}: hds claim --month {after[0].month}; "
                         f"hds submit --month {after[0].month}")
    else:
        steps.append("no month is submitted yet: check the first month hds is to claim (hds claim --month M) "
                     "and submit it (hds submit --month M); months before it stay outside hds")
    for m in submitted:
        if m.payment == "awaiting":
            steps.append(f"{m.month}: load NHS England's receipts when they arrive (hds load DIR with receipts.csv), "
                         f"then hds reconcile --month {m.month}")
        elif m.payment in ("under-paid", "over-paid"):
            steps.append(f"{m.month}: {m.payment} by {format_pounds(abs(m.total_pence - m.received_pence))}: "
                         f"hds reconcile --month {m.month} and agree the split (5.4)")
    if findings_note:
        steps.append(findings_note)
    return steps


def ending_text(ending) -> str:
    """The status line of the people whose free care ends soon."""
    return (f"Free care ending within {ending.days} days of {iso(ending.as_of)} (the latest date in the data): "
            f"{ending.people} {'person' if ending.people == 1 else 'people'}; hds upcoming --as-of {iso(ending.as_of)} --days {ending.days} lists them")


def status_text(ov: Overview, config, steps: list[str], load_note: str, due_now: list[str] = (), ending=None) -> str:
    """The months' claims, then what fell to the partners and the recharge, then the timetable, each
    table narrow enough for an 80-column terminal; then the totals and the next steps. A month due to
    the CCG within three working days (`due_now`, from deadline_reminders) comes first."""
    rows = status_rows(ov, config)
    claims = table([
        Shown("Month", [r["month"] for r in rows]),
        Shown("State", [r["state"] for r in rows]),
        Shown("Claim", [format_pounds(r["claim"]) if r["claim"] else "" for r in rows], "right"),
        Shown("Submitted", [_submitted_text(r) for r in rows]),
        Shown("Received", [format_pounds(r["received"]) if r["received"] is not None else "" for r in rows], "right"),
        Shown("Payment", [r["payment"] or "" for r in rows]),
    ], terminal_width())
    shared = [r for r in rows if r["to_partners"] or r["recharge"]]
    partners = table([
        Shown("Month", [r["month"] for r in shared]),
        Shown("To partners", [format_pounds(r["to_partners"]) if r["to_partners"] else "" for r in shared], "right"),
        Shown("Recharge", [_recharge_text(r["recharge"]) for r in shared]),
        Shown("Amount", [format_pounds(r["recharge"]["amount"]) if r["recharge"] else "" for r in shared], "right"),
    ], terminal_width())
    lines = [f"Due: {text}" for text in due_now] + ([""] if due_now else [])
    lines += [f"Month-end status, {ov.first} to {ov.last}", load_note, "", claims, "", totals_line(ov), ""]
    if shared:
        lines += ["Money that fell to the partners (after the free periods), and the recharge of each month "
                  "submitted", "", partners, ""]
    lines += _timetable_lines(rows)
    if ending is not None:
        lines += [ending_text(ending), ""]
    return "\n".join(lines + ["Next:"] + [f"  - {step}" for step in steps])


def _timetable_lines(rows: list[dict]) -> list[str]:
    """hds.toml's [timetable]: each month's deadline and the day its information is due to the CCG."""
    timed = [r for r in rows if r["deadline"] is not None]
    if not timed:
        return []
    return ["Timetable: NHS England's deadline, and the day the information is due to the CCG (5.5.3, 6.5)", "",
            table([Shown("Month", [r["month"] for r in timed]), Shown("State", [r["state"] for r in timed]),
                   Shown("Deadline", [_day(r["deadline"]) for r in timed]),
                   Shown("Due to CCG", [_day(r["due_to_ccg"]) for r in timed])], terminal_width()), ""]


def totals_line(ov: Overview) -> str:
    """One 'total claimed' (submitted months only), with drafts and months hds does not claim apart."""
    by_state: dict[str, list] = {}
    for m in ov.months:
        by_state.setdefault(m.state, []).append(m)
    parts = [f"Total claimed (submitted): {format_pounds(sum(m.total_pence for m in by_state.get('submitted', [])))}"]
    for state, label in (("draft", "drafts, not submitted"), ("not claimed", "not claimed by hds")):
        months = by_state.get(state, [])
        if months:
            parts.append(f"{label}: {len(months)} month(s), {format_pounds(sum(m.total_pence for m in months))}")
    return "; ".join(parts)


def status_json(ov: Overview, config, steps: list[str], ending=None) -> dict:
    rows = status_rows(ov, config)
    for r in rows:
        for key in ("claim", "received", "to_partners"):
            if r[key] is not None:
                r[key] = pounds_text(r[key])
        if r["recharge"] is not None:
            r["recharge"]["amount"] = pounds_text(r["recharge"]["amount"])
        for key in ("deadline", "due_to_ccg"):
            r[key] = r[key].isoformat() if r[key] is not None else None
    value = {"first_month": ov.first, "last_month": ov.last, "load": ov.load_id, "months": rows, "next": steps,
             "states": MONTH_STATES}
    if ending is not None:
        value["free_care_ending"] = {"as_of": iso(ending.as_of), "days": ending.days, "people": ending.people}
    return value


def summary_rows(ov: Overview) -> list[dict]:
    """Per month and scheme: claimed (own lines), adjustments (whole claim), received, difference."""
    rows = []
    for m in ov.months:
        claimed = m.claimed_by_scheme if m.submission else m.draft_by_scheme
        schemes = sorted(set(claimed) | set(m.adjustments_by_scheme) | set(m.received_by_scheme)) or [""]
        for scheme in schemes:
            received = m.received_by_scheme.get(scheme, 0) if m.received_any else None
            rows.append({"month": m.month, "state": m.state, "scheme": scheme,
                         "claimed": claimed.get(scheme, 0), "adjustments": m.adjustments_by_scheme.get(scheme, 0),
                         "received": received})
    for r in rows:
        r["difference"] = (r["received"] - r["claimed"] - r["adjustments"]) if r["received"] is not None else None
    return rows


def summary_text(ov: Overview) -> str:
    rows = summary_rows(ov)
    columns = [Shown("Month", [r["month"] for r in rows]), Shown("State", [r["state"] for r in rows]),
               Shown("Scheme", [r["scheme"] for r in rows])]
    for key, heading in (("claimed", "Claimed"), ("adjustments", "Adjustments"), ("received", "Received"),
                         ("difference", "Difference")):
        columns.append(Shown(heading, [format_pounds(r[key]) if r[key] is not None else "" for r in rows], "right"))
    paid = [r for r in rows if r["received"] is not None]
    received = sum(r["received"] for r in paid)
    awaiting = sorted({r["month"] for r in rows if r["received"] is None and r["state"] == "submitted"})
    footer = (f"{totals_line(ov)}. Received {format_pounds(received)}, a difference of "
              f"{format_pounds(sum(r['difference'] for r in paid))} on the months paid")
    if awaiting:
        footer += f"; awaiting payment for {', '.join(awaiting)}"
    return "\n".join([f"Claims {ov.first} to {ov.last}", "", table(columns, terminal_width()), "", footer])


def summary_records(ov: Overview) -> list[dict]:
    records = summary_rows(ov)
    for r in records:
        for key in ("claimed", "adjustments", "received", "difference"):
            if r[key] is not None:
                r[key] = pounds_text(r[key])
    return records


SUMMARY_COLUMNS = ("month", "state", "scheme", "claimed", "adjustments", "received", "difference")


def months_report(ov: Overview) -> Report:
    """`hds claim --from --to`: per month and scheme, claimed, adjusted, received and the difference."""
    records = summary_records(ov)
    return Report(f"Claims {ov.first} to {ov.last}", SUMMARY_COLUMNS, records,
                  data={"from": ov.first, "to": ov.last, "months": records}, sheet="Claims by month", total=True,
                  render={"table": lambda: summary_text(ov)})


def load_note(load: dict) -> str:
    """'Latest load: 2 (3 December 2026, 21:14, extracts/2020-11)'."""
    return f"Latest load: {load['id']} ({when_text(load['loaded_at'])}, {load['source']})"


def status_report(ov: Overview, config, steps: list[str], load_note: str, due_now: list[str] = (),
                  ending=None) -> Report:
    """`hds status`: the month-end checklist (the JSON made only when it is asked for)."""
    from claims.report.formats import to_json

    return Report(f"Month-end status, {ov.first} to {ov.last}", ("month", "claim", "state", "submitted", "received", "payment", "recharge",
                                                              "to_partners"),
                  render={"table": lambda: status_text(ov, config, steps, load_note, due_now, ending),
                          "json": lambda: to_json(status_json(ov, config, steps, ending))})
