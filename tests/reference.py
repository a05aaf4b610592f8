"""An independent, deliberately naive reading of RULES.md: one day at a time.

It shares no code with the engine beyond the input records: scheme windows
are typed in from RULES.md, each day is decided by a plain if-chain, and
money is computed with Decimal. Property tests compare the engine with it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

SCHEMES = [  # name, first discharge, last discharge, free days or None (HDS1)
    ("HDS1", dt.date(2020, 3, 19), dt.date(2020, 8, 31), None),
    ("HDS2", dt.date(2020, 9, 1), dt.date(2021, 3, 31), 42),
    ("HDS3", dt.date(2021, 4, 1), dt.date(2021, 6, 30), 42),
    ("HDS4", dt.date(2021, 7, 1), dt.date(2022, 3, 31), 28),
]


def scheme_of(D):
    for name, first, last, days in SCHEMES:
        if first <= D <= last:
            return name, (D + dt.timedelta(days=days) if days else dt.date(2021, 4, 1))
    return None, None


def funder_on(d, D, kind_flags, events):
    """kind_flags: dict with isolation, restart, bau; events: earliest dates and outcome."""
    A, K, C, outcome, F, X = (events.get(k) for k in ("A", "K", "C", "C_outcome", "F", "X"))
    scheme, P = scheme_of(D)
    Cchc = C if outcome == "chc" else None
    if d < D:
        return "excluded"
    if X and d > X:
        return "excluded"
    if scheme is None:
        return "bau"
    if kind_flags["bau"]:
        return "bau"
    if kind_flags["isolation"] and d < P:
        return "hds"
    if kind_flags["restart"]:
        return "bau"
    E = min(x for x in (P, A, Cchc, F) if x is not None)
    if d < E:
        return "hds"
    if E < P:
        return "bau"
    if K and K < P and (C is None or C >= P):
        if F and d >= F:
            return "bau"
        if C is None or d < C:
            return "ccg"
        if outcome == "chc":
            return "bau"
        if A is None or d < A:
            return "council"
        return "bau"
    if F and d >= F:
        return "bau"
    if Cchc and d >= Cchc:
        return "bau"
    if A is None or d < A:
        return "council"
    return "bau"


def earliest(events):
    found = {}
    for e in sorted(events, key=lambda e: e.date):
        key = {"care_act_assessment": "A", "chc_decision": "C", "self_funder_charge_from": "F",
               "death": "X", "chc_checklist": "K"}[e.event]
        if key == "K" and e.outcome != "positive":
            continue
        if key not in found:
            found[key] = e.date
            if key == "C":
                found["C_outcome"] = e.outcome
    return found


def allocate(discharge, episodes, events, horizon):
    """{(episode_id, 'YYYY-MM', funder): (days, Decimal amount)}"""
    info = earliest(events)
    days = defaultdict(int)
    weekly = {}
    for ep in episodes:
        weekly[ep.episode_id] = Decimal(ep.weekly_pence) / 100
        last = min(ep.end_date, horizon) if ep.end_date else horizon
        d = ep.start_date
        flags = {"isolation": ep.service == "isolation", "restart": ep.restart, "bau": ep.bau_commissioned}
        while d <= last:
            days[(ep.episode_id, f"{d.year:04d}-{d.month:02d}", funder_on(d, discharge.discharge_date, flags, info))] += 1
            d += dt.timedelta(days=1)
    return {
        key: (n, (weekly[key[0]] * n / 7).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        for key, n in days.items()
    }
