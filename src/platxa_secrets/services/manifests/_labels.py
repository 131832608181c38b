"""Kubernetes label and annotation syntax, checked on import and export.

A label key is an optional DNS subdomain and '/', then a name of at
most 63 characters; a label value is such a name or empty. Annotations
share the key syntax; kubectl's last-applied-configuration annotation
is refused because it would hold the whole Secret in plain text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from platxa_secrets.core.names import check_name
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.manifests._errors import Located, shown

_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def checked_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    """Check annotation keys; refuse the one that would hold plaintext."""
    if _LAST_APPLIED in annotations:
        raise ValidationError(
            f"annotation {_LAST_APPLIED} would hold the Secret's data in plain "
            "text; it is never written",
            field="annotations",
        )

    for key, value in annotations.items():
        _check_qualified_name(key, "annotations")
        if not isinstance(value, str):
            raise ValidationError(
                f"annotations[{key}] must be a string", field="annotations"
            )
    return {key: annotations[key] for key in sorted(annotations)}


def checked_labels(
    labels: Mapping[str, str], field: str, source: str | None = None
) -> dict[str, str]:
    """Check Kubernetes label syntax and return the labels sorted by key."""
    with Located(source):
        for key, value in labels.items():
            _check_qualified_name(key, field)
            if len(value) > 63 or (value and not _LABEL_NAME.fullmatch(value)):
                raise ValidationError(
                    f"{field}[{key}] value {shown(value)} must be at most 63 "
                    "letters, digits, '-', '_' or '.', starting and ending "
                    "with a letter or digit",
                    field=field,
                )
    return {key: labels[key] for key in sorted(labels)}


def _check_qualified_name(key: str, field: str) -> None:
    """Check a label or annotation key: [DNS subdomain '/'] name (≤ 63)."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        check_name(prefix, field=f"{field} key prefix")

    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValidationError(
            f"{field} key {shown(key)} must be a name of at most 63 letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or "
            "digit, optionally after a DNS subdomain and '/'",
            field=field,
        )
