"""The reference parts of ``docs/rules.md``, written from the library itself.

The document is prose a commissioner or finance officer can read, with
sections between markers that are generated from the rule files::

    <!-- generated: schemes -->
    ...
    <!-- end generated: schemes -->

``update_document`` rewrites those sections from a library; the test suite
fails when the document is out of date, and ``python -m rules.docs
docs/rules.md`` brings it up to date. So the tables of parameters and rules
a reader sees are the ones the engine runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rules.dated import PARAMETERS
from rules.library import COMMON, RuleLibrary, load_library

SECTIONS = ("schemes", "parameters", "rules", "renamed")
_MARKED = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated: \2 -->)", re.S)


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def schemes_section(library: RuleLibrary) -> str:
    lines = ["| scheme | discharges | free period | the partners pay from |", "|---|---|---|---|"]
    for scheme in library.schemes:
        for term in scheme.terms:
            if term.free_period_days is not None:
                free = f"{term.free_period_days} days (discharge day = day 1)"
                paid = f"day {term.free_period_days + 1}"
                if term.free_period_ends_on is not None:
                    free += f", never past {term.free_period_ends_on}"
                    paid += f", or {term.free_period_ends_on} + 1 day if sooner"
            else:
                free = f"until assessment, at the latest {term.free_period_ends_on}"
                paid = f"the day after {term.free_period_ends_on} (if still unassessed)"
            lines.append(f"| {scheme.name} | {term.first_discharge} .. {term.last_discharge} | {free} | {paid} |")
    return "\n".join(lines) + "\n"


def parameters_section(library: RuleLibrary) -> str:
    lines = ["| scheme | parameter | value | for discharges from | unit | reference |", "|---|---|---|---|---|---|"]
    for scheme in library.schemes:
        declared = library.parameters[scheme.name]
        for name in PARAMETERS:
            if name not in declared.parameters:
                continue
            parameter = declared.parameters[name]
            for dated in parameter.values:
                value = "none (no longer applies)" if dated.value is None else dated.value
                lines.append(f"| {scheme.name} | `{name}` | {value} | {dated.applies_from} | {parameter.unit} | "
                             f"{_cell(dated.reference)} |")
    lines.append("")
    lines.append("What each parameter means:")
    lines.append("")
    for name, kind in PARAMETERS.items():
        lines.append(f"- `{name}` ({kind.unit}{', required' if kind.required else ''}): {kind.meaning}.")
    files = ", ".join(f"`{Path(p.path).name}`" for p in library.parameters.values())
    lines.append("")
    lines.append(f"Files: {files} in `rules/parameters/`.")
    return "\n".join(lines) + "\n"


def rules_section(library: RuleLibrary) -> str:
    out = []
    for i, rule in enumerate(library.books[COMMON].rules, start=1):
        out.append(f"{i}. **`{rule.id}`** → `{rule.funder}` (paragraph {', '.join(rule.cites)})  ")
        out.append(f"   {_cell(rule.explains) if rule.explains else '(no explanation written)'}  ")
        out.append(f"   *When:* `{rule.when}`. *The trace says:* {_cell(rule.reason)}")
    own = [name for name, book in library.books.items() if name != COMMON and book.path != library.books[COMMON].path]
    out.append("")
    if own:
        out.append(f"Schemes with a rulebook of their own: {', '.join(own)}; every other scheme uses the rules above.")
    else:
        out.append("Every scheme uses these rules: no scheme has a rulebook of its own.")
    return "\n".join(out) + "\n"


def renamed_section(library: RuleLibrary) -> str:
    if not library.renamed:
        return "No rule has been renamed.\n"
    lines = ["| old id | new id |", "|---|---|"]
    lines += [f"| `{old}` | `{new}` |" for old, new in library.renamed.items()]
    return "\n".join(lines) + "\n"


RENDER = {"schemes": schemes_section, "parameters": parameters_section, "rules": rules_section,
          "renamed": renamed_section}


def update_document(text: str, library: RuleLibrary | None = None) -> str:
    """`text` with each generated section rewritten from `library` (default: the shipped one)."""
    library = library or load_library()
    found = [m.group(2) for m in _MARKED.finditer(text)]
    missing = [name for name in SECTIONS if name not in found]
    unknown = [name for name in found if name not in RENDER]
    if missing or unknown:
        raise ValueError(f"the document lacks the generated section(s) {', '.join(missing) or '-'}, "
                         f"or has unknown ones: {', '.join(unknown) or '-'}")
    return _MARKED.sub(lambda m: m.group(1) + RENDER[m.group(2)](library) + m.group(4), text)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m rules.docs docs/rules.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8")
    updated = update_document(text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        print(f"{path}: updated")
    else:
        print(f"{path}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
