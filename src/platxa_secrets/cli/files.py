"""Write files that hold secrets: created with mode 0600, replaced atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from platxa_secrets.errors import ValidationError


def write_private(path: Path, content: bytes) -> None:
    """Write `content` to `path` readable by the owner only.

    The file is written beside its destination with mode 0600 and renamed
    over it, so a reader never sees a half-written file and there is no
    moment when the content sits in a file others may read.
    """
    if not path.name:
        raise ValidationError("--file needs a file name", field="file")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise ValidationError(
            f"{path} exists and is not a regular file; it is not replaced",
            field="file",
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ValidationError(f"directory {directory} does not exist", field="file")
    try:
        _replace(path, directory, content)
    except OSError as exc:
        raise ValidationError(
            f"cannot write {path}: {exc.strerror}", field="file"
        ) from None


def _replace(path: Path, directory: Path, content: bytes) -> None:
    """Write a 0600 temporary file beside `path`, then rename it over."""
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
