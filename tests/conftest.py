"""Shared fixtures: the outside inputs, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.api import Platxa
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime

REPO = Path(__file__).resolve().parents[1]
# Copies of the shared inputs from outside the project (see their README),
# kept in the repository so a fresh clone runs every test.
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The shared fixtures folder that sits beside the checkout."""
    if not FIXTURES.is_dir():
        pytest.fail(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


PG_BASE = os.environ.get(
    "PXS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(PG_BASE, connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_ready() -> bool:
    """PostgreSQL tests run when the server answers; in CI they must."""
    available = _postgres_available()
    if not available and IN_CI:
        pytest.fail(f"PostgreSQL at {PG_BASE} is not reachable, and CI=true")
    return available


@pytest.fixture
def pg_schema_url(postgres_ready: bool) -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    if not postgres_ready:
        pytest.skip(f"PostgreSQL at {PG_BASE} is not reachable")
    import psycopg

    schema = f"pxs_test_{_secrets.token_hex(6)}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'secrets.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def master_key() -> str:
    return Fernet.generate_key().decode()


def make_env(home: Path, database_url: str, master_key: str) -> dict[str, str]:
    return {
        "PLATXA_SECRETS_HOME": str(home),
        "PLATXA_SECRETS_DATABASE_URL": database_url,
        "PLATXA_SECRETS_MASTER_KEY": master_key,
    }


@pytest.fixture
def config(tmp_path: Path, database_url: str, master_key: str) -> Config:
    return load_config(
        env=make_env(tmp_path / "home", database_url, master_key), actor="test:user"
    )


@pytest.fixture
def pxs(config: Config) -> Iterator[Platxa]:
    """An initialised store with one active data key."""
    runtime = Runtime(config)
    initialise(runtime)
    platxa = Platxa(runtime)
    yield platxa
    platxa.close()


pytest_plugins = ["tests.harness"]
