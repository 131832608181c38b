"""The disguises a leak wears: base64 and hex runs, UTF-16 files.

A scanner that reads plain UTF-8 only misses the commonest of them. A
Kubernetes Secret holds its values base64-encoded, and `base64` wraps
its output at 76 characters a line (a manifest's folded value, a
`.env` file holding a PEM); `xxd -p` writes hex, 60 characters a line;
Windows tools write UTF-16. Each form is decoded here, once, and the
decoding is kept only when it is text: what that text holds is judged
by `core.leaks`.

A run wrapped over lines is joined before it is decoded: its first
line may carry a prefix (`tls.key: `, `KEY="`), each following line is
the run alone (indentation, a quote, a trailing `\\` or `,` aside), and
padding ends it. When the joined text does not decode to text, each
line is still decoded on its own.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass

BASE64, HEX = "base64", "hex"
# Hex shorter than this is a digest or an id far more often than a secret.
HEX_MIN_LENGTH = 64
_BINARY_PROBE = 8000  # git's own rule: a NUL in the first 8000 bytes

_B64 = r"A-Za-z0-9+/_\-"
RUN = re.compile(rf"(?<![{_B64}])[{_B64}]{{12,}}={{0,2}}(?![{_B64}=])")
# A run of this length that ends its line may go on below it.
_WRAPPED_HEAD = 16
_LINE_END = re.compile(r"[\"',\\]?[ \t]*\r?(?=\n|\Z)")
# A line that is a run and nothing else: the rest of a wrapped run.
_RUN_LINE = re.compile(rf"[ \t]*[\"']?([{_B64}]+={{0,2}})[\"',\\\\]?[ \t]*\r?(?=\n|\Z)")
_HEX = re.compile(r"[0-9a-fA-F]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class Encoded:
    """A run of encoded text, where it sits, and its decoding."""

    start: int
    end: int
    encoding: str
    decoded: bytes


def decode_file(content: bytes) -> str | None:
    """The text of a file's bytes, or None when they are binary.

    UTF-16 (with a byte order mark, or ASCII-heavy text without one) is
    decoded; anything else with a NUL byte in the first 8000 bytes is
    binary; the rest is UTF-8, undecodable bytes kept (surrogateescape)
    so that a stray byte does not hide the line it sits on.
    """
    encoding = _utf16(content)
    if encoding is not None:
        text = content.decode(encoding, "replace").removeprefix("\ufeff")
        return None if "\x00" in text[: _BINARY_PROBE // 2] else text

    if b"\x00" in content[:_BINARY_PROBE]:
        return None
    return content.decode("utf-8", "surrogateescape")


def decoded_text(decoded: bytes) -> str | None:
    """Decoded bytes as text, or None when they are binary (a key, a hash)."""
    encoding = _utf16(decoded) or "utf-8"
    try:
        text = decoded.decode(encoding)
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text):
        return None
    return text.removeprefix("\ufeff")


def encoded_runs(text: str, min_length: int) -> Iterator[Encoded]:
    """Every base64 or hex run in `text`, decoded, with its place.

    Base64 runs need `min_length` characters, hex runs 64 (hex is tried
    first, and both are yielded when both decode). A run wrapped over
    lines is yielded whole when it decodes to text, and its lines are
    then not yielded one by one; when it does not, each line is, and
    none of them starts another wrapped run (that would be quadratic).
    """
    claimed = joined = -1
    for match in RUN.finditer(text):
        start, end = match.span()
        if start < claimed:
            continue

        if start > joined and end - start >= _WRAPPED_HEAD:
            wrapped, joined = _wrapped(text, match, min_length)
            if wrapped is not None:
                claimed = wrapped.end
                yield wrapped
                continue

        yield from _decodings(start, end, match.group(), min_length)


def decode_base64(run: str) -> bytes | None:
    """A run of base64 decoded, or None when it is not whole base64.

    Both alphabets are accepted, not mixed; padding may be left out
    (JWTs and many `.env` writers drop it) but must be right when kept.
    """
    body = run.rstrip("=")
    if (run != body and len(run) % 4) or len(body) % 4 == 1:
        return None

    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None

    padded = body + "=" * (-len(body) % 4)
    try:
        return base64.b64decode(padded, b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _wrapped(
    text: str, head: re.Match[str], min_length: int
) -> tuple[Encoded | None, int]:
    """The run that `head` opens, wrapped over the lines below it.

    Returns its decoding (None unless it spans two lines or more and
    decodes to text) and where the joined lines end.
    """
    line_end = _LINE_END.match(text, head.end())
    if line_end is None:
        return None, head.end()

    pieces, end = [head.group()], line_end.end()
    while not pieces[-1].endswith("=") and end < len(text):
        line = _RUN_LINE.match(text, end + 1)
        if line is None:
            break
        pieces.append(line.group(1))
        end = line.end()
    if len(pieces) < 2:
        return None, end

    for run in _decodings(head.start(), end, "".join(pieces), min_length):
        if decoded_text(run.decoded) is not None:
            return run, end
    return None, end


def _decodings(start: int, end: int, run: str, min_length: int) -> Iterator[Encoded]:
    if len(run) >= HEX_MIN_LENGTH and len(run) % 2 == 0 and _HEX.fullmatch(run):
        yield Encoded(start, end, HEX, bytes.fromhex(run))

    if len(run) >= min_length:
        decoded = decode_base64(run)
        if decoded is not None:
            yield Encoded(start, end, BASE64, decoded)


def _utf16(content: bytes) -> str | None:
    """The UTF-16 codec `content` is written in, if it is UTF-16 text.

    A byte order mark counts only when what follows is not plain UTF-8
    (FF FE can open a binary blob too); without one, ASCII-heavy UTF-16
    shows as a NUL in every other byte and nowhere else.
    """
    if content.startswith(_UTF32_BOMS):
        return None
    probe = content[:_BINARY_PROBE]
    for bom, codec in _UTF16_BOMS:
        if probe.startswith(bom) and (b"\x00" in probe or not _is_utf8(probe[2:])):
            return codec

    if len(probe) < 4 or b"\x00" not in probe:
        return None
    even, odd = probe[0::2], probe[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= len(even) // 100:
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= len(odd) // 100:
        return "utf-16-be"
    return None


def _is_utf8(probe: bytes) -> bool:
    # the probe may cut a character in two: its last 3 bytes may fail
    try:
        probe.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(probe) - 3
    return True
