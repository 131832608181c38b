"""What the secret service hands out: versions, summaries, write requests.

A `SecretVersion` holds decrypted values and never shows them in its
repr; a `VersionInfo` holds no values at all, so listings, history and
write results can be printed and logged freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

OPAQUE = "Opaque"
MAX_VERSION = 2**31 - 1


def value_context(namespace: str, name: str, version: int, key: str) -> str:
    """The identity a stored value is bound to."""
    return f"{namespace}/{name}/{version}/{key}"


@dataclass(frozen=True)
class SecretVersion:
    """One decrypted version. `data` never appears in repr."""

    namespace: str
    name: str
    version: int
    type: str
    created_at: str
    created_by: str
    data: dict[str, bytes] = field(repr=False)
    kids: dict[str, str] = field(default_factory=dict)
    legacy_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionInfo:
    """A version without values: for history, listings and write results."""

    namespace: str
    name: str
    version: int
    type: str
    state: str
    created_at: str
    created_by: str
    keys: tuple[str, ...]
    kids: tuple[str, ...]
    deleted_at: str | None = None
    destroyed_at: str | None = None
    changed: bool = True


@dataclass(frozen=True)
class WriteRequest:
    """One secret to write, as import and provisioning batch them."""

    namespace: str
    name: str
    data: Mapping[str, bytes] = field(repr=False)
    type: str | None = None
    replace: bool = True
