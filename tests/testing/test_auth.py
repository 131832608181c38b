"""Bearer tokens (401), the policy (403), and SelfSubjectAccessReview."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kubernetes import client

from platxa_secrets.testing import DEFAULT_USER, KubeEmulator, Policy, Rule

from .helpers import APPLY, secret_body, status_of

USER = f'User "{DEFAULT_USER}"'


def test_a_wrong_token_is_unauthorized(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.token = "rotated-away"

    _, body = status_of(
        lambda: core.list_namespaced_secret("tenant-a"), 401, "Unauthorized"
    )

    assert body["message"] == "Unauthorized"
    assert kube.calls[-1].status == 401


def test_a_missing_token_is_unauthorized(
    api_client: client.ApiClient, kube: KubeEmulator
) -> None:
    api_client.configuration.api_key.clear()

    status_of(
        lambda: client.CoreV1Api(api_client).read_namespace("tenant-a"),
        401,
        "Unauthorized",
    )


Call = Callable[[client.CoreV1Api], object]

CASES: list[tuple[str, Call, str]] = [
    (
        "patch",
        lambda core: core.patch_namespaced_secret(
            "db", "tenant-a", secret_body("db"), field_manager="m", _content_type=APPLY
        ),
        f'secrets "db" is forbidden: {USER} cannot patch resource "secrets" in API '
        'group "" in the namespace "tenant-a"',
    ),
    (
        "get",
        lambda core: core.read_namespaced_secret("db", "tenant-a"),
        f'secrets "db" is forbidden: {USER} cannot get resource "secrets" in API '
        'group "" in the namespace "tenant-a"',
    ),
    (
        "list",
        lambda core: core.list_namespaced_secret("tenant-a"),
        f'secrets is forbidden: {USER} cannot list resource "secrets" in API group "" '
        'in the namespace "tenant-a"',
    ),
    (
        "create",
        lambda core: core.create_namespaced_secret("tenant-a", secret_body("db")),
        f'secrets is forbidden: {USER} cannot create resource "secrets" in API group '
        '"" in the namespace "tenant-a"',
    ),
    (
        "cluster list",
        lambda core: core.list_secret_for_all_namespaces(),
        f'secrets is forbidden: {USER} cannot list resource "secrets" in API group "" '
        "at the cluster scope",
    ),
    (
        "namespace",
        lambda core: core.read_namespace("tenant-a"),
        f'namespaces "tenant-a" is forbidden: {USER} cannot get resource "namespaces" '
        'in API group "" in the namespace "tenant-a"',
    ),
]


@pytest.mark.parametrize(("label", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_denied_requests_are_forbidden_in_kubernetes_words(
    core: client.CoreV1Api, kube: KubeEmulator, label: str, call: Call, message: str
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    kube.policy = Policy.deny_all()

    _, body = status_of(lambda: call(core), 403, "Forbidden")

    assert body["message"] == message
    assert kube.secret_data("tenant-a", "db") == {"k": b"v"}


def test_rules_grant_verbs_per_namespace(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    kube.put_secret("tenant-b", "db", {"k": "v"})
    kube.policy = Policy.of(Rule.of(["get", "list"], "secrets", "tenant-a"))

    core.read_namespaced_secret("db", "tenant-a")
    core.list_namespaced_secret("tenant-a")

    status_of(lambda: core.read_namespaced_secret("db", "tenant-b"), 403, "Forbidden")
    status_of(lambda: core.list_secret_for_all_namespaces(), 403, "Forbidden")
    _, body = status_of(
        lambda: core.delete_namespaced_secret("db", "tenant-a"), 403, "Forbidden"
    )
    assert body["details"] == {"name": "db", "kind": "secrets"}


def test_self_subject_access_review_answers_from_the_policy(
    api_client: client.ApiClient, kube: KubeEmulator
) -> None:
    kube.policy = Policy.of(Rule.of("patch", "secrets", "tenant-a"))
    authz = client.AuthorizationV1Api(api_client)

    def may(verb: str, namespace: str) -> bool:
        review = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    verb=verb, resource="secrets", namespace=namespace, group=""
                )
            )
        )
        answer = authz.create_self_subject_access_review(review)
        assert answer.kind == "SelfSubjectAccessReview"
        return bool(answer.status.allowed)

    assert may("patch", "tenant-a") is True
    assert may("patch", "tenant-b") is False
    assert may("delete", "tenant-a") is False
    assert kube.calls[-1].status == 201
    assert kube.calls[-1].resource == "selfsubjectaccessreviews"
