"""Local settings from `hds.toml`, beside the store: who is who, how shortfalls split, where the
ledger's anchor is kept and the thresholds of the checks.

    [partners]                            # only the recharge and the shortfall's split need them
    council = "XCC"                       # the council's organisation code, as in the data
    council_name = "Xshire County Council"
    ccg = "XCCG"                          # the CCG's organisation code, as in the data
    ccg_name = "Xshire CCG"

    [reconcile]
    shortfall_split = "cost_share"        # or "fixed", with council_share
    council_share = "0.6"                 # with "fixed": the council's share of a shortfall (0 to 1)

    [ledger]
    anchor = "/secure/share/hds-anchor.txt"   # where submit appends each submission's hash

    [checks]                              # thresholds of `hds check` (docs/checks.md)

    [invoice]
    prefix = "KCC-HDS-"                   # invoices are numbered KCC-HDS-0001, KCC-HDS-0002, ...

    [service_lines]                       # service code = the pool's service line (memorandum note, 6.1-6.2)
    residential = "Residential care"

    [timetable]                           # month = NHS England's submission deadline for it
    "2020-12" = "2020-12-29"              # a quoted ISO date, or a TOML date: "2021-03" = 2021-04-06

    [notices]
    template = "letters/free-care-ends.docx"  # the letter `hds notices` fills (docxtpl); relative to hds.toml

    [input.episodes]                      # how the extract reads as the contract (hds.mapping)

Everything is checked when read: an unknown section or key, a value of the
wrong kind, a fixed split without a share, and (once the data is known)
partner codes that appear nowhere in it are errors naming the key, never
silently ignored or defaulted. No council is built in: without [partners]
everything that does not need to know who is who works, and what does
refuses, naming [partners] and the organisation codes of the data.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hds.errors import HdsError
from hds.mapping import InputMapping, parse_input

SPLITS = ("cost_share", "fixed")
KEYS = {
    "partners": ("council", "council_name", "ccg", "ccg_name", "council_address", "ccg_address"),
    "reconcile": ("shortfall_split", "council_share"),
    "ledger": ("anchor",),
    "checks": None,  # validated by claims.checks.Thresholds
    "invoice": ("prefix",),
    "service_lines": None,  # any service code -> its service line
    "timetable": None,  # any month -> its deadline
    "notices": ("template",),
    "input": None,  # validated by hds.mapping
}
INVOICE_PREFIX = "HDS-"  # invoice numbers without [invoice] prefix: HDS-0001, HDS-0002, ...


@dataclass(frozen=True)
class Config:
    council: str | None = None  # None: hds.toml names no partners
    ccg: str | None = None
    council_name: str = ""
    ccg_name: str = ""
    shortfall_split: str = "cost_share"
    council_share: Decimal | None = None
    anchor: Path | None = None  # None: beside the store, <store>.anchor
    checks: dict = field(default_factory=dict)
    path: Path | None = None  # the file it came from, for messages
    council_address: str = ""
    ccg_address: str = ""
    invoice_prefix: str = INVOICE_PREFIX
    service_lines: dict = field(default_factory=dict)  # service code -> the pool's service line
    timetable: dict = field(default_factory=dict)  # Month -> NHS England's submission deadline (date)
    notices_template: Path | None = None  # None: the letter hds ships
    input: InputMapping = field(default_factory=InputMapping)  # [input]: how the extract reads

    @property
    def council_label(self) -> str:
        return self.council_name or self.council or "the council"

    @property
    def ccg_label(self) -> str:
        return self.ccg_name or self.ccg or "the CCG"

    def where(self, section: str, key: str) -> str:
        return f"{self.path or 'hds.toml'} [{section}] {key}"

    @property
    def has_partners(self) -> bool:
        return self.council is not None

    def check_partners(self, organisations: set[str], needed_by: str = "the recharge") -> None:
        """The partners must be named (`needed_by` says what needs them), and their codes must be
        organisations of the data: a code that appears nowhere would silently turn every recharge around."""
        if not self.has_partners:
            codes = ", ".join(sorted(organisations)) or "none"
            raise HdsError(f"{needed_by} needs to know which organisation is the council and which the CCG: name them "
                           f"in [partners] of {self.path or 'hds.toml'} beside the store (council = \"...\", "
                           f"ccg = \"...\"); the data's organisation codes are {codes}")
        if not organisations:
            return
        for key, code in (("council", self.council), ("ccg", self.ccg)):
            if code not in organisations:
                raise HdsError(f"{self.where('partners', key)} = '{code}' is an organisation code that appears in no "
                               f"episode or block cost of the data (they use {', '.join(sorted(organisations))}); "
                               "correct it in hds.toml")


def load_config(path: Path | str = "hds.toml") -> Config:
    path = Path(path)
    if not path.exists():
        return Config(path=path)
    if sys.version_info >= (3, 11):  # imported only to read a file (it compiles its patterns: 4 ms)
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise HdsError(f"{path}: not valid TOML ({exc})") from exc
    except RecursionError:
        raise HdsError(f"{path}: not a settings file hds can read (values nested too deeply); hds.toml holds "
                       "plain keys in a few sections") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HdsError(f"{path}: cannot be read ({exc})") from exc
    _check_sections(path, data)
    partners, reconcile = data.get("partners", {}), data.get("reconcile", {})
    for key, value in {**partners, **reconcile, **data.get("ledger", {}), **data.get("notices", {})}.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise HdsError(f"{path}: '{key}' must be a text value, e.g. {key} = \"...\"")
    split = reconcile.get("shortfall_split", "cost_share")
    if split not in SPLITS:
        raise HdsError(f"{path}: [reconcile] shortfall_split = '{split}' is not known; expected one of {', '.join(SPLITS)}")
    share = None
    if "council_share" in reconcile:
        try:
            share = Decimal(str(reconcile["council_share"]))
        except InvalidOperation:
            raise HdsError(f"{path}: [reconcile] council_share must be a number between 0 and 1") from None
        if not share.is_finite() or not 0 <= share <= 1:
            raise HdsError(f"{path}: [reconcile] council_share must be between 0 and 1, not {share}")
        if split != "fixed":
            raise HdsError(f"{path}: [reconcile] council_share is used only with shortfall_split = \"fixed\"; "
                           "remove it or set the split to fixed")
    elif split == "fixed":
        raise HdsError(f"{path}: [reconcile] shortfall_split = \"fixed\" needs council_share, the council's part of a "
                       "shortfall between 0 and 1, e.g. council_share = \"0.6\"")
    council, ccg = _partners(partners, path)
    return Config(council=council, ccg=ccg, council_name=str(partners.get("council_name", "")),
                  ccg_name=str(partners.get("ccg_name", "")), shortfall_split=split, council_share=share,
                  anchor=_anchor(path, data.get("ledger", {}).get("anchor")), checks=dict(data.get("checks", {})),
                  path=path, notices_template=_template(path, data.get("notices", {}).get("template")),
                  input=parse_input(data.get("input", {}), str(path)), **_paperwork(path, data))


def _paperwork(path: Path, data: dict) -> dict:
    """The sections of the pool's paperwork: addresses, the invoice prefix, service lines, the timetable."""
    partners, invoice = data.get("partners", {}), data.get("invoice", {})
    for section, values in (("invoice", invoice), ("service_lines", data.get("service_lines", {}))):
        for key, value in values.items():
            if not isinstance(value, str) or not value.strip():
                raise HdsError(f"{path}: [{section}] {key} must be a text value, e.g. {key} = \"...\"")
    lines = {str(k).strip(): v.strip() for k, v in data.get("service_lines", {}).items()}
    from hds.contract import SERVICES

    known = (*SERVICES, "block")  # block costs have the service code `block`
    for code in lines:
        if code not in known:
            raise HdsError(f"{path}: [service_lines] '{code}' is not a service code; the codes are {', '.join(known)}")
    return {"council_address": str(partners.get("council_address", "")).strip(),
            "ccg_address": str(partners.get("ccg_address", "")).strip(),
            "invoice_prefix": invoice.get("prefix", INVOICE_PREFIX).strip(), "service_lines": lines,
            "timetable": _timetable(path, data.get("timetable", {}))}


def _timetable(path: Path, section: dict) -> dict:
    """[timetable]: month = its submission deadline, a quoted ISO date or a TOML date."""
    from hds.days import to_date
    from hds.month import Month

    found = {}
    for key, value in section.items():
        try:
            month = Month.parse(key)
        except ValueError:
            raise HdsError(f"{path}: [timetable] '{key}' is not a month; write \"YYYY-MM\" = \"YYYY-MM-DD\", e.g. "
                           "\"2020-12\" = \"2020-12-29\"") from None
        if isinstance(value, dt.datetime) or not isinstance(value, (str, dt.date)):
            raise HdsError(f"{path}: [timetable] \"{key}\" must be a date, e.g. \"{key}\" = \"{key}-15\"")
        try:
            deadline = value if isinstance(value, dt.date) else dt.date.fromisoformat(value.strip())
        except ValueError:
            raise HdsError(f"{path}: [timetable] \"{key}\" = '{value}' is not a date; expected YYYY-MM-DD") from None
        if deadline < to_date(month.first_day):
            raise HdsError(f"{path}: [timetable] \"{key}\" = {deadline} is before the month it is the deadline of")
        found[month] = deadline
    return dict(sorted(found.items()))


def _check_sections(path: Path, data: dict) -> None:
    for section, values in data.items():
        if section not in KEYS:
            raise HdsError(f"{path}: unknown section [{section}]; hds.toml has {', '.join(f'[{k}]' for k in KEYS)}")
        if not isinstance(values, dict):
            raise HdsError(f"{path}: {section} must be a section, [{section}]")
        for key in values:
            if KEYS[section] is not None and key not in KEYS[section]:
                raise HdsError(f"{path}: unknown key '{key}' in [{section}]; it takes {', '.join(KEYS[section])}")


def _anchor(path: Path, anchor) -> Path | None:
    """[ledger] anchor: a file (that may not exist yet), never a folder."""
    if not anchor:
        return None
    file = path.parent / Path(str(anchor)).expanduser()
    if file.is_dir():
        raise HdsError(f"{path}: [ledger] anchor = '{anchor}' is a folder; name a file in it, e.g. "
                       f"anchor = \"{Path(str(anchor)) / 'hds.anchor'}\"")
    return file


def _template(path: Path, template) -> Path | None:
    """[notices] template: the council's own letter, relative to hds.toml."""
    return (path.parent / Path(str(template)).expanduser()) if template else None


def _partners(partners: dict, path: Path) -> tuple[str | None, str | None]:
    """The council's and the CCG's codes; (None, None) when hds.toml names no partners."""
    if not partners:
        return None, None
    council, ccg = str(partners.get("council", "")).strip(), str(partners.get("ccg", "")).strip()
    if not council or not ccg or council == ccg:
        raise HdsError(f"{path}: [partners] council and ccg must be two different organisation codes")
    return council, ccg
