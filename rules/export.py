"""Write a rule library to a folder, to edit it, try it (``load_library(folder)``) or keep it.

The folder gets the library's files as they are, in its layout
(``rulebooks/*.rules``, ``parameters/*.yaml``, ``renamed.yaml``), so loading
it back gives the same library with the same version.
"""

from __future__ import annotations

from pathlib import Path

from hds.errors import HdsError
from hds.files import private_folder, write_private
from rules.library import RuleLibrary, library_from_snapshot, library_snapshot, load_library

__all__ = ["export_rules", "library_snapshot", "library_from_snapshot"]


def export_rules(directory: Path | str, library: RuleLibrary | None = None) -> list[Path]:
    """Write the shipped rulebooks and parameters (or those of `library`, e.g. one a submission pinned)
    to `directory`, which must not exist or be empty; return the files written."""
    directory = Path(directory)
    if directory.is_symlink():
        raise HdsError(f"{directory} is a symbolic link; hds does not write through links: give a real folder")
    if directory.exists():
        if not directory.is_dir():
            raise HdsError(f"{directory} is a file; export the rules to a new or empty folder")
        if any(directory.iterdir()):
            raise HdsError(f"{directory} is not empty; export the rules to a new or empty folder")
    snapshot = library_snapshot(library if library is not None else load_library())
    written = []
    for name, text in snapshot.items():
        path = directory / name
        for folder in reversed([p for p in path.relative_to(directory).parents if p != Path(".")] + [Path(".")]):
            private_folder(directory / folder)
        write_private(path, text.encode("utf-8"))  # owner-only (0600), never through a link
        written.append(path)
    return written
