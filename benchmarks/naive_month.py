"""The naive way to a month's claim, for comparison: read the month's rows, decide every day.

Standard library only (sqlite3, datetime, Decimal) plus tests/reference.py, the
independent day-by-day reading of the rules, used as it is: each discharge's
episodes are allocated day by day up to the end of the month. It reads the
same rows from the store that `hds claim` reads (the month's episodes, their
discharges and events), writes the month's `hds` lines as CSV and ends with
the month's individual total, which must equal the individual lines of
`hds claim`.

    python benchmarks/naive_month.py STORE.db 2020-10 > lines.csv
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reference import allocate  # noqa: E402


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = (int(p) for p in month.split("-"))
    first = dt.date(year, mon, 1)
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def main(db: str, month: str) -> None:
    first, last = month_bounds(month)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    overlap = ("_until_load IS NULL AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)",
               [last.isoformat(), first.isoformat()])
    episodes = defaultdict(list)
    for episode_id, discharge_id, service, start, end, weekly, restart, bau in con.execute(
            f"SELECT episode_id, discharge_id, service, start_date, end_date, weekly_pence, restart, bau_commissioned "
            f"FROM episodes WHERE {overlap[0]}", overlap[1]):
        episodes[discharge_id].append(SimpleNamespace(
            episode_id=episode_id, service=service, start_date=dt.date.fromisoformat(start),
            end_date=dt.date.fromisoformat(end) if end else None, weekly_pence=weekly, restart=bool(restart),
            bau_commissioned=bool(bau)))
    chosen = f"discharge_id IN (SELECT discharge_id FROM episodes WHERE {overlap[0]})"
    discharges = {d: SimpleNamespace(discharge_date=dt.date.fromisoformat(day)) for d, day in con.execute(
        f"SELECT discharge_id, discharge_date FROM discharges WHERE +_until_load IS NULL AND {chosen}", overlap[1])}
    events = defaultdict(list)
    for discharge_id, event, day, outcome in con.execute(
            f"SELECT discharge_id, event, date, outcome FROM events WHERE +_until_load IS NULL AND {chosen}", overlap[1]):
        events[discharge_id].append(SimpleNamespace(event=event, date=dt.date.fromisoformat(day), outcome=outcome))
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["episode_id", "month", "days", "amount"])
    total = Decimal(0)
    for discharge_id in sorted(episodes):
        rows = allocate(discharges[discharge_id], episodes[discharge_id], events[discharge_id], last)
        for (episode_id, row_month, funder), (days, amount) in sorted(rows.items()):
            if row_month == month and funder == "hds":
                out.writerow([episode_id, row_month, days, amount])
                total += amount
    print(f"{month} individual hds total {total}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
