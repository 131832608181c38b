"""Turning a request body into a Secret, as the API server's decoder does.

A body whose shape cannot become a `v1.Secret` (a `data` value that
is not base64, a label that is not a string, another kind) is a 400
BadRequest worded like the server's: `Secret in version "v1" cannot
be handled as a Secret: illegal base64 data at input byte 4`. Unlike
the real message, it never quotes the bytes around the fault.

Decoding folds `stringData` into `data` (a `stringData` key wins) and
drops it, so the plaintext form is never stored nor returned, and it
re-encodes `data` in canonical base64, as the server does. Only the
metadata a client may set survives; the store stamps the rest.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from platxa_secrets.testing._status import JSON, ApiError, bad_request

_KEPT_METADATA = (
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
)


def decode_secret(body: JSON) -> JSON:
    """The Secret a body describes, in stored form; 400 if it cannot be one."""
    if body.get("kind") not in (None, "Secret") or body.get("apiVersion") not in (
        None,
        "v1",
    ):
        raise _undecodable("the object is not a v1 Secret")
    _expect_type(body, "type", str)
    _expect_type(body, "immutable", bool)
    metadata = _expect_type(body, "metadata", dict) or {}
    data = _expect_map(body, "data")
    string_data = _expect_map(body, "stringData")

    decoded: dict[str, bytes] = {}
    for key, text in data.items():
        decoded[key] = _strict_b64decode(text)
    for key, text in string_data.items():
        decoded[key] = text.encode("utf-8")

    kept: JSON = {}
    for field in _KEPT_METADATA:
        if metadata.get(field) not in (None, {}, []):  # Go omits empty maps
            kept[field] = metadata[field]
    for field in ("labels", "annotations"):
        if field in kept:
            _expect_map(kept, field, owner="ObjectMeta")
    for field in ("name", "generateName", "namespace"):
        _expect_type(kept, field, str, owner="ObjectMeta")

    secret: JSON = {"kind": "Secret", "apiVersion": "v1", "metadata": kept}
    if body.get("immutable") is not None:
        secret["immutable"] = body["immutable"]
    if decoded:
        secret["data"] = {
            k: base64.b64encode(v).decode("ascii") for k, v in decoded.items()
        }
    secret["type"] = body.get("type") or "Opaque"
    return secret


def decode_namespace(body: JSON) -> tuple[str, dict[str, str]]:
    """The name and labels a Namespace body asks for; 400 if malformed."""
    kind = "Namespace"
    metadata = _expect_type(body, "metadata", dict, kind, kind) or {}
    name = _expect_type(metadata, "name", str, "ObjectMeta", kind) or ""
    return name, _expect_map(metadata, "labels", "ObjectMeta", kind)


def data_bytes(secret: JSON) -> dict[str, bytes]:
    """The decoded `data` of a Secret already in stored form."""
    return {k: base64.b64decode(v) for k, v in secret.get("data", {}).items()}


def _strict_b64decode(text: str) -> bytes:
    """Decode as Go's `encoding/json` does for `[]byte`: padded, no junk."""
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        position = next(
            (i for i, c in enumerate(cleaned) if not c.isalnum() and c not in "+/="),
            len(cleaned),
        )
        raise _undecodable(f"illegal base64 data at input byte {position}") from None


def _expect_type(
    body: JSON, field: str, wanted: type, owner: str = "Secret", kind: str = "Secret"
) -> Any:
    value = body.get(field)
    if value is not None and not isinstance(value, wanted):
        raise _undecodable(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field "
            f"{owner}.{field}",
            kind,
        )
    return value


def _expect_map(
    body: JSON, field: str, owner: str = "Secret", kind: str = "Secret"
) -> dict[str, str]:
    value = _expect_type(body, field, dict, owner, kind) or {}
    for item in value.values():
        if not isinstance(item, str):
            raise _undecodable(
                f"json: cannot unmarshal {_json_type(item)} into Go struct field "
                f"{owner}.{field} of type string",
                kind,
            )
    return dict(value)


def _undecodable(why: str, kind: str = "Secret") -> ApiError:
    return bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: {why}')


def _json_type(value: Any) -> str:
    names = {bool: "bool", dict: "object", list: "array", str: "string"}
    return names.get(type(value), "number")
