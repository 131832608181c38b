"""What a leak scan reads from git: a whole history, or the staged diff.

Each hunk's added lines are one chunk placed at their line in the new
file, so a finding names the commit that introduced a leak (a later
commit that deletes it does not hide it). Removed lines are not
searched: they were added by an earlier commit, which is where the
leak is reported.

Paths come from git's diff headers, which git writes for people: a
name holding a space gets a trailing tab on its `+++` line, and one
holding a tab, a newline, a quote or a backslash is C-quoted
(`"b/a\\tb.txt"`). Both are undone here, so a path is shown and
baselined as it is in the tree; non-ASCII names are asked for as they
are (`core.quotePath=false`).

A change git calls binary has no lines to read: its new blob is read
instead and searched whole when it is text after all, UTF-16 say
(`_scan_blobs`); otherwise it is reported as skipped.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from platxa_secrets.errors import ValidationError
from platxa_secrets.services._scan_blobs import Blobs
from platxa_secrets.services._scan_sources import Chunk, Tally

_HUNK = re.compile(r"@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_COMMIT = re.compile(r"\x00([0-9a-f]{40,64})")
_INDEX = re.compile(r"index [0-9a-f]+\.\.([0-9a-f]+)")
_DIFF_OPTIONS = (
    "-U0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--full-index",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
_OCTAL = re.compile(r"[0-3][0-7]{2}")


def git_history(repository: Path, max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """The added lines of every commit reachable from any ref."""
    _check_repository(repository)
    command = ["log", "-p", "--all", "--format=%x00%H", *_DIFF_OPTIONS]
    return _diff_chunks(repository, command, max_bytes, tally)


def staged(repository: Path, max_bytes: int, tally: Tally) -> Iterator[Chunk]:
    """The added lines of the staged diff: what the next commit would add."""
    _check_repository(repository)
    command = ["diff", "--cached", *_DIFF_OPTIONS]
    return _diff_chunks(repository, command, max_bytes, tally)


def _check_repository(repository: Path) -> None:
    """Fail with a usage error unless `repository` is inside a work tree."""
    try:
        result = _git(repository, "rev-parse", "--git-dir")
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


def _git(repository: Path, *command: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(repository), *command], capture_output=True, check=False
    )


def _diff_chunks(
    repository: Path, command: list[str], max_bytes: int, tally: Tally
) -> Iterator[Chunk]:
    """Run git and turn its patch output into chunks as it streams."""
    process = subprocess.Popen(
        ["git", "-C", str(repository), "-c", "core.quotePath=false", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    blobs = Blobs(repository, max_bytes)
    try:
        yield from _parse_patch(_text_lines(process.stdout), blobs, tally)
    except BaseException:
        process.kill()
        raise
    finally:
        blobs.close()
        process.stdout.close()
        code = process.wait()

    if code != 0:
        raise ValidationError(
            f"git {command[0]} failed in {repository} (exit {code})", field="git"
        )


def _text_lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield raw.removesuffix(b"\n").decode("utf-8", "surrogateescape")


@dataclass
class _FileChange:
    """What the extended headers of one file's diff say about it."""

    path: str | None
    blob: str | None = None
    deleted: bool = False


def _parse_patch(lines: Iterator[str], blobs: Blobs, tally: Tally) -> Iterator[Chunk]:
    """Chunks from `git log -p -U0` / `git diff -U0` output.

    A hunk header gives how many lines follow; they are counted rather
    than recognised by their first character, so an added line that
    looks like a header (`+++ x`, a NUL) is still read as content.
    """
    commit: str | None = None
    change = _FileChange(None)
    path: str | None = None
    for line in lines:
        marker = _COMMIT.fullmatch(line)
        if marker:
            commit = marker.group(1)
            tally.commits += 1
        elif line.startswith("diff --git "):
            change = _FileChange(_new_path_of_diff(line[len("diff --git ") :]))
            path = None
        elif line.startswith(("rename to ", "copy to ")):
            change.path = unquoted(line.split(" ", 2)[2])
        elif line.startswith("deleted file mode"):
            change.deleted = True
        elif index := _INDEX.match(line):
            change.blob = index.group(1)
        elif line.startswith("Binary files ") and not change.deleted:
            yield from blobs.search(change.path, change.blob, commit, tally)
        elif line.startswith("+++ "):
            path = _new_path(line[4:])
            if path is not None:
                tally.files += 1
        elif hunk := _HUNK.match(line):
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
    """The path in a `+++ b/path` header; None for a deleted file.

    git ends the header with a tab when the name holds a space (a
    name's own tab is always quoted, so the last tab is never part of
    it).
    """
    header = header.removesuffix("\t")
    if header == "/dev/null":
        return None
    return unquoted(header).removeprefix("b/")


def _new_path_of_diff(names: str) -> str | None:
    """The new path in `diff --git a/x b/y`, when it can be told apart.

    A quoted name ends at its closing quote, and unquoted names hold no
    quote; two unquoted names with spaces are split only when they are
    the same (no rename), and a rename names its target again below.
    """
    if names.startswith('"'):
        return unquoted(names[_closing_quote(names) + 2 :]).removeprefix("b/")
    if names.endswith('"'):
        return unquoted(names[names.rfind(' "') + 1 :]).removeprefix("b/")

    half = (len(names) - 1) // 2
    old, new = names[:half], names[half + 1 :]
    if old.startswith("a/") and new.startswith("b/") and old[2:] == new[2:]:
        return new[2:]
    return None


def unquoted(name: str) -> str:
    """A name as git wrote it, C-quoting undone (its bytes are UTF-8)."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name

    body, out, index = name[1:-1], bytearray(), 0
    while index < len(body):
        char, following = body[index], body[index + 1 : index + 2]
        if char != "\\" or not following:
            out += char.encode("utf-8", "surrogateescape")
            index += 1
        elif _OCTAL.match(body, index + 1):
            out.append(int(body[index + 1 : index + 4], 8))
            index += 4
        else:
            out.append(_ESCAPES.get(following, ord(following)))
            index += 2
    return out.decode("utf-8", "surrogateescape")


def _closing_quote(text: str) -> int:
    index = 1
    while index < len(text) and text[index] != '"':
        index += 2 if text[index] == "\\" else 1
    return index
