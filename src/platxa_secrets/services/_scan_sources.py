"""What a leak scan reads from disk, and what it reports passing over.

A source yields `Chunk`s: a piece of text and where it came from. A
file is one chunk; git sources (`_scan_git`) yield a chunk per hunk.
Every path passed over is recorded in the `Tally` with the reason, so
that a clean result is read rightly:

- a file over the size cap, or binary (a NUL byte in the first 8000
  bytes, git's own rule; UTF-16 text is decoded, not skipped);
- a file that cannot be read;
- inside a folder, anything that is not a regular file (a FIFO, a
  socket, a device would block or never end) and symbolic links, which
  are not followed (their target is scanned where it lives).

A path named on the command line that is not a regular file or a
folder is refused before anything is read (`check_named`): a scan
that says "0 files" for it would claim a clean result it never had.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from platxa_secrets.core.leaks import decode_file
from platxa_secrets.errors import ValidationError

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "node_modules",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
    }
)
BINARY = "binary"
SYMLINK = "a symbolic link, not followed"
_MIB = 1024 * 1024
_FILE_TYPES = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


@dataclass(frozen=True)
class Chunk:
    """Text to search, the line it starts at, and where it came from."""

    path: str
    text: str = field(repr=False)
    first_line: int = 1
    commit: str | None = None
    whole_file: bool = False


@dataclass(frozen=True)
class Skipped:
    """A path that was not searched, and why."""

    path: str
    reason: str
    commit: str | None = None


@dataclass
class Tally:
    """What a scan read and what it passed over, for the report."""

    files: int = 0
    commits: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, path: str, reason: str, commit: str | None = None) -> None:
        self.skipped.append(Skipped(path, reason, commit))


def files(paths: Iterable[Path], max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """Each text file under `paths`, in a stable order.

    Directories are walked without following symlinks and without
    entering `SKIPPED_DIRS`; a path named on the command line is read
    even if it sits in one, and followed if it is a link.
    """
    for path in paths:
        if path.is_dir():
            for found in _walk(path, tally):
                yield from _read(found, max_bytes, tally)
        else:
            yield from _read(path, max_bytes, tally)


def check_named(path: Path) -> None:
    """Refuse a named path that is neither a regular file nor a folder."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # reported when it is read
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ValidationError(
            f"{path} is a {_file_type(mode)}: pxs scan reads regular files "
            "and folders only",
            field="path",
        )


def too_large(max_bytes: int) -> str:
    """The reason given for a file over the size cap."""
    size = f"{max_bytes // _MIB} MiB" if max_bytes % _MIB == 0 else f"{max_bytes} B"
    return f"larger than {size}"


def _walk(top: Path, tally: Tally) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(top):
        kept = []
        for name in sorted(subdirectories):
            if name in SKIPPED_DIRS:
                continue
            if Path(directory, name).is_symlink():
                tally.skip(str(Path(directory, name)), SYMLINK)
            else:
                kept.append(name)
        subdirectories[:] = kept

        for name in sorted(names):
            path = Path(directory, name)
            if path.is_symlink():
                tally.skip(str(path), SYMLINK)
            else:
                yield path


def _read(path: Path, max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """One file as a chunk, unless it is not a regular file, binary or big."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            tally.skip(str(path), f"not a regular file ({_file_type(info.st_mode)})")
            return
        if info.st_size > max_bytes:
            tally.skip(str(path), too_large(max_bytes))
            return
        content = path.read_bytes()
    except OSError as exc:
        tally.skip(str(path), f"not readable ({exc.strerror or 'error'})")
        return

    text = decode_file(content)
    if text is None:
        tally.skip(str(path), BINARY)
        return

    tally.files += 1
    yield Chunk(str(path), text, whole_file=True)


def _file_type(mode: int) -> str:
    for test, name in _FILE_TYPES:
        if test(mode):
            return name
    return "folder" if stat.S_ISDIR(mode) else "special file"
