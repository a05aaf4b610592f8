"""The rulebooks' scenario files, one pytest test each."""

import pytest

from rules import SCENARIO_DIR
from claims.scenarios import run_scenario, scenario_files

FILES = scenario_files(SCENARIO_DIR)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(library, path):
    result = run_scenario(path, library)
    assert result.passed, "\n".join(result.differences)


def test_every_cited_paragraph_has_a_scenario(library):
    cited = {c for book in library.books.values() for rule in book.rules for c in rule.cites}
    cited |= {"2.1", "4.12", "5.5.2"}  # block costs
    covered = {c for path in FILES for c in run_scenario(path, library).cites}
    assert cited - covered == set()


def test_a_wrong_expectation_fails_and_says_why(library, tmp_path):
    text = (SCENARIO_DIR / "worked-example.yaml").read_text().replace("E1 2020-11 ccg 15 1500.00",
                                                                      "E1 2020-11 council 15 1500.00")
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    result = run_scenario(path, library)
    assert not result.passed
    assert result.differences == ("expected, not produced: E1 2020-11 council 15 1500.00",
                                  "produced, not expected: E1 2020-11 ccg 15 1500.00")
