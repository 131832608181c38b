"""Fixtures of the reliability tests: one initialised store per test.

`database_url` (root conftest) runs each test on SQLite and on a fresh
PostgreSQL schema. Versions are not pruned here (max_versions is high),
so every version written can be counted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from platxa_secrets.core.config import Config, load_config
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from tests.reliability.helpers import subprocess_env

MAX_VERSIONS = "100000"


@pytest.fixture
def env(tmp_path: Path, database_url: str, master_key: str) -> dict[str, str]:
    """The environment a `pxs` subprocess (or a worker) is configured by."""
    return subprocess_env(
        tmp_path / "home",
        database_url,
        master_key,
        PLATXA_SECRETS_MAX_VERSIONS=MAX_VERSIONS,
    )


@pytest.fixture
def rel_config(env: dict[str, str]) -> Config:
    return load_config(env=env, actor="test:reliability")


@pytest.fixture
def runtime(rel_config: Config) -> Iterator[Runtime]:
    """A runtime on an initialised store with one active data key."""
    runtime = Runtime(rel_config)
    initialise(runtime)
    yield runtime
    runtime.close()
