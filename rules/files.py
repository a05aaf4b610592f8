"""The files that make a rule library, and its version: what ``rules.library`` loads, and what says
whether decisions kept earlier were made by the library as it is now (``claims.decisions`` keeps
the files' texts with them), without parsing a rulebook or a parameter file.

A library is a folder of ``rulebooks/*.rules``, ``parameters/*.yaml`` and an optional
``renamed.yaml``; its version is the SHA-256 of every file's path and text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from rules import RULES_DIR

RULEBOOKS, PARAMETERS, RENAMED = "rulebooks", "parameters", "renamed.yaml"


def read_folder(directory: Path) -> dict[str, str]:
    """The library files of a folder, by relative path."""
    if not directory.is_dir():
        raise _error(directory, "no such folder")
    paths = sorted(directory.glob(f"{RULEBOOKS}/*.rules")) + sorted(directory.glob(f"{PARAMETERS}/*.yaml"))
    if (directory / RENAMED).is_file():
        paths.append(directory / RENAMED)
    files = {}
    for path in paths:
        try:
            files[path.relative_to(directory).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _error(path, f"cannot read ({exc})") from exc
    return files


def _error(path: Path, message: str):
    from rules.language import RulebookError  # the rules language, imported only to say what is wrong

    return RulebookError(path, 1, message)


def library_version(files: Mapping[str, str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def shipped_files() -> dict[str, str]:
    """The files of the shipped library, by relative path."""
    return read_folder(RULES_DIR)
