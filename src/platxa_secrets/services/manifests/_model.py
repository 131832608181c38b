"""What reading a manifest yields: Secrets, skipped documents, a batch.

Plain values with no behaviour beyond a `repr` that never shows a
secret's bytes, so a batch can be logged or shown in a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True, slots=True)
class SecretManifest:
    """One Secret read from a manifest, checked and decoded."""

    namespace: str
    name: str
    type: str
    data: dict[str, bytes]
    labels: dict[str, str]
    source: str

    def __repr__(self) -> str:
        """Show where the secret is and which keys it has, never a value."""
        return (
            f"SecretManifest(namespace={self.namespace!r}, name={self.name!r}, "
            f"type={self.type!r}, keys={sorted(self.data)!r}, "
            f"labels={self.labels!r}, source={self.source!r})"
        )


@dataclass(frozen=True, slots=True)
class SkippedDocument:
    """A document that is not a v1 Secret, and why it was left out."""

    source: str
    api_version: str
    kind: str
    name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ManifestBatch:
    """The Secrets of one input, in order, and the documents skipped."""

    secrets: list[SecretManifest]
    skipped: list[SkippedDocument]
