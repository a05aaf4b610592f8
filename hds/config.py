"""Local settings from `hds.toml`, beside the store: who is who, how shortfalls split.

    [partners]
    council = "OCC"      # the organisation code of the council
    ccg = "OCCG"         # the organisation code of the CCG

    [reconcile]
    shortfall_split = "cost_share"   # or "fixed"
    council_share = "0.5"            # with "fixed": the council's share of a shortfall
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hds.errors import HdsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SPLITS = ("cost_share", "fixed")


@dataclass(frozen=True)
class Config:
    council: str = "OCC"
    ccg: str = "OCCG"
    shortfall_split: str = "cost_share"
    council_share: Decimal = Decimal("0.5")


def load_config(path: Path | str = "hds.toml") -> Config:
    path = Path(path)
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise HdsError(f"{path}: not valid TOML ({exc})") from exc
    partners, reconcile = data.get("partners", {}), data.get("reconcile", {})
    split = reconcile.get("shortfall_split", "cost_share")
    if split not in SPLITS:
        raise HdsError(f"{path}: [reconcile] shortfall_split = '{split}' is not known; expected one of {', '.join(SPLITS)}")
    try:
        share = Decimal(str(reconcile.get("council_share", "0.5")))
    except InvalidOperation:
        raise HdsError(f"{path}: [reconcile] council_share must be a number between 0 and 1") from None
    if not 0 <= share <= 1:
        raise HdsError(f"{path}: [reconcile] council_share must be between 0 and 1, not {share}")
    return Config(str(partners.get("council", "OCC")), str(partners.get("ccg", "OCCG")), split, share)
