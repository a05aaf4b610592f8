"""The audit sample: which claimed lines an auditor checks, and the evidence pack for them.

Lines are chosen by monetary-unit sampling: every penny claimed has the same
chance of being picked, and the line holding a picked penny is sampled, so a
line's chance grows with its amount. Lines at least as big as the sampling
interval are taken for certain (the top stratum); the others are picked by a
systematic walk over the cumulative pence from a random start drawn from the
seed, so the same claim, size and seed always give the same sample.

The evidence pack (``write_evidence_pack``) puts, in one private folder, a
workbook with the sampled lines and a checklist for each, the source rows of
each sampled line (with the load, file, spreadsheet row and the file's SHA-256
from the loads log, so each row can be found in the file the council sent),
and the audit trace of each sampled patient. It holds personal data (NHS
numbers appear in the source rows), so its files are readable by their owner
only.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

from claims.report.excel import LINE_COLUMNS, Column, Sheet, month_name, table_workbook_bytes
from hds.contract import SPEC
from hds.errors import HdsError
from hds.money import format_pounds, pounds
from hds.table import Table

WORKBOOK = "sample.xlsx"
TRACES = "traces"
TICK_COLUMNS = (("assessment_seen", "Assessment date seen"), ("start_seen", "Package start seen"),
                ("invoice_seen", "Invoice seen"), ("checked_by", "Checked by"), ("notes", "Notes"))


# --- choosing the lines ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """A monetary-unit sample: the chosen positions (ascending) and why each was chosen."""

    positions: list[int]
    certain: dict[int, bool]  # position -> taken for certain (not by the random walk)
    interval: Fraction  # pence between two picked pennies in the random walk (0 when none was needed)
    start: Fraction  # the random start, in pence, of that walk
    hits: dict[int, Fraction]  # position -> the picked penny (counted from 0 over the walk's lines)
    population_pence: int  # the money of the lines that could be chosen (positive amounts)


def select(amounts_pence: Sequence[int], size: int, seed: int) -> Selection:
    """The monetary-unit sample of `size` lines, with the reasons (see `monetary_unit_sample`)."""
    amounts = _amounts(amounts_pence)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"the sample size must be a whole number, 0 or more, not {size!r}")
    positive = np.flatnonzero(amounts > 0)
    population = int(sum(amounts[positive].tolist()))
    if size == 0 or not len(positive):
        return Selection([], {}, Fraction(0), Fraction(0), {}, population)
    if size >= len(positive):  # the sample is the whole population
        chosen = positive.tolist()
        return Selection(chosen, {p: True for p in chosen}, Fraction(0), Fraction(0), {}, population)
    certain: list[int] = []
    rest, wanted = positive, int(size)
    while wanted:
        total = int(sum(amounts[rest].tolist()))
        big = amounts[rest] * wanted >= total  # at least the interval total / wanted
        if not big.any():
            break
        certain += rest[big].tolist()
        rest, wanted = rest[~big], wanted - int(big.sum())
    hits: dict[int, Fraction] = {}
    interval = start = Fraction(0)
    if wanted and len(rest):
        total = int(sum(amounts[rest].tolist()))
        # in units of 1/wanted pence every number is a whole one: the walk picks start + k x total
        first = random.Random(seed).randrange(total)
        dtype = np.int64 if total * wanted < 2 ** 62 else object
        cumulative = np.cumsum(amounts[rest].astype(dtype)) * wanted
        points = first + np.arange(wanted).astype(dtype) * total
        picked = rest[np.searchsorted(cumulative, points, side="right")]
        interval, start = Fraction(total, wanted), Fraction(first, wanted)
        hits = {int(p): Fraction(int(point), wanted) for p, point in zip(picked.tolist(), points.tolist())}
    chosen = sorted(certain + list(hits))
    return Selection(chosen, {p: p not in hits for p in chosen}, interval, start, hits, population)


def monetary_unit_sample(amounts_pence: Sequence[int], size: int, seed: int) -> list[int]:
    """Positions of the sampled lines, chosen with probability proportional to amount (monetary-unit sampling:
    systematic selection over the cumulative pence with a random start from `seed`); lines bigger than the interval
    are certain; zero and negative lines are never chosen; reproducible for the same inputs and seed.

    The lines at least as big as the interval (their total over the lines still to choose) are taken
    first, again and again while any remain, and the rest of the sample is a systematic walk over
    the others, so `size` lines are returned whenever that many have money (all of them otherwise)."""
    return select(amounts_pence, size, seed).positions


def _amounts(values: Sequence[int]) -> np.ndarray:
    values = list(values)
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"amounts must be whole pence, not {value!r}")
    return np.array(values, dtype=object if any(abs(int(v)) >= 2 ** 62 for v in values) else np.int64)


# --- the evidence pack -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvidencePack:
    month: str
    status: str  # "submitted" or "draft"
    submission_id: int | None
    load_id: int | None  # the load the claim (and every source row shown) was computed from
    size: int
    seed: int
    population_lines: int
    population_pence: int
    interval_pence: Fraction
    lines: list[dict]  # the sampled lines, as on the Sample sheet
    directory: Path
    workbook: Path
    traces: dict[str, Path]  # patient id -> trace file


def write_evidence_pack(store, library, month: str, size: int, seed: int, out_dir: Path) -> EvidencePack:
    """The sample of the month's claimed lines (the submission if the month is submitted, else the draft claim,
    via claims.ledger.claim_for), written to out_dir: sample.xlsx (one row per sampled line: the line, why it was
    picked, a checklist of the evidence an auditor asks for: assessment date, package start date, invoice, with
    blank columns to tick) plus sheets with the source rows of each sampled line's discharge (discharge, episodes,
    events) each with its load id, source file name, spreadsheet row and that file's SHA-256 from the loads log;
    and traces/<patient_id>.txt with `claims.trace.render_trace(build_trace(...))` for each sampled patient.

    The claimed lines are the month's own and its adjustments, in the submission's order (the
    Sample sheet's "Claim line" is the submission's line number). Nothing is written to the store."""
    out_dir = Path(out_dir)
    _check_folder(out_dir)
    with store.read():
        found = _gather(store, library, month, size, seed)
    rows = _sample_rows(month, found.chosen, found.picked, found.sources, found.trace_names)
    workbook, written = _write_pack(out_dir, _evidence_sheets(found, rows, month, seed), found.traces,
                                    found.trace_names)
    claim = found.claim
    return EvidencePack(month, "submitted" if claim.submission else "draft",
                        claim.submission["id"] if claim.submission else None, claim.load_id, size, seed,
                        len(found.lines), found.chosen.population_pence, found.chosen.interval, rows, out_dir,
                        workbook, written)


@dataclass(frozen=True)
class _Evidence:
    """What the pack shows, read inside one read transaction."""

    claim: object  # claims.claim.Claim
    lines: Table  # the claimed lines sampled from
    chosen: object  # the Selection
    picked: Table
    sources: dict[str, list[dict]]  # table -> the source rows behind the picked lines
    loads: dict[int, dict]
    trace_names: dict[str, str]
    traces: dict[str, str]  # patient id -> trace text


def _gather(store, library, month: str, size: int, seed: int) -> _Evidence:
    from claims.ledger import claim_for, patient_history
    from claims.trace import build_trace, render_trace
    from hds.store import StoreSource

    claim = claim_for(store, library, month)
    lines = Table.concat([claim.lines, claim.adjustments])
    chosen = select(lines["amount_pence"].tolist(), size, seed)
    picked = lines.take(np.array(chosen.positions, dtype=np.int64)) if chosen.positions else lines.take(
        np.zeros(0, dtype=np.int64))
    load_id = claim.load_id
    discharge_ids = sorted({d for d in picked["discharge_id"].tolist() if d})
    block_ids = sorted({b for b in picked["block_id"].tolist() if b})
    sources = {"discharges": _source_rows(store, "discharges", "discharge_id", discharge_ids, load_id),
               "episodes": _source_rows(store, "episodes", "discharge_id", discharge_ids, load_id),
               "events": _source_rows(store, "events", "discharge_id", discharge_ids, load_id),
               "block_costs": _source_rows(store, "block_costs", "block_id", block_ids, load_id)}
    loads = {row["id"]: row for row in store.query("SELECT * FROM loads ORDER BY id")}
    patients = list(dict.fromkeys(p for p in picked["patient_id"].tolist() if p))
    source = StoreSource(store, load_id) if load_id is not None else None
    traces = {p: render_trace(build_trace(source, library, p, month=month, submitted=patient_history(store, p)))
              for p in patients} if source is not None else {}
    return _Evidence(claim, lines, chosen, picked, sources, loads, _trace_names(patients), traces)


def _evidence_sheets(found: _Evidence, rows: list, month: str, seed: int) -> list:
    claim, chosen, load_id = found.claim, found.chosen, found.claim.load_id
    heading = (f"Audit sample of the claim for {month_name(month)} ("
               + (f"submission {claim.submission['id']}" if claim.submission else "draft, not submitted")
               + f", computed from load {load_id}): {len(rows)} of {len(found.lines):,} lines, seed {seed}"
               + (f", sampling interval {format_pounds(round(chosen.interval))}" if chosen.interval else "")
               + ". Personal data: keep this workbook secure.")
    sheets = [Sheet("Sample", SAMPLE_COLUMNS + tuple(Column(k, h, "text") for k, h in TICK_COLUMNS), tuple(rows),
                    total=True, heading=heading)]
    used_loads: set[int] = set()
    for table, title in (("discharges", "Discharges"), ("episodes", "Episodes"), ("events", "Events"),
                         ("block_costs", "Block costs")):
        records = [_source_record(table, row, found.loads) for row in found.sources[table]]
        used_loads |= {row["_load"] for row in found.sources[table]}
        sheets.append(Sheet(title, _source_columns(table), tuple(records),
                            heading=f"{title}: the rows behind the sampled lines, as at load {load_id}"))
    sheets.append(Sheet("Files", FILE_COLUMNS, tuple(_file_records(found.loads, used_loads)),
                        heading="The files of the loads these rows came from, with their SHA-256"))
    return sheets


def _write_pack(out_dir: Path, sheets: list, traces: dict[str, str], trace_names: dict[str, str]):
    """sample.xlsx and traces/<patient>.txt, owner-only; (the workbook's path, patient -> trace path)."""
    _make_private_folder(out_dir)
    workbook = out_dir / WORKBOOK
    _write_private(workbook, table_workbook_bytes(sheets))
    written = {}
    if traces:
        _make_private_folder(out_dir / TRACES)
        for patient, text in traces.items():
            path = out_dir / TRACES / trace_names[patient]
            _write_private(path, (text + "\n").encode("utf-8"))
            written[patient] = path
    return workbook, written

SAMPLE_COLUMNS = (
    Column("no", "Sample no.", "int"),
    Column("line_no", "Claim line", "int"),
    Column("why", "Why picked", "text"),
    Column("claim_month", "For month", "month"),
) + LINE_COLUMNS + (
    Column("package_start", "Package start", "date"),
    Column("assessment", "Care Act assessment", "date"),
    Column("trace", "Trace file", "text"),
)
FILE_COLUMNS = (Column("load", "Load", "int"), Column("loaded_at", "Loaded at", "date"),
                Column("file", "File", "text"), Column("sha256", "SHA-256", "text"))
_EXCEL_KIND = {"date": "date", "money": "money"}


def _sample_rows(month: str, chosen: Selection, picked: Table, sources: dict[str, list[dict]],
                 trace_names: dict[str, str]) -> list[dict]:
    episodes = {r["episode_id"]: r for r in sources["episodes"]}
    blocks = {r["block_id"]: r for r in sources["block_costs"]}
    assessed: dict[str, str] = {}
    for r in sources["events"]:
        if r["event"] == "care_act_assessment":
            assessed[r["discharge_id"]] = min(assessed.get(r["discharge_id"], r["date"]), r["date"])
    rows = []
    for number, (position, line) in enumerate(zip(chosen.positions, picked.records()), start=1):
        if chosen.certain[position]:
            why = ("certain: the sample is as big as the number of lines with money" if not chosen.interval else
                   "certain: the line is at least as big as the sampling interval")
        else:
            walk = chosen.interval * len(chosen.hits)
            why = (f"by amount: the point {format_pounds(int(chosen.hits[position]))} of the "
                   f"{format_pounds(int(walk))} in lines below the interval falls in this line")
        if line["kind"] == "block":
            start = blocks.get(line["block_id"], {}).get("start_date")
        else:
            start = episodes.get(line["episode_id"], {}).get("start_date")
        rows.append({
            "no": number, "line_no": position + 1, "why": why, "claim_month": line["claim_month"],
            "kind": line["kind"] if line["claim_month"] == month else f"{line['kind']} adjustment",
            "patient_id": line["patient_id"], "discharge_id": line["discharge_id"], "episode_id": line["episode_id"],
            "block_id": line["block_id"], "scheme": line["scheme"], "service": line["service"],
            "organisation": line["organisation"], "days": line["days"], "amount": pounds(line["amount_pence"]),
            "amount_pence": line["amount_pence"], "package_start": start,
            "assessment": assessed.get(line["discharge_id"]),
            "trace": f"{TRACES}/{trace_names[line['patient_id']]}" if line["patient_id"] else "",
        })
    return rows


def _source_rows(store, table: str, column: str, values: list[str], load_id: int | None) -> list[dict]:
    """The versions of `table` rows with `column` in `values` that were current at `load_id`."""
    from hds.store import version_filter

    if not values:
        return []
    version, params = version_filter(load_id)
    key = SPEC[table].key
    rows = []
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        rows += store.query(f"SELECT * FROM [{table}] WHERE [{column}] IN ({', '.join('?' * len(chunk))}) AND "
                            f"{version}", chunk + params)
    order = {v: i for i, v in enumerate(values)}
    date = "date" if table == "events" else ("start_date" if table != "discharges" else key)
    return sorted(rows, key=lambda r: (order[r[column]], r.get(date) or "", r[key]))


def _source_columns(table: str) -> tuple[Column, ...]:
    columns = tuple(Column(c.field, c.name, _EXCEL_KIND.get(c.kind, "text")) for c in SPEC[table].columns)
    return columns + (Column("_load", "Load", "int"), Column("_file", "Source file", "text"),
                      Column("_row", "Spreadsheet row", "int"), Column("_sha256", "File SHA-256", "text"))


def _source_record(table: str, row: dict, loads: dict[int, dict]) -> dict:
    record = {}
    for column in SPEC[table].columns:
        value = row[column.field]
        if column.kind == "money":
            value = pounds(value) if value is not None else None
        elif column.kind == "flag":
            value = "yes" if value else "no"
        elif value is not None and column.kind != "date":
            value = str(value)
        record[column.field] = value
    file, digest = _file_of(table, loads.get(row["_load"]), row.get("_extra"))
    record.update(_load=row["_load"], _file=file, _row=row["_row"], _sha256=digest)
    return record


def _file_of(table: str, load: dict | None, extra: str | None = None) -> tuple[str, str]:
    """The file (and for a workbook, the sheet) a table came from in a load, and that file's SHA-256."""
    from hds.store import source_file

    mapped = json.loads(load["mapping"]).get(table, {}).get("file") if load and load.get("mapping") else None
    return source_file(json.loads(load["files"]) if load and load.get("files") else {}, table, mapped, extra)


def _file_records(loads: dict[int, dict], used: set[int]) -> list[dict]:
    records = []
    for load_id in sorted(used):
        load = loads[load_id]
        for name, digest in sorted(json.loads(load["files"] or "{}").items()):
            records.append({"load": load_id, "loaded_at": load["loaded_at"], "file": name, "sha256": digest})
    return records


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _trace_names(patients: list[str]) -> dict[str, str]:
    """A file name per patient: the id itself where it is a safe name; never an NHS number."""
    from claims.trace import looks_like_nhs_number

    names: dict[str, str] = {}
    taken: set[str] = set()
    for n, patient in enumerate(patients, start=1):
        stem = _UNSAFE.sub("_", patient).lstrip(".")[:80]
        if not stem or looks_like_nhs_number(patient) or re.search(r"\d{10}", stem):
            stem = f"patient-{n:04d}"
        name, k = f"{stem}.txt", 1
        while name.lower() in taken:
            k += 1
            name = f"{stem}-{k}.txt"
        taken.add(name.lower())
        names[patient] = name
    return names


def _check_folder(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise HdsError(f"{folder} already exists and is not an empty folder; the evidence pack needs a new folder")


def _make_private_folder(folder: Path) -> None:
    from claims.report.output import make_private_folder

    make_private_folder(folder)


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, whatever the umask (never through a link)."""
    from claims.report.output import write_output

    write_output(path, data)
