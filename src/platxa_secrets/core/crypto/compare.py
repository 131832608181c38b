"""The one place secret material is compared: constant time, over bytes."""

from __future__ import annotations


def secret_equal(a: bytes | str, b: bytes | str) -> bool:
    """Compare two secrets without leaking where they differ.

    Text is encoded as UTF-8 first, so `hmac.compare_digest` never sees a
    non-ASCII `str` (which it refuses) and an attacker learns nothing from
    the time a comparison takes.
    """
    import hmac  # imported here: the read path never compares and starts faster

    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)
