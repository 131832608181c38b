"""Placeholders: `{namespace}` and `{<parameter>}` in template text.

`{{` and `}}` stand for literal braces; any other lone brace is an
error, so a typo cannot silently become part of a name or literal.
The loader uses `placeholders` to check references before any render;
rendering uses `substitute` to fill them in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from platxa_secrets.services.templates._model import fail

_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")


def placeholders(text: str, source: str, where: str) -> list[str]:
    """Return the names `text` refers to; raise on a stray brace."""
    names = []
    for match in _TOKEN_RE.finditer(text):
        if match.group(0) in ("{", "}"):
            raise fail(
                source,
                where,
                "a brace must open a {placeholder} or be doubled ({{ or }})",
            )
        if match.group(1):
            names.append(match.group(1))
    return names


def substitute(text: str, values: Mapping[str, str], source: str, where: str) -> str:
    """Replace placeholders in `text` by the values given."""

    def replace(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0] if token in ("{{", "}}") else token
        if name not in values:
            raise fail(source, where, f"placeholder {{{name}}} has no value")
        return values[name]

    placeholders(text, source, where)
    return _TOKEN_RE.sub(replace, text)
