"""Run compiled rulebooks on durable-rules and return the rule that fired.

What is known of durable-rules 2.0.28 that shapes this module:
- a fresh Host per Engine (ruleset names are global to a host), and the
  host's background dispatch threads are not started: we run single-threaded;
- the decision for a segment depends only on its facts, so each distinct
  vector of facts is decided once per rulebook and cached, and one Engine
  per rule library serves the whole process (``engine_for``); a rulebook is
  compiled and registered the first time a segment needs it, once for all
  the rulebooks that hold the very same rules (every scheme without rules of
  its own holds the common ones), which also share their decisions;
- batches are small and every message has its own id, and each batch uses
  its own sid, deleted after its results are harvested (1,024-sid limit);
- exceptions inside actions are swallowed by the engine, so actions only
  append to a list; every posted segment must come back with exactly one
  rule, otherwise EngineError is raised: never a silently missing segment.
"""

from __future__ import annotations

import itertools

from durable.engine import Host, MessageNotHandledException, MessageObservedException

from hds.errors import HdsError
from hds.facts import FACTS, unpack
from rules.compiler import UNMATCHED, compile_rulebook
from rules.language import Rule, Rulebook

BATCH = 200


class EngineError(HdsError):
    """durable-rules did not decide a segment exactly once."""


class _QuietHost(Host):
    """A Host without the timer threads that poll rulesets in the background."""

    def _run(self):
        pass


_ENGINES: dict[str, "Engine"] = {}


def engine_for(library) -> "Engine":
    """The process's engine for a rule library (by its version): compiled once, decisions cached."""
    engine = _ENGINES.get(library.version)
    if engine is None:
        engine = _ENGINES[library.version] = Engine(library.books)
    return engine


class Engine:
    def __init__(self, books: dict[str, Rulebook]):
        self._books = books
        self._host = _QuietHost()
        self._registered: set[str] = set()
        self._fired: list[tuple[int, str]] = []
        self._cache: dict[tuple[str, tuple[bool, ...]], Rule] = {}
        self._deciding: dict[str, str] = {}  # rulebook -> the rulebook whose ruleset decides it (`_decider`)
        self._first_with: dict[tuple[int, ...], str] = {}  # the identities of a rulebook's rules -> the first one
        self._ids = itertools.count(1)
        self._sids = itertools.count(1)

    def _register(self, name: str) -> None:
        if name in self._registered:
            return
        definition = compile_rulebook(self._books[name])
        for rule_id, rule in definition.items():
            rule["run"] = self._recorder(rule_id)
        self._host.register_rulesets({name: definition})
        self._registered.add(name)

    def _recorder(self, rule_id: str):
        fired = self._fired

        def record(c):
            fired.append((c.m["id"], rule_id))

        return record

    def _decider(self, rulebook: str) -> str:
        """The first rulebook seen holding the very same rules (the same objects, in the same order) as
        `rulebook`, or itself: one ruleset, and one set of decisions, serves them all."""
        decider = self._deciding.get(rulebook)
        if decider is None:
            rules = tuple(map(id, self._books[rulebook].rules))  # the books keep their rules alive
            decider = self._deciding[rulebook] = self._first_with.setdefault(rules, rulebook)
        return decider

    def decide(self, rulebook: str, vectors: list[dict[str, bool]]) -> list[Rule]:
        """The rule of `rulebook` that decides each vector of facts."""
        rulebook = self._decider(rulebook)
        keys = [(rulebook, tuple(bool(v[name]) for name in FACTS)) for v in vectors]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            self._register(rulebook)
        for start in range(0, len(missing), BATCH):
            self._decide_batch(rulebook, missing[start : start + BATCH])
        return [self._cache[k] for k in keys]

    def decide_packed(self, rulebook: str, packed: list[int]) -> list[Rule]:
        """The rule deciding each packed fact vector (``hds.facts.pack``) of `rulebook`."""
        return self.decide(rulebook, [unpack(bits) for bits in packed])

    def _decide_batch(self, rulebook: str, keys: list[tuple[str, tuple[bool, ...]]]) -> None:
        try:
            self._post(rulebook, keys)
        except MessageObservedException:
            # two facts of the batch hashed alike (the engine's 32-bit fact identity):
            # decide each alone, in a session of its own, where nothing can collide
            for key in keys:
                self._post(rulebook, [key])

    def _forget(self, rulebook: str, sid: str) -> None:
        """Free a failed batch's session, if the engine made one (it may not have)."""
        try:
            self._host.delete_state(rulebook, sid)
        except Exception:  # no session to delete: the failure came first
            pass

    def _post(self, rulebook: str, keys: list[tuple[str, tuple[bool, ...]]]) -> None:
        sid = str(next(self._sids))
        messages = {}
        for key in keys:
            message = {"sid": sid, "id": next(self._ids), "kind": "segment"}
            message.update(zip(FACTS, key[1]))
            messages[message["id"]] = (key, message)
        self._fired.clear()
        try:
            self._host.post_batch(rulebook, [m for _, m in messages.values()])
        except MessageObservedException:
            self._forget(rulebook, sid)
            if len(keys) > 1:
                raise
            raise EngineError(f"durable-rules refused a segment of rulebook {rulebook} as already seen") from None
        except MessageNotHandledException as exc:
            self._forget(rulebook, sid)
            raise EngineError(f"durable-rules decided no rule for a segment of rulebook {rulebook}: {exc}") from exc
        except Exception as exc:  # an action failed and the engine passed it on
            self._forget(rulebook, sid)
            raise EngineError(f"durable-rules failed deciding rulebook {rulebook}: {exc!r}") from exc
        self._host.delete_state(rulebook, sid)
        by_id: dict[int, list[str]] = {}
        for message_id, rule_id in self._fired:
            by_id.setdefault(message_id, []).append(rule_id)
        book = self._books[rulebook]
        for message_id, (key, message) in messages.items():
            fired = by_id.get(message_id, [])
            facts = {name: message[name] for name in FACTS}
            if len(fired) != 1 or fired[0] == UNMATCHED:
                raise EngineError(
                    f"rulebook {rulebook}: expected exactly one rule to decide a segment, "
                    f"got {fired or 'none'} for facts {facts}"
                )
            self._cache[key] = book.rule(fired[0])
