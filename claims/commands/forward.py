"""Looking forward: what `hds forecast`, `hds upcoming` and `hds notices` do between parsing and printing."""

from __future__ import annotations

from pathlib import Path

from claims.commands.session import Reading


def forecast_report(r: Reading, lib, as_of: int | None, last, first=None, backtest: bool = False):
    """The forecast as known on `as_of` (default: the latest date in the data), as a Report."""
    from claims.forecast import forecast
    from claims.report.forward import forecast_report as report

    return report(forecast(r.source, lib, as_of, last, first, backtest))


def worklist(r: Reading, lib, as_of: int | None, days: int):
    """`hds upcoming`'s worklist (``claims.upcoming.Upcoming``) as of `as_of` (default: the latest date in the data)."""
    from claims.upcoming import upcoming

    return upcoming(r.source, lib, r.source.latest_day() if as_of is None else as_of, days)


def notices(r: Reading, lib, as_of: int | None, days: int, folder: Path, config, force: bool = False):
    """One letter per person of the worklist, their PDFs and notices.csv, in `folder`."""
    from claims.notices import write_notices

    return write_notices(worklist(r, lib, as_of, days), folder, config, force)
