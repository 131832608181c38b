"""`pxs serve` as an operator runs it: checks first, masked logs, SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from tests.harness import PXS
from tests.server.conftest import free_port, pxs_env, pxs_serve


def _serve_fails(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(PXS), "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )


def test_a_missing_store_stops_it_before_it_binds(tmp_path: Path) -> None:
    result = _serve_fails(pxs_env(tmp_path))

    stderr = result.stderr.decode()
    assert result.returncode == 6  # StoreError
    assert stderr.startswith("pxs: error: no store at ")
    assert "pxs init" in stderr
    assert "Traceback" not in stderr


def test_production_without_a_master_key_stops_it(tmp_path: Path) -> None:
    env = pxs_env(tmp_path)
    del env["PLATXA_SECRETS_MASTER_KEY"]
    env["PLATXA_SECRETS_ENV"] = "production"

    result = _serve_fails(env)

    assert result.returncode == 78  # ConfigError
    assert result.stderr.decode().count("\n") == 1


def test_serves_logs_without_query_strings_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = pxs_env(tmp_path)
    with pxs_serve(env) as served:
        from platxa_secrets.services.tokens import TokenService

        token, _ = TokenService(served.runtime).create("t", ["*:admin"])
        healthy = httpx.get(f"{served.url}/healthz")
        refused = httpx.get(f"{served.url}/v1/keys", params={"access_token": token})
        listed = httpx.get(
            f"{served.url}/v1/keys",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "cli-1"},
        )

        code = served.stop()
        stderr = served.stderr.decode()

    assert healthy.status_code == 200
    assert "server" not in healthy.headers
    assert refused.status_code == 401
    assert listed.status_code == 200
    # uvicorn finishes the requests in flight, then re-raises the signal.
    assert code in (0, -signal.SIGTERM)
    assert "Finished server process" in stderr
    assert "pxs: INFO: cli-1 GET /v1/keys 200" in stderr
    assert "access_token" not in stderr
    assert token not in stderr and token.split("_")[2] not in stderr


def test_a_port_in_use_is_one_line_and_exit_78(tmp_path: Path) -> None:
    env = pxs_env(tmp_path)
    subprocess.run([str(PXS), "init"], env=env, capture_output=True, check=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(PXS), "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 78
    assert result.stderr.decode() == (
        f"pxs: error: cannot listen on 127.0.0.1:{port} (Address already in use); "
        "choose another --host or --port\n"
    )


def test_several_workers(tmp_path: Path) -> None:
    with pxs_serve(pxs_env(tmp_path), "--workers", "2") as served:
        statuses = {httpx.get(f"{served.url}/readyz").status_code for _ in range(10)}
        code = served.stop()

    assert statuses == {200}
    assert code == 0


def test_connections_beyond_the_limit_get_503(tmp_path: Path) -> None:
    with pxs_serve(pxs_env(tmp_path), "--limit-concurrency", "2") as served:
        parts = urlsplit(served.url)
        with socket.create_connection((parts.hostname, parts.port)):
            refused = httpx.get(f"{served.url}/healthz")
        served.stop()

    assert refused.status_code == 503


def test_keep_alive_outlasts_clients_and_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Idle connections are closed by the client, never under its request."""
    import uvicorn

    from platxa_secrets import logs, masking
    from platxa_secrets.cli import serve as serve_module

    options: dict[str, Any] = {}
    monkeypatch.setattr(serve_module, "_check_store", lambda: None)
    monkeypatch.setattr(logs, "log_to_stderr", lambda *_: None)
    monkeypatch.setattr(masking, "install", lambda: None)
    monkeypatch.setattr(uvicorn, "run", lambda *_, **given: options.update(given))

    result = CliRunner().invoke(serve_module.serve, [])

    assert result.exit_code == 0, result.output
    assert options["timeout_keep_alive"] > 60  # nginx, cloud balancers: 60 s
    assert options["limit_concurrency"] == 1000
