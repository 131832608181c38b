"""Kubernetes naming rules for namespaces, secret names and data keys.

A secret is deployed as a Kubernetes Secret, so it is named by the same
rules the API server enforces; checking them before anything is stored
means a secret that was accepted can always be applied later.

- namespace: an RFC 1123 label (lower-case alphanumerics and '-', starts
  and ends alphanumeric, at most 63 characters);
- name: an RFC 1123 subdomain (labels joined by '.', at most 253);
- data key: `[-._a-zA-Z0-9]+`, at most 253, and not '.' or '..'.
"""

from __future__ import annotations

import re

from platxa_secrets.core.shapes import SHAPES, quoted
from platxa_secrets.errors import ValidationError

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_RE = re.compile(_LABEL)
_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")
_TYPE_RE = re.compile(r"[-._a-zA-Z0-9/]+")

MAX_LABEL = 63
MAX_SUBDOMAIN = 253
MAX_KEY = 253
MAX_TYPE = 253
MAX_SECRET_BYTES = 1024 * 1024

# Holds the service's own keys (JWT signing keys). Nothing outside the
# service writes there, no API token reaches it, and it is never synced
# to a cluster.
SYSTEM_NAMESPACE = "platxa-system"
RESERVED_NAMESPACES = frozenset({SYSTEM_NAMESPACE})


def refuse_reserved(namespace: str) -> None:
    """Raise when `namespace` is reserved for the service itself."""
    if namespace in RESERVED_NAMESPACES:
        raise ValidationError(
            f"namespace {namespace} is reserved for the service's own keys "
            "(JWT signing keys, managed by `pxs jwt`); use another namespace",
            field="namespace",
        )


def _shown(text: str) -> str:
    """Quote a rejected name for a message, cut short if it is long.

    Names are not secret, but an overlong one is usually a value pasted in
    the wrong place, so only its start is echoed back.
    """
    if len(text) <= 64:
        return quoted(text)
    if SHAPES.search(text):
        return f"(a value of {len(text)} characters, not shown)"
    return repr(text[:24] + "…")


def check_namespace(namespace: str, field: str = "namespace") -> str:
    """Return `namespace` if it is a valid RFC 1123 label, else raise."""
    if not namespace:
        raise ValidationError(f"{field} is empty", field=field)

    if len(namespace) > MAX_LABEL:
        raise ValidationError(
            f"{field} {_shown(namespace)} is {len(namespace)} characters; "
            f"the limit is {MAX_LABEL} (RFC 1123 label)",
            field=field,
        )

    if not _LABEL_RE.fullmatch(namespace):
        raise ValidationError(
            f"{field} {_shown(namespace)} must be an RFC 1123 label: lower-case "
            "letters, digits and '-', starting and ending with a letter or digit",
            field=field,
        )
    return namespace


def check_name(name: str, field: str = "name") -> str:
    """Return `name` if it is a valid RFC 1123 subdomain, else raise."""
    if not name:
        raise ValidationError(f"{field} is empty", field=field)

    if len(name) > MAX_SUBDOMAIN:
        raise ValidationError(
            f"{field} {_shown(name)} is {len(name)} characters; the limit is "
            f"{MAX_SUBDOMAIN} (RFC 1123 subdomain)",
            field=field,
        )

    if not _SUBDOMAIN_RE.fullmatch(name):
        raise ValidationError(
            f"{field} {_shown(name)} must be an RFC 1123 subdomain: lower-case "
            "letters, digits, '-' and '.', each part starting and ending with a "
            "letter or digit",
            field=field,
        )
    return name


def check_key(key: str, field: str = "key") -> str:
    """Return `key` if it is a valid Secret data key, else raise."""
    if not key:
        raise ValidationError(f"{field} is empty", field=field)

    if len(key) > MAX_KEY:
        raise ValidationError(
            f"{field} {_shown(key)} is {len(key)} characters; the limit is {MAX_KEY}",
            field=field,
        )

    if key in (".", "..") or key.startswith("..") or not _KEY_RE.fullmatch(key):
        raise ValidationError(
            f"{field} {_shown(key)} must consist of letters, digits, '-', '_' "
            "or '.', and must not be '.' or start with '..'",
            field=field,
        )
    return key


def check_type(secret_type: str, field: str = "type") -> str:
    """Return `secret_type` if it can be a Kubernetes Secret type."""
    if not secret_type or len(secret_type) > MAX_TYPE:
        raise ValidationError(
            f"{field} must be 1 to {MAX_TYPE} characters", field=field
        )

    if not _TYPE_RE.fullmatch(secret_type):
        raise ValidationError(
            f"{field} {_shown(secret_type)} may contain only letters, digits, "
            "'-', '_', '.' and '/'",
            field=field,
        )
    return secret_type


def parse_ref(ref: str, field: str = "secret") -> tuple[str, str]:
    """Split `NAMESPACE/NAME` and check both parts."""
    namespace, sep, name = ref.partition("/")
    if not sep:
        raise ValidationError(
            f"{field} {_shown(ref)} must be written NAMESPACE/NAME", field=field
        )
    return check_namespace(namespace, f"{field} namespace"), check_name(
        name, f"{field} name"
    )


def check_size(data: dict[str, bytes], target: str) -> int:
    """Raise if keys plus values exceed the 1 MiB Kubernetes Secret limit."""
    size = sum(len(key.encode()) + len(value) for key, value in data.items())
    if size > MAX_SECRET_BYTES:
        raise ValidationError(
            f"{target} holds {size} bytes of keys and values; a Kubernetes "
            f"Secret is limited to {MAX_SECRET_BYTES} bytes (1 MiB)",
            field="data",
        )
    return size
