"""The new blobs of changes git calls binary, read to be searched.

A binary change has no lines in a patch, but "binary" is git's guess
(a NUL byte near the start), and UTF-16 text is binary to it: a
PowerShell script or a Windows `.env` would pass a commit hook unread.
So the change's new blob is read and searched whole when it is text
after all; otherwise, or when it is over the size cap, it is reported
as skipped, as a binary file on disk is.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from platxa_secrets.core.leaks import decode_file
from platxa_secrets.services._scan_sources import BINARY, Chunk, Tally, too_large


class Blobs:
    """New blobs of binary changes, read through two `git cat-file`s.

    One process answers sizes, the other contents, so a blob over the
    size cap is never read; both start on the first binary change.
    """

    def __init__(self, repository: Path, max_bytes: int) -> None:
        self._repository = repository
        self._max_bytes = max_bytes
        self._sizes: subprocess.Popen[bytes] | None = None
        self._contents: subprocess.Popen[bytes] | None = None

    def search(
        self, path: str | None, blob: str | None, commit: str | None, tally: Tally
    ) -> Iterator[Chunk]:
        """The blob as one chunk when it is text; else a skip, recorded."""
        path = path or "(a path git did not name)"
        if blob is None or not blob.strip("0"):
            tally.skip(path, BINARY, commit)
            return

        size = self._size(blob)
        if size is not None and size > self._max_bytes:
            tally.skip(path, too_large(self._max_bytes), commit)
            return
        content = None if size is None else self._content(blob)
        text = None if content is None else decode_file(content)
        if text is None:
            tally.skip(path, BINARY, commit)
            return

        tally.files += 1
        yield Chunk(path, text, 1, commit, whole_file=True)

    def close(self) -> None:
        for process in (self._sizes, self._contents):
            if process is None:
                continue
            assert process.stdin is not None and process.stdout is not None
            with contextlib.suppress(OSError):  # git has gone away already
                process.stdin.close()
            process.stdout.close()
            process.wait()

    def _size(self, blob: str) -> int | None:
        self._sizes = self._sizes or self._start("--batch-check")
        header = self._ask(self._sizes, blob).split()
        return int(header[2]) if len(header) == 3 else None

    def _content(self, blob: str) -> bytes | None:
        self._contents = self._contents or self._start("--batch")
        header = self._ask(self._contents, blob).split()
        if len(header) != 3:
            return None
        assert self._contents.stdout is not None
        size = int(header[2])
        return self._contents.stdout.read(size + 1)[:size]  # and its newline

    def _start(self, mode: str) -> subprocess.Popen[bytes]:
        command = ["git", "-C", str(self._repository), "cat-file", mode]
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    @staticmethod
    def _ask(process: subprocess.Popen[bytes], blob: str) -> bytes:
        """git's header line for `blob`; empty if git has gone away."""
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(f"{blob}\n".encode("ascii"))
            process.stdin.flush()
        except OSError:
            return b""
        return process.stdout.readline()
