"""Files hds writes: owner-only (0600 files, 0700 folders) whatever the umask, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

from hds.errors import HdsError


def name_matches(name: str, glob: str) -> bool:
    """Whether a file or sheet `name` matches a glob of hds.toml's [input] (whatever its case; the glob
    without surrounding spaces): the one rule for reading a mapped table and for naming a row's file."""
    import fnmatch

    return fnmatch.fnmatchcase(name.casefold(), glob.strip().casefold())


def write_private(path: Path, data: bytes, exists: str | None = None) -> None:
    """Write `data` to `path`, created or truncated owner-only; a symbolic link is refused. With
    `exists` (the message to give), a file already there is refused rather than replaced."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_EXCL if exists else os.O_TRUNC)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise HdsError(exists) from None
    except OSError as exc:
        if Path(path).is_symlink():
            raise HdsError(f"{path} is a symbolic link; hds does not write through links: give the real file's "
                           "path") from None
        raise HdsError(f"cannot write {path}: {exc.strerror}") from None
    try:
        os.fchmod(descriptor, 0o600)  # an existing file keeps no wider permissions either
        with os.fdopen(descriptor, "wb") as handle:
            descriptor = None
            handle.write(data)
    finally:
        if descriptor is not None:
            os.close(descriptor)


def private_folder(path: Path) -> Path:
    """A folder created owner-only (0700), or one that exists made so; never a link; its parent must exist."""
    path = Path(path)
    if path.is_symlink():
        raise HdsError(f"{path} is a symbolic link; hds does not write through links: give the real folder's path")
    if not path.parent.exists():
        raise HdsError(f"the folder {path.parent} does not exist; create it first")
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    return path
