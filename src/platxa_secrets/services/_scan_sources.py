"""What a leak scan reads: files on disk, a git history, a staged diff.

Each source yields `Chunk`s: a piece of text and where it came from. A
file is one chunk. From git, each hunk's added lines are one chunk
placed at their line in the new file, so a finding names the commit
that introduced a leak (a later commit that deletes it does not hide
it). Removed lines are not searched: they were added by an earlier
commit, which is where the leak is reported.

Files that cannot be text (a NUL byte in the first 8000 bytes, git's own
rule) and files over the size cap are skipped and counted, not read.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from platxa_secrets.core.leaks import as_text
from platxa_secrets.errors import ValidationError

SKIPPED_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})
_BINARY_PROBE = 8000
_HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_COMMIT = re.compile(r"\x00([0-9a-f]{40,64})")
_DIFF_OPTIONS = (
    "-U0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)


@dataclass(frozen=True)
class Chunk:
    """Text to search, the line it starts at, and where it came from."""

    path: str
    text: str = field(repr=False)
    first_line: int = 1
    commit: str | None = None
    whole_file: bool = False


@dataclass
class Tally:
    """What a scan read and what it passed over, for the report."""

    files: int = 0
    commits: int = 0
    binary: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def files(paths: Iterable[Path], max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """Each text file under `paths`, in a stable order.

    Directories are walked without following symlinks and without
    entering `SKIPPED_DIRS`; a path named on the command line is read
    even if it sits in one.
    """
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for found in _walk(path):
                yield from _read(found, max_bytes, tally)
        else:
            yield from _read(path, max_bytes, tally)


def git_history(repository: Path, tally: Tally) -> Iterator[Chunk]:
    """The added lines of every commit reachable from any ref."""
    _check_repository(repository)
    command = ["log", "-p", "--all", "--format=%x00%H", *_DIFF_OPTIONS]
    return _diff_chunks(repository, command, tally)


def staged(repository: Path, tally: Tally) -> Iterator[Chunk]:
    """The added lines of the staged diff: what the next commit would add."""
    _check_repository(repository)
    command = ["diff", "--cached", *_DIFF_OPTIONS]
    return _diff_chunks(repository, command, tally)


def _walk(top: Path) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(top):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(directory, name)
            if not path.is_symlink():
                yield path


def _read(path: Path, max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """One file as a chunk, unless it is not a regular file, binary or big."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return
        if info.st_size > max_bytes:
            tally.too_large.append(str(path))
            return
        content = path.read_bytes()
    except OSError:
        tally.unreadable.append(str(path))
        return

    if b"\x00" in content[:_BINARY_PROBE]:
        tally.binary.append(str(path))
        return

    tally.files += 1
    yield Chunk(str(path), as_text(content), whole_file=True)


def _check_repository(repository: Path) -> None:
    """Fail with a usage error unless `repository` is inside a work tree."""
    try:
        result = subprocess.run(
            ["git", "-C", str(repository), "rev-parse", "--git-dir"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise ValidationError(
            "scanning git needs the `git` command on PATH", field="git"
        ) from None
    if result.returncode != 0:
        # git names the path and the reason (no repository, dubious
        # ownership); its first line is shown as it is.
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f" (git: {reason[0].removeprefix('fatal: ')})" if reason else ""
        raise ValidationError(
            f"{repository} is not a git repository{detail}", field="path"
        )


def _diff_chunks(repository: Path, command: list[str], tally: Tally) -> Iterator[Chunk]:
    """Run git and turn its patch output into chunks as it streams."""
    process = subprocess.Popen(
        ["git", "-C", str(repository), "-c", "core.quotePath=false", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        yield from _parse_patch(_text_lines(process.stdout), tally)
    except BaseException:
        process.kill()
        raise
    finally:
        process.stdout.close()
        code = process.wait()

    if code != 0:
        raise ValidationError(
            f"git {command[0]} failed in {repository} (exit {code})", field="git"
        )


def _text_lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield as_text(raw.removesuffix(b"\n"))


def _parse_patch(lines: Iterator[str], tally: Tally) -> Iterator[Chunk]:
    """Chunks from `git log -p -U0` / `git diff -U0` output.

    A hunk header gives how many lines follow; they are counted rather
    than recognised by their first character, so an added line that
    looks like a header (`+++ x`, a NUL) is still read as content.
    """
    commit: str | None = None
    path: str | None = None
    for line in lines:
        marker = _COMMIT.fullmatch(line)
        if marker:
            commit = marker.group(1)
            tally.commits += 1
            continue

        if line.startswith("+++ "):
            path = _new_path(line[4:])
            if path is not None:
                tally.files += 1
            continue

        hunk = _HUNK.match(line)
        if hunk is None:
            continue

        removed = int(hunk.group(1) or "1")
        added = int(hunk.group(3) or "1")
        kept = _hunk_lines(lines, removed, added)
        if kept and path is not None:
            yield Chunk(path, "\n".join(kept), int(hunk.group(2)), commit)


def _hunk_lines(lines: Iterator[str], removed: int, added: int) -> list[str]:
    """Read one hunk's body; return its added lines without the `+`."""
    kept: list[str] = []
    while removed or added:
        line = next(lines, None)
        if line is None:
            break
        if line.startswith("\\"):
            continue  # "\ No newline at end of file"
        if line.startswith("-") and removed:
            removed -= 1
        elif line.startswith("+") and added:
            added -= 1
            kept.append(line[1:])
        else:
            break
    return kept


def _new_path(header: str) -> str | None:
    """The path in a `+++ b/path` header; None for a deleted file."""
    if header == "/dev/null":
        return None
    if header.startswith('"') and header.endswith('"'):
        header = header[1:-1]
    return header.removeprefix("b/")
