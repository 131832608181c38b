"""Read `.env` files: `KEY=VALUE` lines, as docker and systemd write them.

Accepted: blank lines, `#` comments, an optional `export ` prefix,
unquoted values (trailing whitespace trimmed), single-quoted values taken
literally, double-quoted values with `\\n`, `\\t`, `\\"` and `\\\\` escapes.
Errors name the file and line, never the value.
"""

from __future__ import annotations

from pathlib import Path

from platxa_secrets.core.names import check_key
from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import PlatxaSecretsError, ValidationError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def parse_env_file(content: bytes, source: Path) -> dict[str, bytes]:
    text = decode_or_none(content)
    if text is None:
        raise ValidationError(f"env file {source} is not UTF-8 text")

    data: dict[str, bytes] = {}
    # Lines end at '\n' only: str.splitlines() would also split a value at
    # form feeds, '\x1c'-'\x1e' and Unicode separators.
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        where = f"env file {source} line {number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()

        key, sep, raw = stripped.partition("=")
        key = key.strip()
        if not sep:
            raise ValidationError(f"{where}: expected KEY=VALUE", field="env_file")
        try:
            check_key(key, f"{where}: key")
        except PlatxaSecretsError as exc:
            raise ValidationError(exc.message, field="env_file") from None
        if key in data:
            raise ValidationError(f"{where}: key {key!r} repeats", field="env_file")
        data[key] = _value(raw.strip(), where).encode("utf-8")
    return data


def _value(raw: str, where: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = _closing(raw, quote)
        if end < 0:
            raise ValidationError(
                f"{where}: unterminated {quote} quote", field="env_file"
            )
        if raw[end + 1 :].strip() and not raw[end + 1 :].strip().startswith("#"):
            raise ValidationError(
                f"{where}: unexpected text after the closing quote", field="env_file"
            )
        body = raw[1:end]
        return body if quote == "'" else _unescape(body)

    comment = raw.find(" #")
    return (raw[:comment] if comment >= 0 else raw).rstrip()


def _closing(raw: str, quote: str) -> int:
    index = 1
    while index < len(raw):
        if raw[index] == "\\" and quote == '"':
            index += 2
            continue
        if raw[index] == quote:
            return index
        index += 1
    return -1


def _unescape(body: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(_ESCAPES.get(body[index + 1], "\\" + body[index + 1]))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)
