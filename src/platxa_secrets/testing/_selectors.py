"""Label and field selectors, as the `labelSelector` query parameter.

A selector is a comma-joined list of requirements, all of which must
hold: `key=value` (or `==`), `key!=value`, `key`, `!key`, and the
set-based `key in (a,b)` and `key notin (a,b)`. As on a real server,
`!=` and `notin` also match objects that lack the label.

Field selectors support what Secrets support: `metadata.name`,
`metadata.namespace` and `type`, with `=`, `==` and `!=`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from platxa_secrets.testing._status import JSON, bad_request

Matcher = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s+\((.*)\)\s*$")
_FIELDS = {"metadata.name", "metadata.namespace", "type"}


def label_matcher(selector: str) -> Matcher:
    """A predicate over an object's labels; 400 BadRequest if unparsable."""
    requirements = [_requirement(part) for part in _split(selector) if part.strip()]
    return lambda labels: all(check(labels) for check in requirements)


def field_matcher(selector: str) -> Callable[[JSON], bool]:
    """A predicate over a whole object, for the fields Secrets index."""
    checks: list[Callable[[JSON], bool]] = []
    for part in _split(selector):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*([\w.]+)\s*(==|!=|=)\s*(\S*)\s*", part)
        if match is None or match.group(1) not in _FIELDS:
            raise bad_request(
                f"field label not supported: {part.split('=')[0].strip('! ')}"
            )
        field, operator, wanted = match.groups()
        checks.append(_field_check(field, operator != "!=", wanted))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(field: str, equal: bool, wanted: str) -> Callable[[JSON], bool]:
    def check(obj: JSON) -> bool:
        if field == "type":
            actual = obj.get("type", "")
        else:
            actual = obj["metadata"].get(field.split(".")[1], "")
        return (actual == wanted) is equal

    return check


def _split(selector: str) -> list[str]:
    """Split on the commas that are not inside a `( … )` value set."""
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or depth > 1:
            raise _unparsable(selector)
        current += char
    if depth != 0:
        raise _unparsable(selector)
    return [*parts, current]


def _requirement(part: str) -> Matcher:
    text = part.strip()

    match = _SET.match(text)
    if match:
        key, operator, values = match.groups()
        members = {value.strip() for value in values.split(",")}
        if operator == "in":
            return lambda labels: labels.get(key) in members
        return lambda labels: labels.get(key) not in members

    for operator in ("!=", "==", "="):
        if operator in text:
            key, _, value = (piece.strip() for piece in text.partition(operator))
            _check_key(key, part)
            if operator == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value

    if text.startswith("!"):
        key = text[1:].strip()
        _check_key(key, part)
        return lambda labels: key not in labels
    _check_key(text, part)
    return lambda labels: text in labels


def _check_key(key: str, part: str) -> None:
    if not key or re.search(r"[\s()!=,]", key):
        raise _unparsable(part)


def _unparsable(text: str) -> Exception:
    return bad_request(f"unable to parse requirement: invalid label selector: {text!r}")
