"""Doctor checks that look at a cluster: RBAC, drift, annotations, TLS.

Read-only: these checks list and review, they never write. They report
Secret names, key names and dates, never data.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from platxa_secrets.kube import desired as d
from platxa_secrets.kube.connection import KubeApi
from platxa_secrets.kube.errors import KubeError, role_snippet, translate
from platxa_secrets.kube.reconcile import KubeSecrets
from platxa_secrets.kube.tls import WARN_BEFORE
from platxa_secrets.services.doctor import FAIL, PASS, WARN, Check, Finding
from platxa_secrets.services.runtime import Runtime

TLS_TYPE = "kubernetes.io/tls"

# Permissions the tool never needs; any of them cluster-wide widens what
# a stolen service-account token can do far beyond Secrets.
_NEVER_NEEDED = (
    ("*", "*", "", ""),
    ("create", "clusterrolebindings", "rbac.authorization.k8s.io", ""),
    ("create", "rolebindings", "rbac.authorization.k8s.io", ""),
    ("escalate", "clusterroles", "rbac.authorization.k8s.io", ""),
    ("bind", "clusterroles", "rbac.authorization.k8s.io", ""),
    ("impersonate", "users", "", ""),
    ("create", "pods", "", "exec"),
    ("create", "pods", "", ""),
    ("update", "nodes", "", ""),
)


def cluster_checks(
    runtime: Runtime, api: KubeApi, namespaces: Sequence[str]
) -> list[tuple[str, Check]]:
    """Named cluster checks for `namespaces` (default: the store's)."""
    cluster = KubeSecrets(runtime, api)
    in_store = sorted({s.namespace for s in cluster.secrets_in_store()})
    chosen = list(namespaces) or in_store
    return [
        ("kube.namespaces", lambda: _known(chosen, in_store)),
        ("kube.rbac", lambda: _rbac(cluster, api, chosen)),
        ("kube.in-step", lambda: _in_step(cluster, chosen)),
        ("kube.secrets", lambda: _secrets(runtime, api, chosen)),
    ]


def _known(chosen: list[str], in_store: list[str]) -> Iterator[Finding]:
    """A namespace asked for that the store knows nothing of: a typo?"""
    unknown = [n for n in chosen if n not in in_store]
    if unknown:
        yield Finding(
            "kube.namespaces",
            WARN,
            "no secret of the store lives in: " + ", ".join(unknown),
            "check the spelling of --namespace",
        )
    else:
        yield Finding("kube.namespaces", PASS, f"{len(chosen)} namespace(s) checked")


def _rbac(
    cluster: KubeSecrets, api: KubeApi, namespaces: list[str]
) -> Iterator[Finding]:
    for namespace in namespaces:
        missing = cluster.check_access(namespace)
        if missing:
            yield Finding(
                "kube.rbac.needed",
                FAIL,
                f"namespace {namespace}: RBAC denies {', '.join(missing)} on secrets",
                "grant:\n" + role_snippet(namespace, missing),
            )
        else:
            yield Finding(
                "kube.rbac.needed", PASS, f"namespace {namespace}: every verb needed"
            )

    extra = [
        _describe(verb, resource, subresource)
        for verb, resource, group, subresource in _NEVER_NEEDED
        if _allowed(api, verb, resource, group, subresource)
    ]
    if extra:
        yield Finding(
            "kube.rbac.cluster-wide",
            FAIL,
            "the credentials may, cluster-wide: " + "; ".join(extra),
            "bind only the Role (or ClusterRole) of deploy/kubernetes/rbac: "
            "get, list, create, patch, delete on secrets",
        )
    else:
        yield Finding(
            "kube.rbac.cluster-wide",
            PASS,
            "no cluster-wide permission beyond secrets",
        )


def _in_step(cluster: KubeSecrets, namespaces: list[str]) -> Iterator[Finding]:
    if not namespaces:
        yield Finding("kube.in-step", PASS, "the store holds no secret to deploy")
        return
    drifts = cluster.diff(namespaces)
    behind = [
        f"{x.namespace}/{x.name} ({x.state})"
        for x in drifts
        if x.state in ("missing", "drifted")
    ]
    if behind:
        yield Finding(
            "kube.in-step",
            WARN,
            "not in step with the store: " + ", ".join(behind),
            "run `pxs k8s sync " + " ".join(namespaces) + "`",
        )
    else:
        in_step = sum(1 for x in drifts if x.state == "in-step")
        yield Finding("kube.in-step", PASS, f"{in_step} managed secrets in step")


def _secrets(
    runtime: Runtime, api: KubeApi, namespaces: list[str]
) -> Iterator[Finding]:
    """Every Secret of the namespaces: no last-applied copy, TLS typed and
    in date."""
    now = runtime.clock.now()
    annotated: list[str] = []
    for namespace in namespaces:
        for obj in _list(api, namespace):
            ref = "/".join(d.name_of(obj))
            if d.LAST_APPLIED in d.annotations_of(obj):
                annotated.append(ref)
            yield from _tls(ref, obj, now)

    if annotated:
        yield Finding(
            "kube.last-applied",
            FAIL,
            "a kubectl last-applied-configuration annotation holds a copy of "
            "the data of: " + ", ".join(annotated),
            "run `pxs k8s sync` (it removes the annotation from managed "
            "Secrets); for others: kubectl annotate secret NAME "
            f"{d.LAST_APPLIED}-",
        )
    else:
        yield Finding(
            "kube.last-applied",
            PASS,
            "no Secret carries a last-applied-configuration annotation",
        )


def _tls(ref: str, obj: Any, now: datetime) -> Iterator[Finding]:
    data = d.live_data(obj) or {}
    kind = getattr(obj, "type", None)
    if "tls.crt" not in data and kind != TLS_TYPE:
        return

    if kind != TLS_TYPE:
        yield Finding(
            "kube.tls",
            FAIL,
            f"{ref} holds tls.crt but has type {kind}, not {TLS_TYPE}",
            "store it with `pxs k8s tls` so it is typed and checked",
        )
        return

    not_after = _not_after(data.get("tls.crt", b""))
    if not_after is None:
        yield Finding(
            "kube.tls",
            FAIL,
            f"{ref}: tls.crt is not a PEM certificate",
            "replace it with `pxs k8s tls`",
        )
    elif not_after <= now:
        yield Finding(
            "kube.tls",
            FAIL,
            f"{ref}: certificate expired on {not_after:%Y-%m-%d}",
            "renew it and run `pxs k8s tls`",
        )
    elif not_after - now < WARN_BEFORE:
        yield Finding(
            "kube.tls",
            WARN,
            f"{ref}: certificate expires on "
            f"{not_after:%Y-%m-%d}, in {(not_after - now).days} days",
            "renew it and run `pxs k8s tls`",
        )
    else:
        yield Finding(
            "kube.tls", PASS, f"{ref}: certificate valid until {not_after:%Y-%m-%d}"
        )


def _not_after(pem: bytes) -> datetime | None:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc
    except (ValueError, TypeError, binascii.Error):
        return None


def _list(api: KubeApi, namespace: str) -> list[Any]:
    try:
        return list(api.core.list_namespaced_secret(namespace).items)
    except KubeError:
        raise
    except Exception as exc:
        raise translate(exc, "list", namespace, None) from None


def _allowed(api: KubeApi, verb: str, resource: str, group: str, sub: str) -> bool:
    from kubernetes import client

    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, group=group, subresource=sub or None
            )
        )
    )
    try:
        answer = api.authorization.create_self_subject_access_review(review)
    except Exception as exc:
        raise translate(exc, "create", None, "selfsubjectaccessreviews") from None
    return bool(getattr(getattr(answer, "status", None), "allowed", False))


def _describe(verb: str, resource: str, subresource: str) -> str:
    return f"{verb} {resource}{'/' + subresource if subresource else ''}"
