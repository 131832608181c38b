"""Fixtures for the core tests: an isolated data directory, master keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.crypto.master import MasterKeys, build_master_keys


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data directory that does not exist yet, inside the test's tmp."""
    return tmp_path / "home"


@pytest.fixture
def home_env(home: Path) -> dict[str, str]:
    """An environment that points Platxa Secrets at `home` and nothing else."""
    return {"PLATXA_SECRETS_HOME": str(home)}


@pytest.fixture
def master() -> MasterKeys:
    """One freshly generated master key, as the keyring sees it."""
    return build_master_keys([Fernet.generate_key()], "test master key")
