"""The rules language: rulebook files, their checker, compiler and engine.

``language`` reads ``rulebooks/*.rules`` into Rulebook values, ``check``
proves a rulebook decides every segment exactly once, ``compiler`` turns it
into durable-rules rulesets and ``engine`` runs them. The scenario files in
``scenarios/`` are run by ``claims.scenarios``, since they check allocations.
"""

from pathlib import Path

RULEBOOK_DIR = Path(__file__).parent / "rulebooks"
SCENARIO_DIR = Path(__file__).parent / "scenarios"
