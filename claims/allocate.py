"""Decide every segment and build the allocation table, in columns.

``decide`` cuts a linked dataset's episodes into segments (``hds.timeline``),
packs each segment's facts into one integer, and asks durable-rules for the
rule of each distinct (rulebook, facts) pair once. ``allocate`` then counts
the days of each (episode, month, funder) and prices them:

    amount = weekly cost x days / 7, rounded half-up to the penny once per row

The allocation table has one row per (episode, month, funder) with at least
one day, in (discharge, episode start, episode id, month, funder) order, and
one row per (block cost, month). ``rule`` names the rule that decided the
row's days, several joined with ``+`` in the order they first decided a day.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from hds.data import Data
from hds.days import month_end, month_index, month_names, month_start
from hds.facts import FUNDER_NAMES
from hds.money import cost_of_days
from hds.table import Table, group_starts
from hds.timeline import Segments, Timelines, cut, timelines
from rules.engine import engine_for
from rules.language import Rule

BLOCK_RULE = "block-cost"  # block costs are hds by these paragraphs, not by a rulebook rule:
BLOCK_PARAGRAPHS = ("2.1", "4.12", "5.5.2")
FUNDER_CODE = {name: i for i, name in enumerate(FUNDER_NAMES)}
HDS = FUNDER_CODE["hds"]
ALLOCATION_FIELDS = ["patient_id", "discharge_id", "episode_id", "block_id", "scheme", "month", "funder", "days",
                     "amount_pence", "rule", "service", "organisation"]


@dataclass(frozen=True)
class Decided:
    """A linked dataset's segments, each with the rule that decides it."""

    data: Data
    timelines: Timelines
    segments: Segments
    rule: np.ndarray  # per segment: index into `rules`
    rules: list[Rule]
    funder: np.ndarray  # per segment: index into hds.facts.FUNDER_NAMES
    schemes: tuple  # the library's schemes (rules.dated.Scheme), in the order timelines number them

    @property
    def scheme_names(self) -> list[str]:
        return [s.name for s in self.schemes]

    def scheme_of(self, d: int):
        """The scheme of discharge `d`, or None outside every scheme."""
        number = int(self.timelines.scheme[d])
        return self.schemes[number] if number >= 0 else None

    def scheme_of_discharge(self) -> np.ndarray:
        """Scheme name of each discharge ('' outside every scheme)."""
        names = np.array(self.scheme_names + [""], dtype=object)
        return names[self.timelines.scheme]


@dataclass(frozen=True)
class Cut:
    """A linked dataset's segments, each with its key: (rulebook number << 32) | packed facts."""

    data: Data
    timelines: Timelines
    segments: Segments
    keys: np.ndarray
    books: tuple[str, ...]  # rulebook of each scheme, then the one for no scheme
    schemes: tuple  # the schemes the timelines were computed with


@dataclass(frozen=True)
class Decisions:
    """The rule of each distinct segment key: small, and the same wherever the segments were cut."""

    keys: np.ndarray  # sorted, distinct
    rule: np.ndarray  # index into rules
    rules: tuple[Rule, ...]


def rulebooks(library) -> tuple[str, ...]:
    return tuple(library.rulebook_for(s).name for s in library.schemes) + (library.rulebook_for(None).name,)


def cut_keys(data: Data, schemes, books: tuple[str, ...], horizon: int) -> Cut:
    """Timelines, segments and segment keys of a linked dataset; no engine needed (a worker's part)."""
    t = timelines(data, schemes)
    segments = cut(data, t, horizon)
    book = t.scheme[data.episodes["d"][segments.episode]] % len(books)  # -1, no scheme, is the last book
    return Cut(data, t, segments, book.astype(np.int64) << 32 | segments.facts, books, tuple(schemes))


def decide_keys(keys: np.ndarray, books: tuple[str, ...], library) -> Decisions:
    """durable-rules decides each distinct key once (the driver's part)."""
    distinct = _distinct(keys)[0]
    engine = engine_for(library)
    rules: list[Rule] = []
    rule_index: dict[int, int] = {}
    decided = np.empty(len(distinct), dtype=np.int64)
    book_codes = distinct >> 32
    for code in sorted(set(book_codes.tolist())):
        where = np.flatnonzero(book_codes == code)
        facts = (distinct[where] & 0xFFFFFFFF).tolist()
        for position, rule in zip(where.tolist(), engine.decide_packed(books[code], facts)):
            if id(rule) not in rule_index:
                rule_index[id(rule)] = len(rules)
                rules.append(rule)
            decided[position] = rule_index[id(rule)]
    return Decisions(distinct, decided, tuple(rules))


def apply(cut: Cut, decisions: Decisions) -> Decided:
    """Each segment's rule and funder, looked up from the decisions."""
    position = np.searchsorted(decisions.keys, cut.keys)
    if len(cut.keys) and not (decisions.keys[np.minimum(position, len(decisions.keys) - 1)] == cut.keys).all():
        raise ValueError("internal error: a segment's facts were not decided")
    rule = decisions.rule[position] if len(cut.keys) else np.zeros(0, dtype=np.int64)
    funders = np.array([FUNDER_CODE[r.funder] for r in decisions.rules] or [0], dtype=np.int8)
    return Decided(cut.data, cut.timelines, cut.segments, rule, list(decisions.rules), funders[rule], cut.schemes)


def decide(data: Data, library, horizon: int) -> Decided:
    """Segments of every episode of a linked dataset up to day `horizon`, each with its rule."""
    books = rulebooks(library)
    cut_ = cut_keys(data, library.schemes, books, horizon)
    return apply(cut_, decide_keys(cut_.keys, books, library))


def _distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(keys, return_inverse=True) by sorting (np.unique may import numpy.ma, 10 ms of start-up)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = group_starts(ordered)
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse


@dataclass(frozen=True)
class Groups:
    """The allocation's (episode, month, funder) groups in columns: one entry per row of the table."""

    episode: np.ndarray  # position in the linked dataset's episodes
    month: np.ndarray  # month number
    funder: np.ndarray  # index into hds.facts.FUNDER_NAMES
    days: np.ndarray
    pence: np.ndarray
    rule: np.ndarray  # per day-run, in group order: index into the rules (see `starts`)
    starts: np.ndarray  # where each group's runs start in `rule`


def groups(decided: Decided, first_month: int, last_month: int) -> Groups:
    """The (episode, month, funder) groups of months first_month..last_month, with their days and pence."""
    s = decided.segments
    lo = np.maximum(month_index(s.first), first_month)
    hi = np.minimum(month_index(s.last), last_month)
    count = np.maximum(hi - lo + 1, 0)
    piece = np.repeat(np.arange(len(s)), count)
    offset = np.arange(len(piece)) - np.repeat(np.cumsum(count) - count, count)
    month = lo[piece] + offset
    days = np.minimum(s.last[piece], month_end(month)) - np.maximum(s.first[piece], month_start(month)) + 1
    episode, funder, rule = s.episode[piece], decided.funder[piece], decided.rule[piece]
    order = np.lexsort((funder, month, episode))  # stable: each group keeps its days' order
    episode, month, funder, rule, days = episode[order], month[order], funder[order], rule[order], days[order]
    starts = np.flatnonzero(group_starts(episode, month, funder))
    total_days = np.add.reduceat(days, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    ep = episode[starts]
    weekly = decided.data.episodes["weekly_pence"][ep].astype(np.int64)
    return Groups(ep, month[starts], funder[starts], total_days, cost_of_days(weekly, total_days), rule, starts)


def allocate(decided: Decided, first_month: int, last_month: int) -> Table:
    """The allocation rows of the episodes for months first_month..last_month (month numbers)."""
    g = groups(decided, first_month, last_month)
    if not len(g.starts):
        return empty_allocation()
    e = decided.data.episodes
    ep = g.episode
    d = e["d"][ep]
    discharges = decided.data.discharges
    return Table({
        "patient_id": discharges["patient_id"][d],
        "discharge_id": discharges["discharge_id"][d],
        "episode_id": e["episode_id"][ep],
        "block_id": _blank(len(ep)),
        "scheme": decided.scheme_of_discharge()[d],
        "month": month_names(g.month),
        "funder": np.array(FUNDER_NAMES, dtype=object)[g.funder],
        "days": g.days,
        "amount_pence": g.pence,
        "rule": _rule_names(decided.rules, g.rule, g.starts),
        "service": e["service"][ep],
        "organisation": e["organisation"][ep],
    })


def _rule_names(rules: list[Rule], rule: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group: its rules' ids in the order they first decided a day, joined with '+'."""
    ids = np.array([r.id for r in rules] or [""], dtype=object)
    names = ids[rule[starts]]
    mixed = np.flatnonzero(np.minimum.reduceat(rule, starts) != np.maximum.reduceat(rule, starts))
    ends = np.append(starts[1:], len(rule))
    for g in mixed.tolist():
        names[g] = "+".join(dict.fromkeys(ids[rule[starts[g]:ends[g]]].tolist()))
    return names


def block_allocation(blocks: Table, first_month: int, last_month: int) -> Table:
    """One row per (block cost, month): the amount spread by days, half-up, the last month taking the rest."""
    rows = []
    for block_id, scheme, organisation, start, end, amount in blocks.select(
            ["block_id", "scheme", "organisation", "start_date", "end_date", "amount_pence"]).rows():
        for month, days, pence in spread(start, end, amount):
            if first_month <= month <= last_month:
                rows.append(("", "", "", block_id, scheme, month, "hds", days, pence, BLOCK_RULE, "block",
                             organisation))
    if not rows:
        return empty_allocation()
    table = Table.from_rows(ALLOCATION_FIELDS, rows, {"days": np.int64, "amount_pence": np.int64})
    return table.with_columns(month=month_names(table["month"].astype(np.int64)))


def spread(start: int, end: int, amount_pence: int) -> list[tuple[int, int, int]]:
    """(month number, days, pence) of a block cost over the months of its period."""
    total_days = end - start + 1
    first, last = int(month_index(np.array([start]))[0]), int(month_index(np.array([end]))[0])
    result, spent = [], 0
    for month in range(first, last + 1):
        days = min(end, month_end(month)) - max(start, month_start(month)) + 1
        pence = amount_pence - spent if month == last else (2 * amount_pence * days + total_days) // (2 * total_days)
        spent += pence
        result.append((month, days, pence))
    return result


RUNNER: ContextVar = ContextVar("hds_runner", default=None)  # set by claims.parallel.running()


def allocations(data: Data, library, first_month: int, last_month: int, keep=None) -> Table:
    """The allocation table of months first_month..last_month: episodes, then block costs.
    `data` is linked; open-ended episodes run to the end of last_month. Within
    ``claims.parallel.running(...)`` the episodes are allocated by partitions of discharges on
    worker processes or a Dask cluster, with the same result. `keep`: called with the episodes'
    ``Decided`` and the day they were decided to when they are decided here (``claims.decisions.save``)."""
    runner = RUNNER.get()
    if runner is not None and len(data.discharges) >= runner.minimum:
        episodes = runner.allocate(data, library, first_month, last_month)
    else:
        decided = decide(data, library, month_end(last_month))
        if keep is not None:
            keep(decided, month_end(last_month))
        episodes = allocate(decided, first_month, last_month)
    return Table.concat([episodes, block_allocation(data.block_costs, first_month, last_month)])


def empty_allocation() -> Table:
    return Table.empty({n: (np.int64 if n in ("days", "amount_pence") else object) for n in ALLOCATION_FIELDS})


def _blank(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def month_allocations(data: Data, month, *libraries) -> Table | list[Table]:
    """The allocation table of one month of `data` (a period read from a source, or a linked dataset),
    under a library; under several (to compare them), one table each."""
    from hds.month import Month

    month = Month(month)
    tables = [allocations(data, library, month.number, month.number) for library in libraries]
    return tables[0] if len(tables) == 1 else tables

