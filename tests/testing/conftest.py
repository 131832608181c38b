"""Fixtures: an emulator per test, and official clients loaded from its kubeconfig.

Tests talk to the emulator only through the `kubernetes` client, built
the way a user's code builds it: `load_kube_config` on the file the
emulator writes, into a fresh `ApiClient`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from platxa_secrets.testing import KubeEmulator
from platxa_secrets.testing.pytest_plugin import kube_emulator, kube_kubeconfig

__all__ = ["kube_emulator", "kube_kubeconfig"]

NAMESPACES = ("tenant-a", "tenant-b")


@pytest.fixture
def kube(kube_emulator: KubeEmulator) -> Iterator[KubeEmulator]:
    """The emulator with two tenant namespaces; it must end with no bug hit."""
    for name in NAMESPACES:
        kube_emulator.create_namespace(name)
    yield kube_emulator
    assert kube_emulator.internal_errors == []


@pytest.fixture
def api_client(kube: KubeEmulator, tmp_path: Path) -> Iterator[client.ApiClient]:
    """A fresh `ApiClient` configured from the emulator's kubeconfig."""
    path = kube.write_kubeconfig(tmp_path / "kubeconfig", context="emulator")
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(path), context="emulator", client_configuration=configuration
    )
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)
