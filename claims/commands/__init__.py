"""The commands' room: what ``cli.py`` calls, one function per command or step.

``cli.py`` parses options and prints; everything a command does between
the two (open the store, compute, assemble what it shows) is here, built
from the other rooms: the ledger (``claims.ledger``), the claim and its
checks, and the reports (``claims.report``).
"""
