"""How a manifest error names its place: document, field path, rule.

The manifest reader refuses through these helpers, so that every
`ValidationError` it raises starts with the document ("in.yaml#2") and
the field ("data.password"). Values are never quoted: `kind_of` says what YAML
made of one, and `shown` quotes only names, cut short when they may be
a value pasted in the wrong place.
"""

from __future__ import annotations

from typing import Any

from platxa_secrets.errors import ValidationError


class Located:
    """Prefix the source document to a ValidationError raised inside.

    The name checks of `core.names` know the field but not the file; the
    re-raised error carries both and drops the original (`from None`).
    """

    def __init__(self, source: str | None) -> None:
        self.source = source

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if self.source is not None and isinstance(exc, ValidationError):
            raise relocated(exc, self.source, None) from None


def relocated(exc: ValidationError, source: str, path: str | None) -> ValidationError:
    """Copy a ValidationError with the source (and path) in front."""
    where = f"{source}: " if path is None else f"{source}: {path}: "
    context = {**exc.context, "source": source}
    if path is not None:
        context["field"] = path
    return ValidationError(where + exc.message, **context)


def fail(source: str, path: str, rule: str) -> ValidationError:
    """Build the error for a broken rule at a field of a document."""
    return ValidationError(f"{source}: {path} {rule}", source=source, field=path)


def as_mapping(value: object, source: str, path: str) -> dict[Any, Any]:
    """Return `value` if it is a mapping, else raise naming its kind."""
    if not isinstance(value, dict):
        raise fail(source, path, f"must be a mapping, got {kind_of(value)}")
    return value


def kind_of(value: object) -> str:
    """Say what YAML made of a value, without showing the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def shown(text: object) -> str:
    """Quote a name for a message, cut short if it may be a pasted value."""
    name = str(text)
    return repr(name) if len(name) <= 64 else repr(name[:24] + "…")
