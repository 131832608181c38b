"""The rules a real API server applies to an object before storing it.

`secret_errors` and `secret_update_errors` play `ValidateSecret` and
`ValidateSecretUpdate`, `namespace_errors` the Namespace name rule:
every broken rule becomes a `FieldError`, worded as Kubernetes words
it, and the caller turns the list into one 422 Invalid. They run on
a Secret already decoded (`_decoding`), so `data` is valid base64.

A rule about Secret content (a `.dockerconfigjson` that is not JSON)
reports the value as redacted, as the API server does.
"""

from __future__ import annotations

import json
import re

from platxa_secrets.testing._decoding import data_bytes
from platxa_secrets.testing._status import (
    JSON,
    FieldError,
    redacted,
)

MAX_SECRET_SIZE = 1024 * 1024
MAX_ANNOTATIONS_SIZE = 256 * 1024
IMMUTABLE = "field is immutable when `immutable` is set"

_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

_SUBDOMAIN_HELP = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'example.com', regex used for validation is "
    f"'{_SUBDOMAIN.pattern}')"
)
_LABEL_HELP = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric character "
    f"(e.g. 'my-name',  or '123-abc', regex used for validation is '{_LABEL.pattern}')"
)
_KEY_HELP = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation "
    f"is '{_KEY.pattern}')"
)
_QUALIFIED_HELP = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
    f"or '123-abc', regex used for validation is '{_QUALIFIED.pattern}')"
)
_VALUE_HELP = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
    "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
    f"'{_LABEL_VALUE.pattern}')"
)


def subdomain_problems(name: str) -> list[str]:
    """Why `name` is not an RFC 1123 subdomain; empty when it is."""
    problems = []
    if len(name) > 253:
        problems.append("must be no more than 253 characters")
    if not _SUBDOMAIN.fullmatch(name):
        problems.append(_SUBDOMAIN_HELP)
    return problems


def namespace_errors(name: str) -> list[FieldError]:
    """`metadata.name` rules for a Namespace: an RFC 1123 label."""
    if not name:
        return [
            FieldError("metadata.name", "Required", "name or generateName is required")
        ]
    problems = []
    if len(name) > 63:
        problems.append("must be no more than 63 characters")
    if not _LABEL.fullmatch(name):
        problems.append(_LABEL_HELP)
    return (
        [FieldError("metadata.name", "Invalid", "; ".join(problems), name)]
        if problems
        else []
    )


def secret_errors(secret: JSON) -> list[FieldError]:
    """Every `ValidateSecret` rule the stored-form `secret` breaks."""
    metadata = secret["metadata"]
    errors = _metadata_errors(metadata)

    data = data_bytes(secret)
    for key in data:
        problems = _key_problems(key)
        if problems:
            errors.append(
                FieldError(f"data[{key}]", "Invalid", "; ".join(problems), key)
            )
    if sum(len(value) for value in data.values()) > MAX_SECRET_SIZE:
        errors.append(
            FieldError("data", "TooLong", f"must have at most {MAX_SECRET_SIZE} bytes")
        )

    errors.extend(_type_errors(secret["type"], data, metadata.get("annotations", {})))
    return errors


def secret_update_errors(new: JSON, old: JSON) -> list[FieldError]:
    """The update-only rules: `type` never changes, `immutable` freezes data."""
    errors = []
    if new["type"] != old["type"]:
        errors.append(FieldError("type", "Invalid", "field is immutable", new["type"]))

    if old.get("immutable") is True:
        if new.get("immutable") is not True:
            errors.append(FieldError("immutable", "Forbidden", IMMUTABLE))
        if new.get("data", {}) != old.get("data", {}):
            errors.append(FieldError("data", "Forbidden", IMMUTABLE))

    return errors + secret_errors(new)


def _metadata_errors(metadata: JSON) -> list[FieldError]:
    errors = []
    name = metadata.get("name", "")
    if not name:
        errors.append(
            FieldError("metadata.name", "Required", "name or generateName is required")
        )
    elif problems := subdomain_problems(name):
        errors.append(FieldError("metadata.name", "Invalid", "; ".join(problems), name))

    errors.extend(label_errors(metadata.get("labels", {})))

    annotations = metadata.get("annotations", {})
    for key in annotations:
        if problems := _qualified_problems(key.lower()):
            errors.append(
                FieldError("metadata.annotations", "Invalid", "; ".join(problems), key)
            )
    size = sum(len(k) + len(v) for k, v in annotations.items())
    if size > MAX_ANNOTATIONS_SIZE:
        errors.append(
            FieldError(
                "metadata.annotations",
                "TooLong",
                f"must have at most {MAX_ANNOTATIONS_SIZE} bytes",
            )
        )
    return errors


def label_errors(labels: dict[str, str]) -> list[FieldError]:
    """`metadata.labels` rules: qualified-name keys, short plain values."""
    errors = []
    for key, value in labels.items():
        if problems := _qualified_problems(key):
            errors.append(
                FieldError("metadata.labels", "Invalid", "; ".join(problems), key)
            )
        if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            detail = (
                "must be no more than 63 characters" if len(value) > 63 else _VALUE_HELP
            )
            errors.append(FieldError("metadata.labels", "Invalid", detail, value))
    return errors


def _type_errors(
    kind: str, data: dict[str, bytes], annotations: JSON
) -> list[FieldError]:
    def required(key: str) -> FieldError:
        return FieldError(f"data[{key}]", "Required")

    if kind == "kubernetes.io/service-account-token":
        field = "metadata.annotations[kubernetes.io/service-account.name]"
        if not annotations.get("kubernetes.io/service-account.name"):
            return [FieldError(field, "Required")]
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind.endswith("dockercfg") else ".dockerconfigjson"
        if key not in data:
            return [required(key)]
        try:
            json.loads(data[key])
        except ValueError:
            return [redacted(f"data[{key}]", "must be valid JSON")]
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            return [required("username"), required("password")]
    elif kind == "kubernetes.io/ssh-auth":
        if "ssh-privatekey" not in data:
            return [required("ssh-privatekey")]
    elif kind == "kubernetes.io/tls":
        return [required(key) for key in ("tls.crt", "tls.key") if key not in data]
    return []


def _key_problems(key: str) -> list[str]:
    problems = []
    if len(key) > 253:
        problems.append("must be no more than 253 characters")
    if not _KEY.fullmatch(key):
        problems.append(_KEY_HELP)
    if key == ".":
        problems.append("must not be '.'")
    elif key == "..":
        problems.append("must not be '..'")
    elif key.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def _qualified_problems(key: str) -> list[str]:
    prefix, _, name = key.rpartition("/")
    problems = []
    if "/" in key and (not prefix or subdomain_problems(prefix)):
        problems.append("prefix part " + _SUBDOMAIN_HELP)
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _QUALIFIED.fullmatch(name):
        problems.append(_QUALIFIED_HELP)
    return problems
