"""API errors as typed project errors, with no Secret data in them.

Messages are built from the status code, the verb and the object, and
from the `Status` body's reason, message and field causes — which name
objects and fields, never values. The raw response body is not kept.
"""

from __future__ import annotations

import json
from typing import Any

from platxa_secrets.errors import (
    ConflictError,
    NotFoundError,
    PlatxaSecretsError,
    ValidationError,
)


class KubeError(PlatxaSecretsError):
    """The Kubernetes API refused or could not be reached."""

    exit_code = 8


class KubeUnauthorized(KubeError):
    """401: the credentials were rejected."""


class KubeForbidden(KubeError):
    """403: RBAC does not allow the verb; `role` holds a Role that would."""


class KubeNotFound(NotFoundError):
    """404: the namespace or the Secret does not exist."""


class KubeConflict(ConflictError):
    """409: the object changed meanwhile, or fields belong to another manager."""


class KubeInvalid(ValidationError):
    """422: the API server rejected a field."""


class KubeUnavailable(KubeError):
    """The API server could not be reached (connection, TLS, timeout)."""


def translate(
    exc: BaseException, verb: str, namespace: str | None, name: str | None
) -> PlatxaSecretsError:
    """Turn a client exception into the matching typed error."""
    target = _target(namespace, name)
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or status == 0:
        return _unreachable(exc, verb, target)

    body = status_body(getattr(exc, "body", None))
    message = str(body.get("message", "")).strip()
    if status == 401:
        return KubeUnauthorized(
            f"Kubernetes rejected the credentials while trying to {verb} {target} "
            "(401 Unauthorized): check the kubeconfig user or service account token"
        )
    if status == 403:
        return KubeForbidden(
            f"{verb} {target} is forbidden (403): {message or 'RBAC denies it'}. "
            f"A Role that allows it:\n{role_snippet(namespace, [verb])}",
            role=role_snippet(namespace, [verb]),
        )
    if status == 404:
        where = f"namespace {namespace}" if namespace else "the cluster"
        return KubeNotFound(f"{verb} {target}: not found in {where} (404). {message}")
    if status == 409:
        return KubeConflict(f"{verb} {target}: conflict (409): {message}")
    if status == 422:
        causes = "; ".join(_causes(body)) or message
        return KubeInvalid(f"{verb} {target}: rejected as invalid (422): {causes}")
    return KubeError(f"{verb} {target}: Kubernetes answered {status} {message}".strip())


def role_snippet(namespace: str | None, verbs: list[str]) -> str:
    """The RBAC Role that grants `verbs` on Secrets in `namespace`."""
    return (
        "apiVersion: rbac.authorization.k8s.io/v1\n"
        "kind: Role\n"
        "metadata:\n"
        "  name: platxa-secrets\n"
        f"  namespace: {namespace or '<namespace>'}\n"
        "rules:\n"
        '  - apiGroups: [""]\n'
        '    resources: ["secrets"]\n'
        f"    verbs: [{', '.join(json.dumps(v) for v in verbs)}]\n"
    )


def _unreachable(exc: BaseException, verb: str, target: str) -> KubeUnavailable:
    text = f"{type(exc).__name__} {exc}".lower()
    if "ssl" in text or "certificate" in text:
        reason = "TLS failed (certificate or protocol)"
    elif "refused" in text:
        reason = "connection refused"
    elif "timed out" in text or "timeout" in text:
        reason = "timed out"
    else:
        reason = type(exc).__name__
    return KubeUnavailable(
        f"cannot reach the Kubernetes API to {verb} {target}: {reason}"
    )


def status_body(body: Any) -> dict[str, Any]:
    """The `Status` object of an error response, or {} if it is not one."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str):
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) and parsed.get("kind") == "Status" else {}


def _causes(body: dict[str, Any]) -> list[str]:
    details = body.get("details") or {}
    causes = details.get("causes") or [] if isinstance(details, dict) else []
    return [
        f"{c.get('field', '?')} ({c.get('reason', 'Invalid')})"
        for c in causes
        if isinstance(c, dict)
    ]


def _target(namespace: str | None, name: str | None) -> str:
    if name:
        return f"secret {namespace}/{name}" if namespace else f"secret {name}"
    return f"secrets in namespace {namespace}" if namespace else "secrets"
