"""The rules language and the rule library: rulebooks, dated parameters, their checker, compiler and engine.

``language`` reads ``rulebooks/*.rules`` into Rulebook values, ``dated``
reads the dated parameters of ``parameters/*.yaml`` and derives the schemes
from them, ``library`` loads and checks both (``renamed.yaml`` maps old rule
ids to new; ``files`` reads a library's files and says its version), ``check`` proves a rulebook decides every segment exactly once,
``compiler`` turns it into durable-rules rulesets and ``engine`` runs them.
``export`` writes the library to a folder, ``coverage`` and ``compare`` read
allocation tables against it, ``docs`` writes its reference for readers.
The scenario files in ``scenarios/`` are run by ``claims.scenarios``, since
they check allocations.
"""

from pathlib import Path

RULES_DIR = Path(__file__).parent  # the shipped library: rulebooks/, parameters/, renamed.yaml
RULEBOOK_DIR = RULES_DIR / "rulebooks"
PARAMETER_DIR = RULES_DIR / "parameters"
SCENARIO_DIR = RULES_DIR / "scenarios"
