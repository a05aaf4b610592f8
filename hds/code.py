"""This hds's own code as a digest, for what is kept on the understanding that this very code made it:
the findings a month's checks found (``claims.checked``), the files a load read (``hds.store.read_before``).
Any change to a module, an upgrade included, changes the digest, and what was kept is made again."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def code_digest(*packages: str) -> str | None:
    """A digest of the text of every module of the named packages (read once per process), or None when
    one cannot be read (nothing may then be taken as made by this code)."""
    import importlib

    digest = hashlib.sha256()
    try:
        for name in packages:
            root = Path(importlib.import_module(name).__file__).parent
            for path in sorted(root.rglob("*.py")):
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()
