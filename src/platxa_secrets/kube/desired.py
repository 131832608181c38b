"""The Secret object the store wants in the cluster, and its content hash.

    metadata:
      labels:      app.kubernetes.io/managed-by: platxa-secrets (+ the user's)
      annotations: platxa.io/source:          tenant-a/odoo
                   platxa.io/source-version:  "3"
                   platxa.io/content-hmac:    hmac-sha256:<hex>

The content hash is an HMAC under a key derived from the master key, over
the type and every key and value (length-prefixed, keys sorted). A
replica recomputes it from the live object to tell "in step" from
"drifted" without decrypting anything; without the key, the annotation
says nothing about the values.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from platxa_secrets.core.crypto.compare import secret_equal

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "platxa-secrets"
SOURCE = "platxa.io/source"
SOURCE_VERSION = "platxa.io/source-version"
CONTENT_HMAC = "platxa.io/content-hmac"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SELECTOR = f"{MANAGED_BY}={MANAGER}"
HMAC_PURPOSE = "kubernetes content hmac"


def content_hmac(key: bytes, secret_type: str, data: Mapping[str, bytes]) -> str:
    """The keyed hash of a Secret's type, keys and values."""
    mac = HMAC(key, hashes.SHA256())
    for part in (secret_type.encode(), *_flatten(data)):
        mac.update(len(part).to_bytes(8, "big") + part)
    return "hmac-sha256:" + mac.finalize().hex()


def desired_secret(
    *,
    source: tuple[str, str],
    version: int,
    namespace: str,
    secret_type: str,
    data: Mapping[str, bytes],
    labels: Mapping[str, str],
    hmac_key: bytes,
) -> dict[str, Any]:
    """The body to server-side apply for one store secret version."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": source[1],
            "namespace": namespace,
            "labels": {**labels, MANAGED_BY: MANAGER},
            "annotations": {
                SOURCE: f"{source[0]}/{source[1]}",
                SOURCE_VERSION: str(version),
                CONTENT_HMAC: content_hmac(hmac_key, secret_type, data),
            },
        },
        "type": secret_type,
        "data": {
            k: base64.b64encode(v).decode("ascii") for k, v in sorted(data.items())
        },
    }


def live_data(obj: Any) -> dict[str, bytes] | None:
    """The decoded data of a live Secret (client model or dict); None if bad."""
    raw = _field(obj, "data") or {}
    try:
        return {k: base64.b64decode(v, validate=True) for k, v in raw.items()}
    except (binascii.Error, ValueError, TypeError):
        return None


def in_step(obj: Any, source: str, version: int, hmac_key: bytes) -> bool:
    """True when the live object is exactly store version `version`.

    Its annotations must name the source and version, and its live type
    and data must hash to the annotated HMAC — so an edit of the data in
    the cluster (drift) is caught even if the annotations were kept.
    """
    annotations = annotations_of(obj)
    if annotations.get(SOURCE) != source:
        return False
    if annotations.get(SOURCE_VERSION) != str(version):
        return False
    data = live_data(obj)
    if data is None:
        return False
    expected = annotations.get(CONTENT_HMAC, "")
    actual = content_hmac(hmac_key, str(_field(obj, "type") or "Opaque"), data)
    return secret_equal(expected, actual)


def annotations_of(obj: Any) -> dict[str, str]:
    metadata = _field(obj, "metadata")
    return dict(_field(metadata, "annotations") or {}) if metadata else {}


def name_of(obj: Any) -> tuple[str, str]:
    metadata = _field(obj, "metadata")
    return str(_field(metadata, "namespace")), str(_field(metadata, "name"))


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _flatten(data: Mapping[str, bytes]) -> list[bytes]:
    parts: list[bytes] = []
    for key in sorted(data):
        parts.extend((key.encode(), data[key]))
    return parts
