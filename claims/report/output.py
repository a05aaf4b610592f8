"""Writing a report to a file: the format its name asks for, owner-only, never through a link.

Reports carry patient lines, so every file hds writes is created readable
and writable by its owner only (0600), whatever the umask. `--out` never
follows a symbolic link (it could point at a file the user did not mean to
overwrite), and its folder must exist. A file name's extension decides the
format when --format is not given; a --format that contradicts the
extension is refused rather than writing, say, text into a .xlsx file.
"""

from __future__ import annotations

from pathlib import Path

from hds.errors import HdsError
from hds.files import private_folder, write_private

SUFFIX_FORMAT = {".csv": "csv", ".json": "json", ".xlsx": "xlsx", ".txt": "table", ".html": "html", ".pdf": "pdf"}


class FormatError(HdsError):
    """--format and --out disagree (a usage error)."""


def choose_format(fmt: str | None, out: Path | None, allowed: list[str], default: str = "table") -> str:
    """The format to write: --format if given, else the one --out's extension names, else `default`."""
    implied = SUFFIX_FORMAT.get(out.suffix.lower()) if out is not None else None
    if fmt is None:
        if out is not None and out.suffix and implied is None:
            raise FormatError(f"{out}: hds cannot tell the format from the extension '{out.suffix}'; "
                              f"give --format ({', '.join(allowed)})")
        fmt = implied or default
        if fmt not in allowed:
            raise FormatError(f"{out}: this command does not write {fmt}; it writes {', '.join(allowed)}")
        return fmt
    if implied is not None and implied != fmt:
        raise FormatError(f"--format {fmt} does not match {out} ({implied}); change the file name or the format")
    return fmt


def write_output(path: Path, content: bytes | str) -> None:
    """Write `content` to `path`: owner-only, refusing a symbolic link, in a folder that exists."""
    path = Path(path)
    if path.is_symlink():
        raise HdsError(f"{path} is a symbolic link; hds does not write through links: give the real file's path")
    if path.is_dir():
        raise HdsError(f"{path} is a folder; give a file name for --out")
    if not path.parent.exists():
        raise HdsError(f"the folder {path.parent} does not exist; create it first or choose another --out")
    write_private(path, content.encode("utf-8") if isinstance(content, str) else content)


def make_private_folder(path: Path) -> Path:
    """A folder for an evidence pack or similar: created owner-only (0700); its parent must exist."""
    return private_folder(path)
