"""Find leaked keys, tokens and ciphertexts in text, without keeping them.

Each shape is first found by a pattern, then verified, so a look-alike
is not reported:

| kind           | shape                           | verified by                  |
|----------------|---------------------------------|------------------------------|
| `fernet-key`   | 43 url-safe base64 chars + `=`  | decodes to exactly 32 bytes  |
| `fernet-token` | `gAAAAA…` (url-safe base64)     | version 0x80, length, blocks |
| `ciphertext`   | `pxs1:<kid>:<fernet token>`     | the same token checks        |
| `api-token`    | `pxs_<id>_<secret>_<checksum>`  | the CRC-32 checksum          |
| `private-key`  | `-----BEGIN … PRIVATE KEY-----` | a base64 body follows        |

A Fernet key written another way (no `=` padding, or the standard
alphabet with `+/`) is reported only with a key word nearby, since it
looks exactly like a SHA-256 digest in base64 (`_fernet_key_forms`);
its preview names the form. Nothing inside a certificate or public key
block is reported: a line of its body can look like a key.

A run of base64 or hex (`_leak_decoding`), even one wrapped over lines,
is decoded and searched as well; so is a decoding's own runs, one level
deeper and no more (a value base64-encoded twice). Such findings are
placed at the start of the outer run and say how they were encoded:
`encoding="base64"`, `"hex in base64"`.

A finding says where and what, never the matched text: a fingerprint
(the first 8 hex digits of a SHA-256 of the match, to tell two leaks
apart or to baseline one) and a preview holding only a public part (a
token's id, a ciphertext's kid, a PEM label). A line that carries
`pxs-scan: allow` is skipped, for examples and tests that must hold a
key-shaped string.

Nothing here reads files or logs; the scan service does both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from platxa_secrets.core import _fernet_key_forms as fernet_key_forms
from platxa_secrets.core import token_format
from platxa_secrets.core._leak_decoding import (
    decode_file,
    decoded_text,
    encoded_runs,
)
from platxa_secrets.core._leak_lines import ALLOW_MARKER, LineIndex, scannable
from platxa_secrets.core.crypto.ciphertext import parse_unverified
from platxa_secrets.errors import CryptoError

__all__ = [
    "ALLOW_MARKER",
    "API_TOKEN",
    "CIPHERTEXT",
    "FERNET_KEY",
    "FERNET_TOKEN",
    "KINDS",
    "PRIVATE_KEY",
    "Finding",
    "LineIndex",
    "as_text",
    "decode_file",
    "encoded_runs",
    "find_leaks",
    "fingerprint",
    "scannable",
]

FERNET_KEY = "fernet-key"
FERNET_TOKEN = "fernet-token"
CIPHERTEXT = "ciphertext"
API_TOKEN = "api-token"
PRIVATE_KEY = "private-key"
KINDS = (FERNET_KEY, FERNET_TOKEN, CIPHERTEXT, API_TOKEN, PRIVATE_KEY)

_B64 = r"A-Za-z0-9+/_\-"
# The smallest Fernet token is 73 bytes: 100 characters with padding.
# (The literal comes first so that the regex engine can skip to it.)
_FERNET_TOKEN = re.compile(rf"gAAAAA(?<![{_B64}]gAAAAA)[A-Za-z0-9_-]{{90,}}={{0,2}}")
_CIPHERTEXT = re.compile(r"pxs1:([a-z0-9]{4,32}):(gAAAAA[A-Za-z0-9_-]{90,}={0,2})")
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----"
    # a body, after at most a few header lines (Proc-Type, DEK-Info)
    r"(?=[\s\S]{0,200}?([A-Za-z0-9+/]{40,}))"
)
_PEM_SPAN = 20_000
_PEM_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----")
_PUBLIC_PEM = "public-pem"  # a span that hides matches, not a finding
# The token's own pattern refuses a trailing `_` (a longer name); a
# scanner need not: the checksum rules out look-alikes, and a token
# renamed `pxs_…_old` is still a leak.
_API_TOKEN = re.compile(
    rf"{token_format.PREFIX}[a-z0-9]{{{token_format.ID_LENGTH}}}"
    rf"_[A-Za-z0-9]{{{token_format.SECRET_LENGTH}}}"
    rf"_[A-Za-z0-9]{{{token_format.CHECKSUM_LENGTH}}}(?![A-Za-z0-9])"
)
# the shortest shape worth decoding for: a Fernet key, base64-encoded
_NESTED_MIN = 56
# decodings of decodings: a value base64-encoded twice, and no deeper
_MAX_DEPTH = 2


@dataclass(frozen=True)
class Finding:
    """One leak: where, what kind, and nothing of the matched text.

    `fingerprint` tells two leaks apart without revealing either;
    `preview` shows a public part only (`pxs_k3v9q2m7x4ab_…`).
    """

    kind: str
    line: int
    column: int
    fingerprint: str
    preview: str
    encoding: str | None = None

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.kind} [{self.fingerprint}]"


@dataclass(frozen=True)
class _Match:
    kind: str
    start: int
    end: int
    fingerprint: str
    preview: str


def find_leaks(content: str | bytes) -> list[Finding]:
    """Every verified key, token, ciphertext and private key in `content`.

    Findings come in the order they appear; one inside another (the
    token of a `pxs1:` ciphertext) is reported once, as the outer one.
    Bytes are read as a file is (`as_text`): UTF-16 is decoded.
    """
    text = as_text(content)
    lines = LineIndex(text)
    found: set[Finding] = set()

    for match in _matches(text):
        if not lines.scannable(match.start):
            continue
        line, column = lines.locate(match.start)
        found.add(Finding(match.kind, line, column, match.fingerprint, match.preview))

    for run in encoded_runs(text, _NESTED_MIN):
        inner = _encoded_matches(run.decoded, run.encoding, 1)
        if not inner or not lines.scannable(run.start):
            continue
        line, column = lines.locate(run.start)
        found.update(
            Finding(m.kind, line, column, m.fingerprint, m.preview, encoding)
            for m, encoding in inner
        )

    return sorted(found, key=lambda f: (f.line, f.column, f.kind, f.fingerprint))


def leak_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of each verified match in `text` as written.

    For tools that must see the matched text themselves (the
    detect-secrets plugin hashes it); nothing here keeps or logs it.
    Encoded forms are not decoded: `find_leaks` does that.
    """
    for match in _matches(text):
        yield match.kind, match.start, match.end


def as_text(content: str | bytes) -> str:
    """Text of `content`, read as a file: UTF-16 decoded, and UTF-8 with
    undecodable bytes kept (surrogateescape), not lost."""
    if isinstance(content, str):
        return content
    text = decode_file(content)
    return content.decode("utf-8", "surrogateescape") if text is None else text


def fingerprint(matched: str | bytes) -> str:
    """The first 8 hex digits of SHA-256: enough to tell leaks apart."""
    data = (
        matched.encode("utf-8", "surrogateescape")
        if isinstance(matched, str)
        else matched
    )
    return hashlib.sha256(data).hexdigest()[:8]


def _encoded_matches(
    decoded: bytes, encoding: str, depth: int
) -> list[tuple[_Match, str]]:
    """Matches in a decoding, and in its own decodings down to `_MAX_DEPTH`."""
    inner = decoded_text(decoded)
    if inner is None:
        return []

    found = [(match, encoding) for match in _matches(inner)]
    if depth < _MAX_DEPTH:
        for run in encoded_runs(inner, _NESTED_MIN):
            deeper = f"{run.encoding} in {encoding}"
            found.extend(_encoded_matches(run.decoded, deeper, depth + 1))
    return found


def _matches(text: str) -> list[_Match]:
    """Verified matches of every kind, outermost first, none nested."""
    found: list[_Match] = []
    for finder in _FINDERS:
        found.extend(finder(text))
    found.sort(key=lambda m: (m.start, -m.end))

    kept: list[_Match] = []
    for match in found:
        if kept and match.start < kept[-1].end:
            continue
        kept.append(match)
    return [match for match in kept if match.kind != _PUBLIC_PEM]


def _fernet_keys(text: str) -> Iterator[_Match]:
    for match in fernet_key_forms.PATTERN.finditer(text):
        form = fernet_key_forms.judge(text, match)
        if form is not None:
            key = match.group()
            yield _Match(FERNET_KEY, *match.span(), fingerprint(key), form)


def _fernet_tokens(text: str) -> Iterator[_Match]:
    for match in _FERNET_TOKEN.finditer(text):
        token = match.group()
        if _is_fernet_token(token):
            preview = "gAAAAA…"
            yield _Match(FERNET_TOKEN, *match.span(), fingerprint(token), preview)


def _ciphertexts(text: str) -> Iterator[_Match]:
    for match in _CIPHERTEXT.finditer(text):
        if _is_fernet_token(match.group(2)):
            preview = f"pxs1:{match.group(1)}:…"
            yield _Match(CIPHERTEXT, *match.span(), fingerprint(match.group()), preview)


def _api_tokens(text: str) -> Iterator[_Match]:
    for match in _API_TOKEN.finditer(text):
        token = match.group()
        if token_format.is_token(token):
            preview = token[: len(token_format.PREFIX) + token_format.ID_LENGTH + 1]
            yield _Match(API_TOKEN, *match.span(), fingerprint(token), f"{preview}…")


def _private_keys(text: str) -> Iterator[_Match]:
    for match in _PRIVATE_KEY.finditer(text):
        label = match.group(1)
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, match.end(), match.end() + _PEM_SPAN)
        stop = end + len(end_marker) if end >= 0 else match.end(2)
        yield _Match(
            PRIVATE_KEY, match.start(), stop, fingerprint(match.group(2)), label
        )


def _public_pem_blocks(text: str) -> Iterator[_Match]:
    """Certificates and public keys: never reported, but a line of their
    body can look like a Fernet key, so they hide what they hold."""
    for match in _PEM_BEGIN.finditer(text):
        label = match.group(1)
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, match.end(), match.end() + _PEM_SPAN)
        if end >= 0 and not label.endswith("PRIVATE KEY"):
            stop = end + len(end_marker)
            yield _Match(_PUBLIC_PEM, match.start(), stop, "", label)


def _is_fernet_token(token: str) -> bool:
    try:
        parse_unverified(token, "scanned text")
    except CryptoError:
        return False
    return True


_FINDERS: tuple[Callable[[str], Iterator[_Match]], ...] = (
    _fernet_keys,
    _fernet_tokens,
    _ciphertexts,
    _api_tokens,
    _private_keys,
    _public_pem_blocks,
)
