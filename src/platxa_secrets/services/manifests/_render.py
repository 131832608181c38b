"""Writing manifests: one stored secret out as YAML or JSON.

The output is deterministic (keys sorted, every value base64) and is
checked by the same rules as an import, so what is written can always
be read back by `parse_manifests` to the same bytes.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from typing import Any, Literal

from platxa_secrets.core.names import (
    check_key,
    check_name,
    check_namespace,
    check_size,
    check_type,
)
from platxa_secrets.core.secret_types import check_type_rules
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.manifests._labels import (
    checked_annotations,
    checked_labels,
)
from platxa_secrets.services.manifests._yaml import dump


def render_manifest(
    namespace: str,
    name: str,
    secret_type: str,
    data: Mapping[str, bytes],
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    fmt: Literal["yaml", "json"] = "yaml",
) -> str:
    """Write one Secret as a manifest that `parse_manifests` reads back.

    Keys are sorted and every value is base64, so equal secrets render
    to equal text. The secret is checked as on import; a manifest the
    API server would refuse is never written. The output holds every
    value (base64 is not encryption): it belongs on stdout or in a
    private file, never in a log.
    """
    check_namespace(namespace)
    check_name(name)
    check_type(secret_type)
    values = _checked_values(data)
    target = f"{namespace}/{name}"
    check_type_rules(secret_type, values, target)
    check_size(values, target)

    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = checked_labels(labels, "labels")
    if annotations:
        metadata["annotations"] = checked_annotations(annotations)

    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret_type,
        "data": {key: _b64(values[key]) for key in sorted(values)},
    }
    return dump(document, fmt)


def _checked_values(data: Mapping[str, bytes]) -> dict[str, bytes]:
    """Check each key and that each value is bytes, not text."""
    values: dict[str, bytes] = {}
    for key, value in data.items():
        check_key(key, field="data key")
        if not isinstance(value, bytes | bytearray):
            raise ValidationError(
                f"data[{key}] must be bytes, got {type(value).__name__}",
                field="data",
                key=key,
            )
        values[key] = bytes(value)
    return values


def _b64(value: bytes) -> str:
    """Encode one value as standard base64 on a single line."""
    return binascii.b2a_base64(value, newline=False).decode("ascii")
