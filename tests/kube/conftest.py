"""A store and the Kubernetes API emulator, wired together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.kube.connection import connect
from platxa_secrets.kube.reconcile import KubeSecrets
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.testing import KubeEmulator
from tests.conftest import make_env


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(
        namespaces=["default", "kube-system", "tenant-a", "tenant-b"]
    ) as k:
        yield k


@pytest.fixture
def kube_env(tmp_path: Path, kube: KubeEmulator, master_key: str) -> dict[str, str]:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    env = make_env(
        tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'secrets.db'}", master_key
    )
    return {**env, "KUBECONFIG": str(kubeconfig)}


@pytest.fixture
def kube_config(kube_env: dict[str, str]) -> Config:
    return load_config(env=kube_env, actor="test:operator")


@pytest.fixture
def store(kube_config: Config) -> Iterator[Platxa]:
    runtime = Runtime(kube_config)
    initialise(runtime)
    platxa = Platxa(runtime)
    yield platxa
    platxa.close()


@pytest.fixture
def cluster(store: Platxa, kube_config: Config) -> KubeSecrets:
    return KubeSecrets(store.runtime, connect(kube_config, context="emulator"))
