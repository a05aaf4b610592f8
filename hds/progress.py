"""Progress on long work, shown on a terminal's stderr and nowhere else.

Output that is piped or captured (CSV, JSON, tests) stays clean.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

THRESHOLD = 5_000  # items below this finish too quickly to need a bar


@contextmanager
def progress(items, label: str):
    items = list(items)
    if len(items) < THRESHOLD or not sys.stderr.isatty():
        yield items
        return
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar
