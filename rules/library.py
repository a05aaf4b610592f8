"""The rule library: rulebooks, dated parameters and renamed rule ids, loaded and checked together.

A library is a folder (the shipped one is ``rules/`` itself)::

    rulebooks/*.rules     the decisions; common.rules holds the rules every scheme uses
    parameters/*.yaml     one file per scheme: its window and free period, dated (``rules.dated``)
    renamed.yaml          rule ids that changed, old -> new (optional)

Schemes are derived from the parameter files alone: a scheme without a
rulebook of its own (a ``.rules`` file whose ``scheme`` line names it) is
decided by the common rules. Loading checks everything: every rulebook
total and every rule reachable (``rules.check``), every parameter file,
scheme windows not overlapping, renamed ids pointing at rules that exist.

A library is also a **snapshot**: ``library_snapshot`` gives the text of each
of its files by relative path, ``library_from_snapshot`` builds the same
library back (same ``version``: the SHA-256 of every file's path and text),
so a submission can keep the exact rules it was computed with.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Mapping

import yaml

from hds.schemes import Scheme
from rules import RULES_DIR
from rules.check import check_rulebook
from rules.dated import SchemeParameters, check_windows, derive_scheme, read_parameters
from rules.files import PARAMETERS, RENAMED, RULEBOOKS, library_version, read_folder
from rules.language import Rule, Rulebook, RulebookError, parse_rulebook

COMMON = "common"
SNAPSHOT_ORIGIN = "snapshot:"


@dataclass(eq=False)
class RuleLibrary:
    books: dict[str, Rulebook]  # "common", then one per scheme, in the order of their windows
    schemes: list[Scheme]  # by first discharge
    version: str  # SHA-256 of every rule and parameter file, to record what decided a claim
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text: the snapshot
    parameters: dict[str, SchemeParameters] = field(default_factory=dict)  # by scheme name
    renamed: dict[str, str] = field(default_factory=dict)  # old rule id -> current rule id
    origin: str = ""  # the folder it was loaded from, or "snapshot:"

    def rulebook_for(self, scheme: Scheme | None) -> Rulebook:
        return self.books[scheme.name if scheme else COMMON]

    def scheme_for(self, discharge_date) -> Scheme | None:
        return next((s for s in self.schemes if s.covers(discharge_date)), None)

    def scheme_named(self, name: str) -> Scheme:
        for scheme in self.schemes:
            if scheme.name == name:
                return scheme
        raise KeyError(name)

    def current_id(self, rule_id: str) -> str:
        """The id a rule has now, for an id an older library gave it (an unknown id is returned as is)."""
        return self.renamed.get(rule_id, rule_id)

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id, or with the id it was renamed to; KeyError if there is none."""
        current = self.current_id(rule_id)
        for book in self.books.values():
            for rule in book.rules:
                if rule.id == current:
                    return rule
        raise KeyError(rule_id)

    def rules_of(self, cell: str) -> list[Rule]:
        """The rules of an allocation row's rule cell ('a+b' names two), old ids resolved."""
        return [self.rule(part) for part in cell.split("+") if part]

    def all_rules(self) -> list[Rule]:
        """Every distinct rule of the library, common rules first, in rulebook order."""
        seen: dict[str, Rule] = {}
        for book in self.books.values():
            for rule in book.rules:
                seen.setdefault(rule.id, rule)
        return list(seen.values())


def load_library(directory: Path | str | None = None) -> RuleLibrary:
    """The shipped library, or one exported to `directory` (``rules.export.export_rules``), checked."""
    origin = Path(directory) if directory is not None else RULES_DIR
    return build_library(read_folder(origin), str(origin))


def library_snapshot(library: RuleLibrary) -> dict[str, str]:
    """relative path -> text of every rule and parameter file of the library (JSON-able)."""
    return dict(sorted(library.files.items()))


def library_from_snapshot(snapshot: Mapping[str, str]) -> RuleLibrary:
    """The library a snapshot was taken of, checked as a folder would be; same version."""
    files = {}
    for name, text in snapshot.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise RulebookError(SNAPSHOT_ORIGIN, 1, "a snapshot maps relative paths to file texts")
        files[_relative(name)] = text
    return build_library(files, SNAPSHOT_ORIGIN)


def _relative(name: str) -> str:
    """A snapshot path, checked: inside the library layout, no '..', no absolute path."""
    normal = posixpath.normpath(name)
    parts = PurePosixPath(normal).parts
    ok = (normal == RENAMED or (len(parts) == 2 and parts[0] == RULEBOOKS and normal.endswith(".rules"))
          or (len(parts) == 2 and parts[0] == PARAMETERS and normal.endswith(".yaml")))
    if not ok or normal != name:
        raise RulebookError(SNAPSHOT_ORIGIN, 1, f"'{name}' is not a library file: expected {RULEBOOKS}/NAME.rules, "
                                                f"{PARAMETERS}/NAME.yaml or {RENAMED}")
    return normal


def build_library(files: dict[str, str], origin: str) -> RuleLibrary:
    """A checked library from its files' texts (relative path -> text); `origin` names them in errors."""
    base = Path(origin)

    def where(name: str) -> str:
        return f"{origin}{name}" if origin == SNAPSHOT_ORIGIN else str(base / name)

    def read(path: Path) -> str:
        name = _name_in(path, base, origin)
        if name not in files or not (name.startswith(f"{RULEBOOKS}/") and name.endswith(".rules")):
            raise RulebookError(path, 1, "not a rulebook of this library: a rulebook may include only files of "
                                         f"its own {RULEBOOKS} folder")
        return files[name]

    rule_files = sorted(n for n in files if n.startswith(f"{RULEBOOKS}/") and n.endswith(".rules"))
    parameter_files = sorted(n for n in files if n.startswith(f"{PARAMETERS}/") and n.endswith(".yaml"))
    if not rule_files:
        raise RulebookError(where(RULEBOOKS), 1, f"no rulebooks: expected {RULEBOOKS}/*.rules in the library")
    if not parameter_files:
        raise RulebookError(where(PARAMETERS), 1, f"no schemes: expected {PARAMETERS}/*.yaml in the library, "
                                                  "one file per scheme")
    written: dict[str, Rulebook] = {}
    for name in rule_files:
        book = parse_rulebook(Path(where(name)), read)
        check_rulebook(book)
        if book.name in written:
            raise RulebookError(book.path, 1, f"rulebook {book.name} is already defined in {written[book.name].path}")
        written[book.name] = book
    if COMMON not in written:
        raise RulebookError(where(RULEBOOKS), 1, "a rulebook with 'scheme common' is needed: it decides discharges "
                                                 "outside every scheme, and every scheme without a rulebook of its own")
    declared: dict[str, SchemeParameters] = {}
    for name in parameter_files:
        sp = read_parameters(where(name), files[name])
        if sp.scheme in declared:
            raise RulebookError(sp.path, sp.line, f"scheme {sp.scheme} already has parameters in "
                                                  f"{declared[sp.scheme].path}")
        declared[sp.scheme] = sp
    schemes = sorted((derive_scheme(sp) for sp in declared.values()), key=lambda s: s.first_discharge)
    check_windows(schemes, declared)
    for name, book in written.items():
        if name != COMMON and name not in declared:
            raise RulebookError(book.path, 1, f"rulebook {name} names no scheme: add {PARAMETERS}/{name.lower()}.yaml "
                                              f"with its window and free period, or name one of: "
                                              f"{', '.join(declared) or 'no scheme yet'}")
    common = written[COMMON]
    books = {COMMON: common}
    for scheme in schemes:
        own = written.get(scheme.name)
        book = own or Rulebook(scheme.name, common.path, scheme.title, rules=list(common.rules))
        book.title = book.title or scheme.title
        book.parameters = dict(declared[scheme.name].parameters)
        books[scheme.name] = book
    library = RuleLibrary(books, schemes, library_version(files), dict(files), declared, {}, origin)
    library.renamed = _read_renamed(files.get(RENAMED), where(RENAMED), library)
    return library


def _name_in(path: Path, base: Path, origin: str) -> str:
    text = path.as_posix()
    if origin == SNAPSHOT_ORIGIN:
        name = text[len(SNAPSHOT_ORIGIN):] if text.startswith(SNAPSHOT_ORIGIN) else text
    else:
        try:
            name = path.relative_to(base).as_posix()
        except ValueError:
            return text
    return posixpath.normpath(name)


def read_renamed(text: str, path: str = RENAMED) -> dict[str, str]:
    """The old id -> new id mapping of a renamed.yaml text, as written (not yet checked against any rules)."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as exc:
        raise RulebookError(path, 1, f"not valid YAML: {exc}") from None
    mapping = data.get("renamed") if isinstance(data, dict) else None
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise RulebookError(path, 1, "expected 'renamed:' mapping each old rule id to its new id")
    return dict(mapping)


def renamed_rules(directory: Path | str | None = None) -> dict[str, str]:
    """The renamed rule ids of the shipped library (or of an exported folder): old id -> current id."""
    return dict(load_library(directory).renamed)


def _read_renamed(text: str | None, path: str, library: RuleLibrary) -> dict[str, str]:
    """old id -> current id, following chains (a -> b -> c gives a -> c and b -> c), checked."""
    if text is None:
        return {}
    written = read_renamed(text, path)
    current = {rule.id for rule in library.all_rules()}
    resolved = {}
    for old in written:
        if old in current:
            raise RulebookError(path, 1, f"'{old}' is renamed but is still the id of a rule")
        new, seen = old, [old]
        while new in written:
            new = written[new]
            if new in seen:
                raise RulebookError(path, 1, f"renamed ids go round in a circle: {' -> '.join(seen + [new])}")
            seen.append(new)
        if new not in current:
            raise RulebookError(path, 1, f"'{old}' is renamed to '{new}', which is not a rule of the library")
        resolved[old] = new
    return resolved

