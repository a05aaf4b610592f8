"""pyproject.toml declares what the code imports, and nothing else: every runtime dependency is imported by the
product (hds/, rules/, claims/, fixtures/, cli.py), and every library the product or the tests import is declared."""

import ast
import functools
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("hds", "rules", "claims", "fixtures", "cli.py")
OURS = {"hds", "rules", "claims", "fixtures", "tests", "cli", "benchmarks"}
# distribution name (as pyproject.toml writes it, normalised) -> the module it is imported as
IMPORT_NAME = {"durable-rules": "durable", "pyyaml": "yaml", "sqlite-utils": "sqlite_utils", "pillow": "PIL",
               "dask": "dask", "fpdf2": "fpdf", "python-docx": "docx"}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution(requirement: str) -> str:
    """The distribution a requirement names: 'dask[distributed]>=2024.1' -> 'dask'."""
    return normalised(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1))


def module_of(requirement: str) -> str:
    name = distribution(requirement)
    return IMPORT_NAME.get(name, name.replace("-", "_"))


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@functools.lru_cache(maxsize=None)
def imported(*roots: str) -> dict[str, set[str]]:
    """Top-level modules imported anywhere under `roots` (in functions too), not the standard library's or
    ours: module -> the files importing it."""
    found: dict[str, set[str]] = {}
    for root in roots:
        path = ROOT / root
        for file in [path] if path.suffix == ".py" else sorted(path.rglob("*.py")):
            for node in ast.walk(ast.parse(file.read_text(), str(file))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, set()).add(str(file.relative_to(ROOT)))
    return found


def test_the_helpers_read_requirements_as_pip_does():
    assert distribution("durable-rules==2.0.28") == "durable-rules" and module_of("durable-rules==2.0.28") == "durable"
    assert module_of("PyYAML>=6.0") == "yaml" and module_of("sqlite_utils>=4.0") == "sqlite_utils"
    assert module_of("dask[distributed]>=2024.1") == "dask"
    assert module_of("tomli>=2; python_version < '3.11'") == "tomli"
    assert "tomli" in imported("hds") and "numpy" in imported("hds") and "pytest" not in imported(*PRODUCT)


@pytest.mark.parametrize("requirement", project()["dependencies"])
def test_every_runtime_dependency_is_imported_by_the_product(requirement):
    modules = imported(*PRODUCT)
    assert module_of(requirement) in modules, (
        f"{requirement!r} is declared in pyproject.toml but nothing under {', '.join(PRODUCT)} imports "
        f"{module_of(requirement)!r}: remove it, or move it to the extra that uses it")


def test_every_library_the_product_imports_is_declared():
    runtime = {module_of(r) for r in project()["dependencies"]}
    extras = {module_of(r) for requirements in project()["optional-dependencies"].values() for r in requirements}
    undeclared = {m: files for m, files in imported(*PRODUCT).items() if m not in runtime | extras}
    assert undeclared == {}


def test_every_library_the_tests_import_is_declared():
    optional = project()["optional-dependencies"]
    declared = {module_of(r) for r in project()["dependencies"] + optional["dev"] + optional["dask"]}
    undeclared = {m: files for m, files in imported("tests").items() if m not in declared}
    assert undeclared == {}


def test_pendulum_and_holidays_are_runtime_dependencies_of_the_timetable():
    """The timetable's working days (hds/timetable.py) need them at run time; the scalar oracle's
    pendulum comes with them."""
    runtime = {distribution(r) for r in project()["dependencies"]}
    assert {"pendulum", "holidays"} <= runtime
    assert "pendulum" in imported("hds") and "holidays" in imported("hds")
