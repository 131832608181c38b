"""A real uvicorn server on 127.0.0.1 over a fresh store, and its tokens.

`live` serves `create_app` in a thread of the test process (one per
session, SQLite); `live_pg` the same over PostgreSQL, for the subset of
tests that take `any_live`. Tests talk HTTP to it with httpx and use a
runtime of their own on the same store to set things up and to read
the audit trail. Each test works in namespaces of its own, so tests do
not depend on one another's data.
"""

from __future__ import annotations

import os
import secrets as _secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.server.app import create_app
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.jwt_keys import JwtService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.tokens import TokenService
from tests.conftest import PG_BASE, make_env
from tests.harness import PXS


@dataclass
class Live:
    """A running server, the store behind it and a way to mint tokens."""

    url: str
    config: Config
    runtime: Runtime
    clients: dict[tuple[str | None, str], httpx.Client] = field(default_factory=dict)

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        """A keep-alive client sending `token` (kept for the session)."""
        key = (token, repr(sorted(headers.items())))
        if key not in self.clients:
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            self.clients[key] = httpx.Client(
                base_url=self.url, headers=headers, timeout=30
            )
        return self.clients[key]

    def token(self, *scopes: str, expires_in: timedelta | None = None) -> str:
        text, _ = TokenService(self.runtime).create("test", list(scopes), expires_in)
        return text

    def expired_token(self, *scopes: str) -> str:
        """A token that expired an hour ago (created with an earlier clock)."""
        past = FrozenClock(datetime.now(UTC) - timedelta(hours=2))
        runtime = Runtime(self.config, clock=past)
        try:
            text, _ = TokenService(runtime).create(
                "expired", list(scopes), timedelta(hours=1)
            )
        finally:
            runtime.close()
        return text

    def revoked_token(self, *scopes: str) -> str:
        tokens = TokenService(self.runtime)
        text, info = tokens.create("revoked", list(scopes))
        tokens.revoke(info.id)
        return text


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1; yield its URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, name="pxs-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def _start(config: Config) -> Iterator[Live]:
    runtime = Runtime(config)
    initialise(runtime)
    with serve(create_app(config)) as url:
        live = Live(url, config, runtime)
        try:
            yield live
        finally:
            for client in live.clients.values():
                client.close()
            runtime.close()


def _config(home: Path, database_url: str) -> Config:
    env = make_env(home, database_url, Fernet.generate_key().decode())
    return load_config(env=env, actor="test:setup")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = tmp_path_factory.mktemp("server-sqlite")
    yield from _start(_config(home, f"sqlite:///{home / 'secrets.db'}"))


@pytest.fixture(scope="session")
def live_pg(
    tmp_path_factory: pytest.TempPathFactory, postgres_ready: bool
) -> Iterator[Live]:
    if not postgres_ready:
        pytest.skip(f"PostgreSQL at {PG_BASE} is not reachable")
    import psycopg

    schema = f"pxs_server_{_secrets.token_hex(6)}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
        yield from _start(_config(tmp_path_factory.mktemp("server-pg"), url))
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def any_live(request: pytest.FixtureRequest) -> Live:
    """The SQLite server, then the PostgreSQL one."""
    name = "live" if request.param == "sqlite" else "live_pg"
    served = request.getfixturevalue(name)
    assert isinstance(served, Live)
    return served


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses."""
    return f"t-{_secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def admin_token(live: Live) -> str:
    return live.token("*:admin")


@pytest.fixture(scope="session")
def jwt_key(live: Live) -> str:
    """The store's first JWT signing key (it signs at once)."""
    service = JwtService(live.runtime)
    keys = service.keys() or [service.rotate()]
    return keys[0].kid


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error response, checked for its shape."""
    assert response.headers["content-type"] == "application/problem+json"
    document = response.json()
    assert isinstance(document, dict)
    assert document["status"] == response.status_code
    assert document["type"].startswith("urn:platxa-secrets:problem:")
    assert document["request_id"] == response.headers["x-request-id"]
    return document


@dataclass
class Served:
    """`pxs serve` in a subprocess: its URL, its store and its stderr."""

    url: str
    process: subprocess.Popen[bytes]
    runtime: Runtime
    stderr_path: Path

    def stop(self) -> int:
        """SIGTERM, as Kubernetes sends it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        return self.process.returncode

    @property
    def stderr(self) -> bytes:
        return self.stderr_path.read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pxs_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "PLATXA_SECRETS_HOME": str(home / "pxs"),
        "PLATXA_SECRETS_MASTER_KEY": Fernet.generate_key().decode(),
    }


@contextmanager
def pxs_serve(env: dict[str, str], *args: str) -> Iterator[Served]:
    """Initialise a store from `env`, run `pxs serve` on it, wait until up."""
    config = load_config(env=env, actor="test:setup")
    runtime = Runtime(config)
    initialise(runtime)
    port = free_port()
    stderr_path = Path(env["HOME"]) / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [str(PXS), "serve", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    served = Served(f"http://127.0.0.1:{port}", process, runtime, stderr_path)
    try:
        _wait_until_up(served)
        yield served
    finally:
        served.stop()
        runtime.close()


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"pxs serve exited: {served.stderr.decode(errors='replace')}")
        try:
            if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("pxs serve did not answer within 30 s")
