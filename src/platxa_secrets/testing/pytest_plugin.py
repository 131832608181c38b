"""pytest fixtures for the Kubernetes emulator.

Enable with `pytest_plugins = ["platxa_secrets.testing.pytest_plugin"]`
in a root `conftest.py`, or import the fixtures into a `conftest.py`:

- `kube_emulator`: a started `KubeEmulator`, stopped after the test;
- `kube_kubeconfig`: the path of a kubeconfig for it, in `tmp_path`,
  whose context is named `emulator`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from platxa_secrets.testing._emulator import KubeEmulator


@pytest.fixture
def kube_emulator() -> Iterator[KubeEmulator]:
    """A fresh emulator per test, so no state leaks between tests."""
    with KubeEmulator() as kube:
        yield kube


@pytest.fixture
def kube_kubeconfig(kube_emulator: KubeEmulator, tmp_path: Path) -> Path:
    """A kubeconfig file pointing at `kube_emulator`, mode 0600."""
    return kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")
