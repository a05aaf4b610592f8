"""The rules language: parsing, the gap/unreachable check, compilation, and the engine."""

import random
import textwrap

import pytest
from click.testing import CliRunner

import cli
from hds.facts import FACTS
from rules.check import check_rulebook, truth_table
from rules.compiler import compile_rulebook
from rules.engine import Engine, EngineError
from rules.language import RulebookError, parse_condition, parse_rulebook


def write(tmp_path, text, name="book.rules"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


GAP = """
    scheme TEST
    rule free
      cites 1.5
      when free_care_continues
      funder hds
      reason Free care.
    rule pending
      cites 4.13
      when not free_care_continues and care_act_assessment_pending
      funder council
      reason Council pays.
    """

UNREACHABLE = """
    scheme TEST
    rule free
      cites 1.5
      when free_care_continues or restart
      funder hds
      reason Free care.
    rule restart
      cites 4.8
      when restart and not before_discharge
      funder bau
      reason Restarted.
    rule rest
      cites 4.13
      when always
      funder bau
      reason Everything else.
    """


def test_shipped_rulebooks_pass_the_check(library):
    assert set(library.books) == {"common", "HDS1", "HDS2", "HDS3", "HDS4"}
    for book in library.books.values():
        assert check_rulebook(book).rules == 20


def test_a_gap_is_refused_naming_file_and_line(tmp_path):
    path = write(tmp_path, GAP)
    with pytest.raises(RulebookError) as err:
        check_rulebook(parse_rulebook(path))
    assert str(err.value).startswith(f"{path} line 7: gap in rulebook TEST: no rule decides a segment with facts true:")
    assert err.value.line == 7


def test_an_unreachable_rule_is_refused_naming_file_and_line(tmp_path):
    path = write(tmp_path, UNREACHABLE)
    with pytest.raises(RulebookError) as err:
        check_rulebook(parse_rulebook(path))
    assert str(err.value) == (f"{path} line 7: rule restart is unreachable: every segment it matches "
                              "is already decided by earlier rule(s) free")


def test_rules_check_command_fails_on_a_bad_rulebook(tmp_path):
    path = write(tmp_path, UNREACHABLE)
    result = CliRunner().invoke(cli.main, ["rules", "check", str(path)])
    assert result.exit_code == 1
    assert f"Error: {path} line 7: rule restart is unreachable" in result.output


def test_rules_check_command_passes_on_shipped_rulebooks():
    """The shipped rulebook is common.rules alone: every scheme is data (rules/parameters) decided by it."""
    result = CliRunner().invoke(cli.main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok: 20 rules decide all 262,144 combinations") == 1
    assert "common.rules: ok" in result.output


@pytest.mark.parametrize("text, line, message", [
    ("scheme X\nrule a\n  cites 1.5\n  when no_such_fact\n  funder hds\n  reason r\n", 4, "unknown fact 'no_such_fact'"),
    ("scheme X\nrule a\n  cites 1.5\n  when always\n  funder nhs\n  reason r\n", 5, "unknown funder 'nhs'"),
    ("scheme X\nrule a\n  cites para 4\n  when always\n  funder hds\n  reason r\n", 3, "'para 4' is not a paragraph number"),
    ("scheme X\nrule a\n  cites 1.5\n  funder hds\n  reason r\n", 2, "rule a is missing when"),
    ("scheme X\nrule a\n  cites 1.5\n  when (restart\n  funder hds\n  reason r\n", 4, "the condition ends too early"),
    ("scheme X\nparameter free_period_days 42\n  source s\n", 2, "parameters are dated data now"),
    ("scheme X\nrule a\n  cites 1.5\n  when always\n  funder hds\n  says r\n", 6, "unknown rule attribute 'says'"),
    ("scheme X\nrules a\n", 2, "unknown statement 'rules'"),
])
def test_parse_errors_name_the_line(tmp_path, text, line, message):
    path = tmp_path / "bad.rules"
    path.write_text(text)
    with pytest.raises(RulebookError) as err:
        parse_rulebook(path)
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path} line {line}: ")


def test_conditions_parse_with_precedence():
    assert parse_condition("restart or not isolation_service and after_death") == (
        "or", [("fact", "restart"), ("and", [("not", ("fact", "isolation_service")), ("fact", "after_death")])])


def test_changing_a_rule_file_changes_behaviour(tmp_path):
    """Swap two rules, with their explanations, in an exported copy: restart now wins over isolation."""
    from rules.export import export_rules
    from rules.library import load_library

    export_rules(tmp_path)
    common = tmp_path / "rulebooks" / "common.rules"
    text = common.read_text()
    isolation = text[text.index("# 4.11:"):text.index("# 4.8:")]
    restart = text[text.index("# 4.8:"):text.index("# ---- The free period")]
    common.write_text(text.replace(isolation, "@@").replace(restart, isolation).replace("@@", restart))
    assert load_library(tmp_path).books["HDS2"].rule("restart").explains.startswith("4.8:")
    facts = dict.fromkeys(FACTS, False) | {"isolation_service": True, "restart": True, "within_free_period": True}
    assert Engine(load_library().books).decide("HDS2", [facts])[0].id == "isolation"
    assert Engine(load_library(tmp_path).books).decide("HDS2", [facts])[0].id == "restart"


def first_match(book, facts):
    index = sum(1 << i for i, name in enumerate(FACTS) if facts[name])
    return next(r.id for r in book.rules if truth_table(r.condition) >> index & 1)


def test_engine_agrees_with_first_match_order(library, engine):
    rng = random.Random(7)
    vectors = [{name: rng.random() < 0.5 for name in FACTS} for _ in range(2000)]
    for name, book in library.books.items():
        decided = engine.decide(name, vectors)
        assert [r.id for r in decided] == [first_match(book, v) for v in vectors]


def test_compiled_conditions_are_mutually_exclusive(library):
    definition = compile_rulebook(library.books["HDS2"])
    assert "__unmatched__" not in definition  # the last rule is a catch-all
    assert len(definition) == 20


class SilentEngine(Engine):
    """An engine whose actions record nothing, as if durable-rules lost a decision."""

    def _recorder(self, rule_id):
        return lambda c: None


class FailingEngine(Engine):
    """An engine whose actions raise, which durable-rules may swallow."""

    def _recorder(self, rule_id):
        def fail(c):
            raise RuntimeError("action failed")

        return fail


def test_a_segment_no_rule_decides_is_a_loud_error(library):
    facts = dict.fromkeys(FACTS, False)
    with pytest.raises(EngineError, match="expected exactly one rule to decide a segment, got none"):
        SilentEngine(library.books).decide("HDS2", [facts])


def test_an_exception_inside_an_action_is_a_loud_error(library):
    with pytest.raises(EngineError):
        FailingEngine(library.books).decide("HDS2", [dict.fromkeys(FACTS, False)])


def test_a_fact_identity_collision_falls_back_to_one_fact_per_session(library):
    """durable-rules may see two distinct facts as one (32-bit identity); every segment is still decided."""
    from durable.engine import MessageObservedException

    engine = Engine(library.books)
    real_post = engine._host.post_batch
    batches = []

    def colliding(ruleset, messages):
        batches.append(len(messages))
        if len(messages) > 1:
            raise MessageObservedException(messages[1])
        return real_post(ruleset, messages)

    engine._host.post_batch = colliding
    vectors = [dict.fromkeys(FACTS, False) | {"restart": True}, dict.fromkeys(FACTS, False)]
    assert [r.id for r in engine.decide("HDS2", vectors)] == ["restart", "after-free-period-assessed"]
    assert batches == [2, 1, 1]


def test_the_vocabulary_is_the_fact_table(library):
    """Facts are defined once: the rules language, the checker, the engine's packing and the
    segment cutting all read hds.facts.FACT_TABLE."""
    from hds import facts
    from hds.timeline import Timelines
    from rules import check

    names = [fact.name for fact in facts.FACT_TABLE]
    assert list(FACTS) == names == list(check.FACT_NAMES)
    assert facts.unpack(facts.FACT_BIT["restart"]) == {n: n == "restart" for n in names}
    for fact in facts.FACT_TABLE:  # every change date a fact names is a date of the timeline
        for date in fact.changes_on:
            assert date in facts.CHANGE_DATES
            assert date in Timelines.__dataclass_fields__ or isinstance(getattr(Timelines, date, None), property)


def test_the_comment_above_a_rule_is_its_explanation(tmp_path):
    path = write(tmp_path, """
        # A file comment, parted from the rule by a blank line.

        # 4.13: the council pays
        # while the assessment is due.
        #
        # A second paragraph.
        rule pending
          cites 4.13
          when care_act_assessment_pending  # an inline comment is not an explanation
          funder council
          reason Council pays.
        rule rest
          cites 4.13
          when always
          funder bau
          reason Everything else.
        """)
    book = parse_rulebook(path)
    assert book.rule("pending").explains == "4.13: the council pays while the assessment is due.\n\nA second paragraph."
    assert book.rule("rest").explains == ""


def test_every_shipped_rule_explains_the_paragraphs_it_cites(library):
    """The rulebook reads as the policy: each rule has its requirement above it, naming its paragraphs."""
    for rule in library.books["common"].rules:
        assert len(rule.explains) > 60, rule.id
        for paragraph in rule.cites:
            assert paragraph in rule.explains, (rule.id, paragraph)


def test_no_rule_speaks_of_a_week_number(library):
    """Rules are shared by schemes with free periods of 28 days, 42 days or up to a date."""
    import re

    for rule in library.all_rules():
        for text in (rule.id, rule.reason, rule.explains):
            assert not re.search(r"week\s*-?\d|\bweek\b|weeks", text, re.I), (rule.id, text)
