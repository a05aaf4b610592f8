"""sqlite-utils, which builds and migrates the store's schema, imported without pandas.

sqlite-utils imports pandas whenever it is installed (to give pandas' Timestamp a column type, which
hds never stores), and pandas takes longer to import than most commands take to run; `hds verify`,
`hds load` and every command that migrates a store import sqlite-utils. So pandas is hidden from it
while it is imported (and only then: hds's own pandas readers import it as usual).
"""

from __future__ import annotations

import sys


def load_sqlite_utils():
    """The sqlite_utils module, imported (once) without pandas."""
    if "sqlite_utils" not in sys.modules and "pandas" not in sys.modules:
        sys.modules["pandas"] = None  # an import of pandas now fails, as if it were not installed
        try:
            import sqlite_utils
        finally:
            del sys.modules["pandas"]
    import sqlite_utils

    return sqlite_utils
