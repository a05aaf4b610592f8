"""Every read of the ledger: submissions, their lines, findings and rules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from hds.store import Store

if TYPE_CHECKING:  # a submission's lines are read into columns; the rest, a patient's trace among them, needs no numpy
    import numpy as np

    from hds.table import Table


def submissions(store: Store, up_to_load: int | None = None, before: int | None = None) -> list[dict]:
    """The submissions made from loads up to `up_to_load`, and (with `before`) before that submission."""
    where, params = ["1"], []
    if up_to_load is not None:
        where.append("load_id <= ?")
        params.append(up_to_load)
    if before is not None:
        where.append("id < ?")
        params.append(before)
    return store.query(f"SELECT * FROM submissions WHERE {' AND '.join(where)} ORDER BY id", params)


def holds_submissions(store: Store) -> bool:
    return store.execute("SELECT 1 FROM submissions LIMIT 1").fetchone() is not None


def submission(store: Store, submission_id: int) -> dict:
    """A submission's header."""
    return store.query("SELECT * FROM submissions WHERE id = ?", [submission_id])[0]


def submission_of(store: Store, month: str) -> dict | None:
    """The submission (its header) of a month, if it was submitted."""
    found = store.query("SELECT * FROM submissions WHERE month = ?", [month])
    return found[0] if found else None


def submissions_of(store: Store, months: list[str]) -> list[dict]:
    """The headers of those of some months that were submitted."""
    return store.query(f"SELECT * FROM submissions WHERE month IN ({', '.join('?' * len(months))})", months)


def submitted_up_to(store: Store, month: str) -> list[dict]:
    """Each submission's id, month and total, for the months up to `month`, in month order."""
    return store.query("SELECT id, month, total_pence FROM submissions WHERE month <= ? ORDER BY month", [month])


def months_submitted(store: Store) -> tuple[str | None, str | None]:
    """The first and the last month submitted."""
    return tuple(store.execute("SELECT MIN(month), MAX(month) FROM submissions").fetchone())


def chain_head(store: Store) -> tuple[str | None, int]:
    """The last submission's hash (None when there is none) and the next submission's number."""
    previous = store.execute("SELECT hash FROM submissions ORDER BY id DESC LIMIT 1").fetchone()
    number = store.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM submissions").fetchone()[0]
    return (previous[0] if previous else None), number


def claimed_in(store: Store, month: str) -> tuple[int, str] | None:
    """The first submission that claimed an unsubmitted month's money as adjustments."""
    row = store.execute("SELECT s.id, s.month FROM submission_lines l JOIN submissions s ON s.id = l.submission_id "
                        "WHERE l.claim_month = ? AND l.current = 0 ORDER BY s.id LIMIT 1", [month]).fetchone()
    return (row[0], row[1]) if row else None


def lines_table(rows: list[tuple]) -> Table:
    from claims.claim import LINE_FIELDS, LINE_TYPES, empty_lines
    from hds.table import Table

    if not rows:
        return empty_lines()
    return Table.from_rows(LINE_FIELDS, rows, LINE_TYPES)


def stored_lines(store: Store, submission_id: int) -> tuple[Table, np.ndarray]:
    """A submission's lines in order, and which of them are the month's own (not adjustments)."""
    import numpy as np

    from claims.claim import LINE_FIELDS

    rows = store.execute(f"SELECT {', '.join(LINE_FIELDS)}, current FROM submission_lines WHERE submission_id = ? "
                         "ORDER BY line_no", [submission_id]).fetchall()
    current = np.array([r[-1] for r in rows], dtype=bool)
    return lines_table([r[:-1] for r in rows]), current


def lines_for_month(store: Store, month: str) -> Table:
    """Every line any submission claimed for `month`, in submission and line order."""
    from claims.claim import LINE_FIELDS

    return lines_table(store.execute(f"SELECT {', '.join(LINE_FIELDS)} FROM submission_lines WHERE claim_month = ? "
                                     "ORDER BY submission_id, line_no", [month]).fetchall())


def line_rows(store: Store, submission_id: int) -> list[dict]:
    """A submission's stored lines, every column, in order."""
    return store.query("SELECT * FROM submission_lines WHERE submission_id = ? ORDER BY line_no", [submission_id])


def line_summary(store: Store, submission_id: int) -> tuple[int, int, str | None]:
    """A submission's stored lines: their count, total pence and the last line's hash."""
    return store.execute(
        "SELECT COUNT(*), COALESCE(SUM(amount_pence), 0), (SELECT line_hash FROM submission_lines WHERE "
        "submission_id = ?1 ORDER BY line_no DESC LIMIT 1) FROM submission_lines WHERE submission_id = ?1",
        [submission_id]).fetchone()


def orphan_lines(store: Store) -> list[int]:
    """Submissions whose lines remain without their header."""
    return [r[0] for r in store.execute("SELECT DISTINCT submission_id FROM submission_lines WHERE submission_id "
                                        "NOT IN (SELECT id FROM submissions)")]


def sums_by_scheme(store: Store, submission_id: int) -> list[tuple[str, int, int]]:
    """(scheme, 1 for the month's own lines or 0 for adjustments, pence) of a submission."""
    return store.execute("SELECT scheme, current, SUM(amount_pence) FROM submission_lines WHERE submission_id = ? "
                         "GROUP BY scheme, current", [submission_id]).fetchall()


def sums_by_organisation(store: Store, submission_id: int) -> list[tuple[str, int]]:
    return store.execute("SELECT organisation, SUM(amount_pence) FROM submission_lines "
                         "WHERE submission_id = ? GROUP BY organisation", [submission_id]).fetchall()


def rules_of(store: Store, submission_id: int) -> dict[str, str]:
    """The rule files (path -> text) pinned to a submission."""
    return dict(store.execute("SELECT path, text FROM submission_rules WHERE submission_id = ?", [submission_id]))


def kept_rows(store: Store, submission_id: int) -> dict[str, list[tuple]]:
    """The findings and the rules stored with a submission, as hashed."""
    return {"findings": store.execute("SELECT * FROM submission_findings WHERE submission_id = ? ORDER BY n",
                                      [submission_id]).fetchall(),
            "rules": store.execute("SELECT * FROM submission_rules WHERE submission_id = ? ORDER BY path",
                                   [submission_id]).fetchall()}


def stored_findings(store: Store, submission_id: int | None = None) -> list[dict]:
    """Findings stored with submissions: all of them, or one submission's."""
    return _findings(store, "WHERE f.submission_id = ? " if submission_id is not None else "",
                     [submission_id] if submission_id is not None else [])


def _findings(store: Store, where: str, params: list) -> list[dict]:
    """Stored findings (with their submission's month), their ids read back from JSON."""
    rows = store.query("SELECT f.*, s.month FROM submission_findings f JOIN submissions s ON s.id = f.submission_id "
                       f"{where}ORDER BY f.submission_id, f.n", params)
    for row in rows:
        row["ids"] = json.loads(row["ids"])
    return rows


def findings_of(store: Store, submission_id: int) -> list:
    """The findings stored with a submission as ``claims.checks.Finding``s, each with who accepted it
    and why (when someone did)."""
    from claims.checks import Finding

    return [Finding(f["code"], f["severity"], f["paragraph"], f["subject"], f["ids"], f["amount_pence"],
                    f["message"], f["acknowledged"]) for f in stored_findings(store, submission_id)]


def patient_history(store: Store, patient_id: str) -> list[dict]:
    """Every line the ledger holds for a patient, original and adjustments, in order."""
    return store.query(
        "SELECT l.*, s.month AS submission_month FROM submission_lines l JOIN submissions s ON s.id = l.submission_id "
        "WHERE l.patient_id = ? ORDER BY l.claim_month, l.submission_id, l.line_no", [patient_id])


def patient_findings(store: Store, patient_id: str) -> list[dict]:
    """The findings stored with submissions that name this patient."""
    rows = _findings(store, "WHERE f.ids LIKE ? ", [f'%"{patient_id}"%'])
    return [r for r in rows if patient_id in r["ids"].get("patient", [])]
