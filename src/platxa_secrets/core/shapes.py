"""Text shaped like a key or a token, and how to quote input safely.

One pattern serves two jobs: the logging filter masks these shapes in
every record (a second line of defence), and error messages refuse to
echo input that has one of them, so a value pasted into the wrong flag
never comes back in a message.
"""

from __future__ import annotations

import re

MASK = "[redacted]"
SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|pxs1:[a-z0-9]{4,32}:[A-Za-z0-9_-]+={0,2}"
    r"|gAAAAA[A-Za-z0-9_-]{40,}={0,2}"
    r"|pxs_[A-Za-z0-9]+_[A-Za-z0-9]+_[A-Za-z0-9]+"
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}=(?![A-Za-z0-9_=-])",
    re.DOTALL,
)
# Long unbroken runs of base64 or hex alphabet: random material, not a
# name, a duration or a time.
_RANDOM_RUN = re.compile(r"[A-Za-z0-9+/_=-]{32,}")


def mask(text: str) -> str:
    """`text` with every key- or token-shaped run replaced."""
    return SHAPES.sub(MASK, text)


def looks_secret(text: str) -> bool:
    """True when `text` holds a key or token shape or a long random run."""
    return bool(SHAPES.search(text) or _RANDOM_RUN.search(text))


def quoted(text: str, limit: int = 64) -> str:
    """`text` quoted for an error message, or a description of it.

    Input that looks like a key or token, is not printable, or is longer
    than `limit` is described by its length instead of echoed.
    """
    if looks_secret(text) or not text.isprintable() or len(text) > limit:
        return f"(a value of {len(text)} characters, not shown)"
    return repr(text)
