"""The rulebooks' scenario files, one pytest test each, and the scenario format."""

import pytest

from claims.scenarios import run_scenario, scenario_files
from hds.errors import HdsError
from rules import SCENARIO_DIR

FILES = scenario_files(SCENARIO_DIR)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario(library, path):
    result = run_scenario(path, library)
    assert result.passed, "\n".join(result.differences)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_scenario_declares_only_paragraphs_its_rules_show(library, path):
    """`cites` is a reader's summary; the paragraphs a scenario covers are those of the rules that fired."""
    result = run_scenario(path, library)
    assert result.undeclared == (), f"{path.name} declares {result.undeclared}; its rules cite {result.paragraphs}"


def test_a_wrong_expectation_fails_and_says_why(library, tmp_path):
    text = (SCENARIO_DIR / "worked-example.yaml").read_text().replace(
        "E1 2020-11 ccg 15 1500.00 after-free-period-chc-pending",
        "E1 2020-11 council 15 1500.00 after-free-period-chc-pending")
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    result = run_scenario(path, library)
    assert not result.passed
    assert result.differences == ("expected, not produced: E1 2020-11 council 15 1500.00 after-free-period-chc-pending",
                                  "produced, not expected: E1 2020-11 ccg 15 1500.00 after-free-period-chc-pending")


def test_the_right_funder_by_the_wrong_rule_fails(library, tmp_path):
    """Expectations name the rule that decides the row: the same money decided by another rule is a failure."""
    text = (SCENARIO_DIR / "worked-example.yaml").read_text().replace(
        "E1 2020-12 bau 22 2200.00 after-free-period-chc-then-assessed", "E1 2020-12 bau 22 2200.00 assessed")
    path = tmp_path / "wrong-rule.yaml"
    path.write_text(text)
    result = run_scenario(path, library)
    assert result.differences == ("expected, not produced: E1 2020-12 bau 22 2200.00 assessed",
                                  "produced, not expected: E1 2020-12 bau 22 2200.00 after-free-period-chc-then-assessed")


def test_an_expectation_without_its_rule_is_refused(library, tmp_path):
    text = (SCENARIO_DIR / "worked-example.yaml").read_text().replace(" after-free-period-chc-pending", "")
    path = tmp_path / "five-words.yaml"
    path.write_text(text)
    with pytest.raises(HdsError, match="needs six words: episode month funder days amount rule"):
        run_scenario(path, library)


def test_a_run_reports_the_rules_that_fired(library):
    result = run_scenario(SCENARIO_DIR / "worked-example.yaml", library)
    assert result.fired == ("free-period", "after-free-period-chc-pending", "after-free-period-chc-not-eligible",
                            "after-free-period-chc-then-assessed")
    assert result.paragraphs == ("1.5", "4.4", "4.13")
    blocks = run_scenario(SCENARIO_DIR / "block-designated-beds.yaml", library)
    assert blocks.fired == ("block-cost",) and blocks.paragraphs == ("2.1", "4.12", "5.5.2")
