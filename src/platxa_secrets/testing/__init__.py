"""A Kubernetes API server emulator for testing code that writes Secrets.

`KubeEmulator` serves Namespaces, Secrets and SelfSubjectAccessReviews
on 127.0.0.1 with Kubernetes' own status codes, reasons and `Status`
bodies, so the official `kubernetes` client can be tested over real
HTTP without a cluster:

    from kubernetes import client, config
    from platxa_secrets.testing import KubeEmulator, Policy, Rule

    with KubeEmulator(namespaces=["tenant-a"]) as kube:
        path = kube.write_kubeconfig(tmp_path / "kubeconfig")
        api = client.CoreV1Api(config.new_client_from_config(str(path)))
        api.create_namespaced_secret("tenant-a", {"metadata": {"name": "db"},
                                                  "stringData": {"password": "x"}})
        assert kube.secret_data("tenant-a", "db") == {"password": b"x"}

        kube.policy = Policy.of(Rule.of(["get", "list"], "secrets", "tenant-a"))
        kube.fail_next(2, status=503)
        assert kube.count(verb="create") == 1

For pytest, `platxa_secrets.testing.pytest_plugin` provides the
`kube_emulator` fixture; `emulator()` is the same as a context manager.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from platxa_secrets.testing._emulator import KubeEmulator
from platxa_secrets.testing._instrument import Call, Failure
from platxa_secrets.testing._policy import DEFAULT_USER, Policy, Rule

__all__ = [
    "DEFAULT_USER",
    "Call",
    "Failure",
    "KubeEmulator",
    "Policy",
    "Rule",
    "emulator",
]


@contextmanager
def emulator(*namespaces: str) -> Iterator[KubeEmulator]:
    """A started `KubeEmulator` with `namespaces` created, stopped afterwards."""
    with KubeEmulator(namespaces=namespaces) as kube:
        yield kube
