"""Running the hds command in-process, as the tests do."""

from click.testing import CliRunner

import cli


PARTNERS = '[partners]\ncouncil = "OCC"\nccg = "OCCG"\n'  # the sample's partners, as its hds.toml names them


def hds(*args, env=None):
    """hds with these arguments (paths and numbers as text): the click result, whatever the exit code."""
    return CliRunner().invoke(cli.main, [str(a) for a in args], env=env)


def ok(*args, env=None):
    """hds with these arguments, which must succeed: its output."""
    result = hds(*args, env=env)
    assert result.exit_code == 0, result.output
    return result.output
