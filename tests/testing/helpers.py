"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes.client.rest import ApiException

from platxa_secrets.testing import KubeEmulator

APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


def b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


def secret_body(name: str, **fields: Any) -> dict[str, Any]:
    """A Secret body as a user of the client would write it."""
    metadata = {"name": name, **fields.pop("metadata", {})}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, **fields}


def status_of(
    call: Callable[[], object], code: int, reason: str
) -> tuple[ApiException, dict[str, Any]]:
    """Run `call`, expect an ApiException `code` with a Status of `reason`."""
    with pytest.raises(ApiException) as caught:
        call()
    error = caught.value
    assert error.status == code, error.body
    body = json.loads(error.body)
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["reason"] == reason
    assert body["code"] == code
    return error, body


def stored(kube: KubeEmulator, namespace: str, name: str) -> dict[str, Any]:
    """The emulator's copy of a Secret that must exist."""
    found = kube.secret(namespace, name)
    assert found is not None, f"no Secret {namespace}/{name}"
    return found
