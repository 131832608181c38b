"""Where a finding is, and whether its line opts out of the scan.

A line that carries `pxs-scan: allow` is skipped, for examples and
tests that must hold a key-shaped string.
"""

from __future__ import annotations

import bisect
import re

ALLOW_MARKER = "pxs-scan: allow"


def scannable(line: str) -> bool:
    """False when the line opts out of the scan with the allow marker."""
    return ALLOW_MARKER not in line


class LineIndex:
    """Offsets to 1-based line and column, with the allow marker checked.

    The index of line starts is built on the first lookup: most texts
    have no finding and never need it.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def locate(self, offset: int) -> tuple[int, int]:
        starts = self._line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def scannable(self, offset: int) -> bool:
        start = self._text.rfind("\n", 0, offset) + 1
        end = self._text.find("\n", offset)
        return scannable(self._text[start : end if end >= 0 else len(self._text)])

    def _line_starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [0]
            self._starts.extend(m.end() for m in re.finditer("\n", self._text))
        return self._starts
