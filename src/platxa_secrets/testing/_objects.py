"""The wire shape of stored objects, and the request checks on it.

Field order follows the Go structs (`kind`, `apiVersion`, `metadata`,
then the body), so a dumped object reads like `kubectl get -o json`.
List items carry no `kind` nor `apiVersion`, as on a real server.
"""

from __future__ import annotations

import copy
import secrets as _random
from typing import Any

from platxa_secrets.testing._status import JSON, ApiError, bad_request, conflict

META_ORDER = (
    "name", "generateName", "namespace", "uid", "resourceVersion",
    "creationTimestamp", "deletionTimestamp", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
)  # fmt: skip
_SECRET_ORDER = ("kind", "apiVersion", "metadata", "immutable", "data", "type")
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def namespace_object(name: str, labels: JSON, metadata: JSON) -> JSON:
    """A Namespace as created: `Active`, labelled with its own name."""
    metadata.update(name=name, labels={**labels, "kubernetes.io/metadata.name": name})
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": ordered_metadata(metadata),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def ordered_metadata(metadata: JSON) -> JSON:
    if not metadata.get("managedFields"):
        metadata.pop("managedFields", None)
    return {key: metadata[key] for key in META_ORDER if key in metadata}


def ordered_secret(secret: JSON) -> JSON:
    return {key: secret[key] for key in _SECRET_ORDER if key in secret}


def without_type(obj: JSON) -> JSON:
    """A copy for a list's `items`, which omit `kind` and `apiVersion`."""
    return {
        k: copy.deepcopy(v) for k, v in obj.items() if k not in ("kind", "apiVersion")
    }


def same_but_times(new: JSON, old: JSON) -> bool:
    """Equal but for the `time` of managed-field entries: a no-op write."""

    def timeless(obj: JSON) -> Any:
        clone = copy.deepcopy(obj)
        for entry in clone["metadata"].get("managedFields", []):
            entry.pop("time", None)
        return clone

    return bool(timeless(new) == timeless(old))


def generated_name(prefix: str) -> str:
    """`generateName` plus five random characters, as the server adds."""
    return prefix + "".join(_random.choice(_NAME_ALPHABET) for _ in range(5))


def check_namespace(secret: JSON, namespace: str) -> None:
    """400 when the body names another namespace than the URL."""
    if secret["metadata"].get("namespace", namespace) != namespace:
        raise bad_request(
            "the namespace of the provided object does not match the namespace "
            "sent on the request"
        )


def check_name(given: str, name: str) -> None:
    """400 when the body names another object than the URL."""
    if given != name:
        raise bad_request(
            f"the name of the object ({given}) does not match the name on the URL "
            f"({name})"
        )


def precondition_failure(old: JSON, preconditions: JSON) -> ApiError | None:
    """409 when a DeleteOptions precondition does not hold, else None."""
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field)
        actual = old["metadata"][field]
        if wanted and wanted != actual:
            return conflict(
                "secrets",
                old["metadata"]["name"],
                f"Precondition failed: {label} in precondition: {wanted}, "
                f"{label} in object meta: {actual}",
            )
    return None


def list_body(kind: str, revision: int, items: list[JSON]) -> JSON:
    return {
        "kind": kind,
        "apiVersion": "v1",
        "metadata": {"resourceVersion": str(revision)},
        "items": items,
    }
