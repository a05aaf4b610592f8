"""Scenario tests as data: small timelines with the allocation they must give.

A scenario file (YAML) is meant to be read by a finance officer::

    name: Worked example (HDS2, CHC pending at the end of the free period)
    cites: "1.5, 4.4, 4.13"   # optional: the paragraphs it shows (checked against the rules that fired)
    discharge: 2020-10-05
    until: 2020-12            # open-ended episodes run to the end of this month
    episodes:
      - {id: E1, service: interim_bed, start: 2020-10-05, weekly_cost: 700}
    events:
      - {event: chc_checklist, date: 2020-10-20, outcome: positive}
    expect:                   # episode month funder days amount rule
      - E1 2020-10 hds 27 2700.00 free-period

Each expected row names the rule that must decide it, as the allocation's
rule cell says it: one rule id, or several joined with ``+`` in the order
they first decided a day of the row. The expectation is the whole
allocation: a missing or an extra row, or a row decided by another rule,
fails.

A run also says which rules **fired** (decided at least one day) and so
which paragraphs the scenario covers: coverage comes from the rules that
decided, never from what the file declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from claims.allocate import BLOCK_PARAGRAPHS, BLOCK_RULE, allocate, block_allocation, decide
from hds.table import Table
from hds.contract import BlockCost, Discharge, Episode, Event
from hds.data import Data
from hds.dates import parse_date, parse_month
from hds.errors import HdsError
from hds.load import parse_bool
from hds.money import parse_money, pounds
from hds.month import Month


EXPECT_WORDS = 6  # episode month funder days amount rule


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    path: str
    cites: tuple[str, ...]  # as the file declares them
    passed: bool
    differences: tuple[str, ...]
    fired: tuple[str, ...] = ()  # ids of the rules that decided at least one day (BLOCK_RULE for a block cost)
    paragraphs: tuple[str, ...] = ()  # cited by the rules that fired

    @property
    def undeclared(self) -> tuple[str, ...]:
        """Paragraphs the file declares that no rule which fired cites."""
        return tuple(c for c in self.cites if c not in self.paragraphs)


def scenario_files(folder: Path | str) -> list[Path]:
    return sorted(Path(folder).glob("*.yaml"))


def run_scenarios(folder: Path | str, library) -> list[ScenarioResult]:
    files = scenario_files(folder)
    if not files:
        raise HdsError(f"{folder}: no scenario files (*.yaml)")
    return [run_scenario(path, library) for path in files]


def run_scenario(path: Path | str, library) -> ScenarioResult:
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        dataset, until = _dataset(spec)
        expected = [" ".join(str(spec_line).split()) for spec_line in spec["expect"]]
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise HdsError(f"{path}: not a valid scenario ({type(exc).__name__}: {exc})") from exc
    for line in expected:
        if len(line.split()) != EXPECT_WORDS:
            raise HdsError(f"{path}: expected row '{line}' needs six words: episode month funder days amount rule "
                           "(the rule that must decide the row, e.g. free-period)")
    until = Month(until)
    decided = decide(dataset.linked(), library, until.last_day)
    rows = Table.concat([allocate(decided, 0, until.number), block_allocation(dataset.block_costs, 0, 10**6)])
    actual = [f"{episode or block} {month} {funder} {days} {pounds(pence)} {rule}"
              for episode, block, month, funder, days, pence, rule
              in rows.rows(["episode_id", "block_id", "month", "funder", "days", "amount_pence", "rule"])]
    differences = [f"expected, not produced: {line}" for line in expected if line not in actual]
    differences += [f"produced, not expected: {line}" for line in actual if line not in expected]
    cites = spec.get("cites", "")
    if not isinstance(cites, str):
        raise HdsError(f"{path}: write cites as quoted text, e.g. cites: \"4.10, 4.13\" (unquoted, 4.10 reads as 4.1)")
    cites = tuple(c.strip() for c in cites.split(",") if c.strip())
    order = {rule.id: i for i, rule in enumerate(library.all_rules())}  # fired rules in rulebook order
    fired = sorted((decided.rules[i] for i in set(decided.rule[decided.segments.days > 0].tolist())),
                   key=lambda rule: order.get(rule.id, len(order)))
    paragraphs = [c for rule in fired for c in rule.cites]
    fired_ids = [rule.id for rule in fired]
    if len(dataset.block_costs):
        fired_ids.append(BLOCK_RULE)
        paragraphs += BLOCK_PARAGRAPHS
    return ScenarioResult(spec.get("name", path.stem), str(path), cites, not differences, tuple(differences),
                          tuple(dict.fromkeys(fired_ids)), tuple(dict.fromkeys(paragraphs)))


def _dataset(spec: dict) -> tuple[Data, str]:
    discharge = Discharge("D1", "P1", parse_date(spec["discharge"]), spec.get("kind", "hospital"))
    episodes = tuple(
        Episode(
            str(e["id"]), "D1", e.get("service", "interim_bed"), parse_date(e["start"]),
            parse_date(e["end"]) if e.get("end") else None, parse_money(e["weekly_cost"]),
            e.get("organisation", "COUNCIL"), parse_bool(e.get("restart", False)),
            parse_bool(e.get("bau_commissioned", False)),
        )
        for e in spec.get("episodes", [])
    )
    events = tuple(
        Event(f"V{i}", "D1", e["event"], parse_date(e["date"]), e.get("outcome", "") or "")
        for i, e in enumerate(spec.get("events") or [], start=1)
    )
    blocks = tuple(
        BlockCost(str(b["id"]), b.get("description", ""), b["scheme"], b.get("organisation", "COUNCIL"),
                  parse_date(b["start"]), parse_date(b["end"]), parse_money(b["amount"]))
        for b in spec.get("blocks") or []
    )
    return (Data.from_records(discharges=(discharge,), episodes=episodes, events=events, block_costs=blocks),
            parse_month(str(spec["until"])))
