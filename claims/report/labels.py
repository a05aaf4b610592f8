"""How values are named where people read them (terminal tables, the pack, the HTML report): dates
and times in words, partners by name, services by their names, users by their names.

Programs' outputs (CSV, JSON) keep the codes and ISO timestamps; these labels are for people.
"""

from __future__ import annotations

import datetime as dt

from hds.contract import SERVICE_NAMES
from hds.dates import MONTH_NAMES


def when_text(stamp: str | None, time: bool = True) -> str:
    """'3 December 2026, 21:14' for '2026-12-03T21:14:13+00:00' (the time as stored, UTC); without
    `time`, '3 December 2026'. Text that is not a timestamp is returned as it is."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    day = f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year}"
    return f"{day}, {moment:%H:%M}" if time else day


def month_text(month: str) -> str:
    """'October 2020' for '2020-10'."""
    year, number = str(month).split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


def partner_text(code: str, name: str = "", role: str = "") -> str:
    """A partner as people know it: 'Kent County Council (KCC)' when hds.toml names it, else its
    role and code ('the council KCC'); never the code twice ('KCC (KCC)'). Without a code (hds.toml
    names no partners), its name or role alone."""
    if not code:
        return name or (f"the {role}" if role else "")
    if name and name != code:
        return f"{name} ({code})"
    return f"the {role} {code}" if role else code


def service_text(service: str) -> str:
    """'Interim bed' for interim_bed; a service hds does not know is shown as it is."""
    return SERVICE_NAMES.get(service, "Block costs" if service == "block" else service)


def user_text(login: str | None) -> str:
    """The name of the user who did something, where the system knows it ('Jane Smith (jsmith)'); else the login."""
    if not login:
        return ""
    try:
        import pwd

        full = pwd.getpwnam(login).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError):
        return login
    return f"{full} ({login})" if full and full != login else login
