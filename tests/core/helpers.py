"""Leak checks shared by the core tests.

A secret can surface in an error in more shapes than the one that went
in: stripped, base64-decoded, hex-encoded, or cut into pieces. These
helpers spell all of those out once so every test checks the same set.
"""

from __future__ import annotations

import base64
import binascii

CANARY = "CANARY-7d1e"
WINDOW = 12


def _decodings(text: str) -> list[bytes]:
    """Every base64 reading of `text` that succeeds (both alphabets)."""
    stripped = text.strip().strip("'\"`")
    padded = stripped + "=" * (-len(stripped) % 4)
    out = []
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            out.append(decode(padded))
        except (binascii.Error, ValueError):
            continue
    return out


def secret_forms(*secrets: str | bytes) -> set[str]:
    """The strings whose presence in a message would leak a secret.

    Each secret as given and stripped, its base64 decodings (as text,
    as hex, as a bytes repr) and every `WINDOW`-character piece of
    those, so "no part of the key" is checked, not only the whole.
    """
    whole: set[str] = set()
    for secret in secrets:
        text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
        whole.update({text, text.strip()})
        for raw in _decodings(text):
            if len(raw) >= WINDOW // 2:
                whole.update({raw.hex(), raw.decode("latin-1"), repr(raw)[2:-1]})

    forms = {form for form in whole if form}
    for form in list(forms):
        forms.update(form[i : i + WINDOW] for i in range(len(form) - WINDOW + 1))
    return forms


def exception_texts(exc: BaseException) -> list[str]:
    """Everything a log line or a traceback could print of `exc`."""
    return [str(exc), repr(exc), repr(exc.args), repr(getattr(exc, "__dict__", {}))]


def assert_no_leak(exc: BaseException, *secrets: str | bytes) -> None:
    """Fail if any form of any secret, or the canary, is in `exc`.

    Also fail if `exc` carries a chained exception that a traceback
    would print: a `__cause__`, or an unsuppressed `__context__`.
    """
    forms = secret_forms(*secrets) | {CANARY}
    for text in exception_texts(exc):
        for form in forms:
            assert form not in text, f"{form!r} leaked into {text!r}"

    assert exc.__cause__ is None, f"chained cause {type(exc.__cause__)}"
    if exc.__context__ is not None:
        assert exc.__suppress_context__, f"visible context {type(exc.__context__)}"
