"""Decode bytes without leaving them in an exception.

A `UnicodeDecodeError` carries the whole input in `.object`. Raising our
own error inside the `except` block would keep it as `__context__` (only
hidden, not gone), so callers ask for `None` instead and raise after.
"""

from __future__ import annotations


def decode_or_none(content: bytes, encoding: str = "utf-8") -> str | None:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None
