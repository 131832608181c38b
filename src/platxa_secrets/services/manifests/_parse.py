"""Reading manifests: documents in, checked `SecretManifest`s out.

Each document is a Secret, a `v1` `List` to expand, or something else
to skip with a reason. A Secret is checked in the order the API server
checks it (fields, metadata, type, data), and a batch that defines one
secret twice is refused, so that no input depends on which copy wins.
"""

from __future__ import annotations

from typing import Any

from platxa_secrets.core.names import check_name, check_namespace, check_type
from platxa_secrets.core.secret_types import SECRET_TYPE_OPAQUE
from platxa_secrets.services.manifests._data import (
    check_content,
    read_data,
    read_string_data,
)
from platxa_secrets.services.manifests._errors import (
    Located,
    as_mapping,
    fail,
    kind_of,
    shown,
)
from platxa_secrets.services.manifests._labels import checked_labels
from platxa_secrets.services.manifests._model import (
    DEFAULT_NAMESPACE,
    ManifestBatch,
    SecretManifest,
    SkippedDocument,
)
from platxa_secrets.services.manifests._yaml import load_documents

_SECRET_FIELDS = frozenset(
    {"apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable"}
)


def parse_manifests(
    content: bytes | str, source: str, namespace: str | None = None
) -> ManifestBatch:
    """Read every Secret of a YAML or JSON input, or raise for all.

    `source` names the input in messages and in `SecretManifest.source`
    (a file name, "-" for stdin); `namespace` is kubectl's `-n`. Any
    invalid document raises `ValidationError` and nothing is returned,
    so a caller that writes the batch writes all of it or none.
    """
    if namespace is not None:
        check_namespace(namespace, field="namespace option")

    batch = ManifestBatch(secrets=[], skipped=[])
    for document_source, document in load_documents(content, source):
        _collect(document, document_source, namespace, batch)

    _refuse_duplicates(batch.secrets)
    return batch


def _collect(
    document: object, source: str, namespace: str | None, batch: ManifestBatch
) -> None:
    """Add a document to the batch as a Secret, a skip, or List items."""
    obj = as_mapping(document, source, "document")
    api_version = _required_text(obj, "apiVersion", source)
    kind = _required_text(obj, "kind", source)

    if api_version == "v1" and kind == "List":
        items = obj.get("items")
        items = [] if items is None else items
        if not isinstance(items, list):
            raise fail(source, "items", f"must be a list, got {kind_of(items)}")
        for index, item in enumerate(items):
            _collect(item, f"{source}.items[{index}]", namespace, batch)
        return

    if api_version != "v1" or kind != "Secret":
        reason = f"{shown(kind)} of {shown(api_version)} is not a v1 Secret"
        skipped = SkippedDocument(source, api_version, kind, _peek_name(obj), reason)
        batch.skipped.append(skipped)
        return

    batch.secrets.append(_secret(obj, source, namespace))


def _secret(
    obj: dict[Any, Any], source: str, option_namespace: str | None
) -> SecretManifest:
    """Check and decode one Secret document, in the API server's order."""
    for field in obj:
        if field not in _SECRET_FIELDS:
            raise fail(source, shown(field), "is not a field of a v1 Secret")

    metadata = as_mapping(obj.get("metadata"), source, "metadata")
    name = _metadata_name(metadata, source)
    namespace = _metadata_namespace(metadata, source, option_namespace)
    labels = _labels(metadata.get("labels"), source)
    secret_type = _secret_type(obj.get("type"), source)

    data = read_data(obj.get("data"), source)
    data.update(read_string_data(obj.get("stringData"), source))

    check_content(secret_type, data, f"{namespace}/{name}", source)
    return SecretManifest(namespace, name, secret_type, data, labels, source)


def _metadata_name(metadata: dict[Any, Any], source: str) -> str:
    """Read metadata.name; generateName cannot name a stored secret."""
    name = metadata.get("name")
    if name is None or name == "":
        hint = " (generateName is not supported)" if "generateName" in metadata else ""
        raise fail(source, "metadata.name", f"is required{hint}")

    if not isinstance(name, str):
        raise fail(source, "metadata.name", f"must be a string, got {kind_of(name)}")

    with Located(source):
        return check_name(name, field="metadata.name")


def _metadata_namespace(
    metadata: dict[Any, Any], source: str, option: str | None
) -> str:
    """Resolve the namespace as kubectl does: manifest, then -n, then default."""
    namespace = metadata.get("namespace")
    if namespace is None or namespace == "":
        return option or DEFAULT_NAMESPACE

    if not isinstance(namespace, str):
        kind = kind_of(namespace)
        raise fail(source, "metadata.namespace", f"must be a string, got {kind}")

    with Located(source):
        check_namespace(namespace, field="metadata.namespace")

    if option is not None and option != namespace:
        raise fail(
            source,
            "metadata.namespace",
            f"is {namespace!r} but the namespace option is {option!r}; kubectl "
            "refuses such a conflict too: drop one or make them agree",
        )
    return namespace


def _secret_type(value: object, source: str) -> str:
    """Read `type`; absent or empty means Opaque, as in Kubernetes."""
    if value is None or value == "":
        return SECRET_TYPE_OPAQUE

    if not isinstance(value, str):
        raise fail(source, "type", f"must be a string, got {kind_of(value)}")

    with Located(source):
        return check_type(value, field="type")


def _labels(section: object, source: str) -> dict[str, str]:
    """Read metadata.labels: Kubernetes label keys and values, all text."""
    if section is None:
        return {}

    labels = as_mapping(section, source, "metadata.labels")
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise fail(
                source,
                "metadata.labels",
                "keys and values must be strings (quote them)",
            )
    return checked_labels(labels, "metadata.labels", source)


def _refuse_duplicates(secrets: list[SecretManifest]) -> None:
    """Refuse a batch that defines one secret twice; which would win?"""
    first: dict[tuple[str, str], str] = {}
    for secret in secrets:
        identity = (secret.namespace, secret.name)
        if identity in first:
            raise fail(
                secret.source,
                "metadata.name",
                f"secret {secret.namespace}/{secret.name} is already defined by "
                f"{first[identity]}; a batch may define each secret once",
            )
        first[identity] = secret.source


def _peek_name(obj: dict[Any, Any]) -> str | None:
    """Return a skipped document's metadata.name when it is plain text."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _required_text(obj: dict[Any, Any], field: str, source: str) -> str:
    """Return a required string field of a Kubernetes object."""
    value = obj.get(field)
    if value is None or value == "":
        raise fail(
            source, field, "is required: the document is not a Kubernetes object"
        )

    if not isinstance(value, str):
        raise fail(source, field, f"must be a string, got {kind_of(value)}")
    return value
