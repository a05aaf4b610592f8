"""Tables as named numpy columns: the shape data takes between the store and the reports.

A Table is a handful of equal-length numpy arrays. Text is an object array of
str, dates are int64 day numbers (``hds.days``), money int64 pence, flags
bool. There is no per-row object anywhere on the hot path; rows are made
only at the edge, when something is printed or written.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np


class Table:
    __slots__ = ("_columns", "_length")

    def __init__(self, columns: dict[str, np.ndarray] | None = None, length: int | None = None):
        self._columns: dict[str, np.ndarray] = {}
        self._length = length
        for name, values in (columns or {}).items():
            self._set(name, values)
        if self._length is None:
            self._length = 0

    def _set(self, name: str, values) -> None:
        array = values if isinstance(values, np.ndarray) else _array(values)
        if self._length is None:
            self._length = len(array)
        elif len(array) != self._length:
            raise ValueError(f"column {name} has {len(array)} values, the table {self._length}")
        self._columns[name] = array

    @classmethod
    def empty(cls, dtypes: dict[str, object]) -> "Table":
        return cls({name: np.empty(0, dtype=dtype) for name, dtype in dtypes.items()})

    @classmethod
    def from_rows(cls, names: list[str], rows: list[tuple], dtypes: dict[str, object]) -> "Table":
        """Columns from rows (as sqlite3 or csv give them), one numpy array per column."""
        if not rows:
            return cls.empty({n: dtypes.get(n, object) for n in names})
        columns = list(zip(*rows))
        return cls({n: _array(list(c), dtypes.get(n, object)) for n, c in zip(names, columns)})

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __contains__(self, name: str) -> bool:
        return name in self._columns

    @property
    def names(self) -> list[str]:
        return list(self._columns)

    def get(self, name: str, default=None):
        return self._columns.get(name, default)

    def take(self, index) -> "Table":
        """Rows by integer positions or a boolean mask."""
        index = np.asarray(index)
        length = int(index.sum()) if index.dtype == bool else len(index)
        return Table({n: c[index] for n, c in self._columns.items()}, length=length)

    def with_columns(self, **columns) -> "Table":
        merged = dict(self._columns)
        merged.update({n: c if isinstance(c, np.ndarray) else _array(c) for n, c in columns.items()})
        return Table(merged, length=self._length)

    def select(self, names: Iterable[str]) -> "Table":
        return Table({n: self._columns[n] for n in names}, length=self._length)

    @staticmethod
    def concat(tables: list["Table"]) -> "Table":
        tables = [t for t in tables if t is not None]
        if not tables:
            return Table()
        names = tables[0].names
        return Table({n: np.concatenate([t[n] for t in tables]) for n in names},
                     length=sum(len(t) for t in tables))

    def rows(self, names: Iterable[str] | None = None) -> Iterator[tuple]:
        """Plain Python tuples (str, int, bool), for output."""
        names = list(names) if names is not None else self.names
        return zip(*(self._columns[n].tolist() for n in names)) if names else iter(())

    def records(self, names: Iterable[str] | None = None) -> list[dict]:
        names = list(names) if names is not None else self.names
        return [dict(zip(names, row)) for row in self.rows(names)]

    def __repr__(self) -> str:
        return f"Table({self._length} rows: {', '.join(self._columns)})"


def _array(values, dtype=object) -> np.ndarray:
    if dtype is object:
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array
    return np.asarray(values, dtype=dtype)


def group_starts(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows that start a new run of equal keys (rows already sorted)."""
    n = len(keys[0]) if keys else 0
    starts = np.zeros(n, dtype=bool)
    if n:
        starts[0] = True
        for key in keys:
            starts[1:] |= key[1:] != key[:-1]
    return starts
