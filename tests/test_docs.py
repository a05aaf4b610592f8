"""Every command is documented: it has help text, and the README or a page under docs/ names it
(`hds NAME`, `hds GROUP NAME`), as sqlite-utils' tests/test_docs.py holds its own commands to its docs."""

import re
from pathlib import Path

import click
import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent


def commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """(path, command) for every command and subcommand under `group`, groups included."""
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))


COMMANDS = list(commands(cli.main))


def documentation() -> str:
    return "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))])


def named(text: str, path: tuple[str, ...]) -> bool:
    """Whether `text` names the command: 'hds rules show', not 'hds rules shows' or 'hds rules-show'."""
    return re.search(r"\bhds " + re.escape(" ".join(path)) + r"(?![\w-])", text) is not None


def test_the_walk_finds_groups_and_their_subcommands():
    paths = [path for path, _ in COMMANDS]
    assert {("claim",), ("rules",), ("rules", "show"), ("audit", "sample")} <= set(paths)
    assert len(paths) == len(set(paths)) > 20
    assert named("run `hds rules show HDS2`.", ("rules", "show")) and not named("hds rules shows", ("rules", "show"))
    assert not named("hds rules-show", ("rules",)) and not named("ahds claim", ("claim",))


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=" ".join)
def test_every_command_has_help_text(path):
    command = dict(COMMANDS)[path]
    assert (command.help or "").strip(), f"hds {' '.join(path)} has no help text"
    assert command.get_short_help_str().strip()


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=" ".join)
def test_every_command_is_in_the_readme_or_docs(path):
    assert named(documentation(), path), (
        f"hds {' '.join(path)} is named neither in README.md nor under docs/: add it to the README's command table")
