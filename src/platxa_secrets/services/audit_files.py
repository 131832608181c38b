"""Files the audit trail writes: new, private, published whole or not at all.

An export or an archive holds who touched which secret: not values, but
still nobody else's business, so it is created with mode 0600. It is
written under a temporary name beside its destination and linked into
place only when complete, so a reader never sees half a file, and the
link fails rather than replace a file that exists: an archive is the
only copy of the events it holds.

Reading one back (`open_regular`) accepts a regular file only: a FIFO
would block forever and a device such as `/dev/zero` never ends.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from platxa_secrets.errors import ConflictError, ValidationError


class PrivateFile:
    """A file being written; nothing is at `path` until `publish`."""

    def __init__(self, path: Path, field: str = "file") -> None:
        self.path = path
        self._field = field
        _check_free(path, field)

        directory = path.parent if str(path.parent) else Path(".")
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
        except OSError as exc:
            raise ValidationError(
                f"cannot write in {directory}: {exc.strerror}", field=field
            ) from None
        self._temporary = Path(temporary)
        self._handle = os.fdopen(fd, "wb")
        self._published = False

    def __enter__(self) -> PrivateFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self._published:
            self.discard()

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def publish(self) -> None:
        """Make the file durable and link it into place; never overwrite."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        try:
            os.link(self._temporary, self.path)
        except FileExistsError:
            raise ConflictError(
                f"{self.path} exists; an audit file is never overwritten",
                field=self._field,
            ) from None
        except OSError as exc:
            raise ValidationError(
                f"cannot write {self.path}: {exc.strerror}", field=self._field
            ) from None
        finally:
            self._temporary.unlink(missing_ok=True)
        self._published = True
        _sync_directory(self.path)

    def discard(self) -> None:
        """Drop what was written; `path` is left as it was."""
        self._handle.close()
        self._temporary.unlink(missing_ok=True)

    def withdraw(self) -> None:
        """Remove a published file again (its events stayed in the store)."""
        if self._published:
            self.path.unlink(missing_ok=True)
            self._published = False


def open_regular(path: Path, field: str) -> BinaryIO:
    """Open `path` to read if it is a regular file; refuse anything else.

    The open does not wait (`O_NONBLOCK`: a FIFO with no writer would
    block it), and the type is checked on the opened descriptor, so
    nothing can be swapped in between the check and the read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ValidationError(
            f"cannot read {path}: {exc.strerror}", field=field
        ) from None

    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValidationError(
                f"--{field} must be a regular file; {path} is {_kind(mode)}",
                field=field,
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _check_free(path: Path, field: str) -> None:
    """Refuse early, before any work, if the file could not be written."""
    if not path.name:
        raise ValidationError(f"--{field} needs a file name", field=field)
    if path.exists() or path.is_symlink():
        raise ConflictError(
            f"{path} exists; an audit file is never overwritten", field=field
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ValidationError(f"directory {directory} does not exist", field=field)


def _sync_directory(path: Path) -> None:
    """Persist the new directory entry, so the file survives a crash."""
    directory = path.parent if str(path.parent) else Path(".")
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
