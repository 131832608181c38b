"""What a template is once checked, what rendering returns, and its errors.

Frozen values. A `Template` is built only by the loader, after every
rule has passed, so one in hand can always be rendered. `fail` builds
the one error shape of this package: which template, which field,
which rule, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from platxa_secrets.errors import ValidationError

KeyKind = Literal["literal", "param", "generate"]


@dataclass(frozen=True)
class Parameter:
    """A value the operator supplies when rendering a template."""

    name: str
    default: str | None
    required: bool
    secret: bool
    description: str


@dataclass(frozen=True)
class KeySource:
    """Where one key's value comes from; `value` is text, name or spec."""

    key: str
    kind: KeyKind
    value: str
    secret: bool


@dataclass(frozen=True)
class Template:
    """A checked template, ready to render for any namespace."""

    name: str
    secret_name: str
    type: str
    description: str
    parameters: dict[str, Parameter]
    keys: dict[str, KeySource]

    @property
    def secret_parameters(self) -> dict[str, Parameter]:
        """Parameters that must come from stdin, a file or a prompt."""
        return {name: p for name, p in self.parameters.items() if p.secret}


@dataclass(frozen=True)
class Rendered:
    """A secret ready to write; its repr names keys but shows no value."""

    secret_name: str
    type: str
    data: dict[str, bytes] = field(repr=False)
    generated: list[str]
    kept: list[str]


def fail(source: str, where: str, rule: str) -> ValidationError:
    """Build the one error shape: which template, which field, which rule."""
    return ValidationError(f"{source}: {where}: {rule}", field=where, template=source)
