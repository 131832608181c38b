"""`pxs serve`: run the HTTP API under uvicorn.

The store is checked before a port is bound (master key, schema, an
active data key), so a misconfigured replica exits at once with the
usual one-line error instead of starting and failing its readiness
probe. The server binds 127.0.0.1 unless told otherwise: in a container
pass `--host 0.0.0.0` (the manifests in deploy/kubernetes do).

Logging: uvicorn's access log is off, because it prints the query
string, which is exactly where a misplaced token would be; the server
writes its own access line (method, path, status, time, request id).
Every handler masks key and token shapes (`platxa_secrets.masking`).
SIGTERM stops accepting connections and lets requests in flight finish
(up to `GRACEFUL_SECONDS`), as Kubernetes expects during a rollout.

Connections: beyond `--limit-concurrency` open connections (or
requests in flight) in a worker, uvicorn answers 503 at once instead
of queueing without bound; a request body must arrive within 30 s
(the app answers 408, see `server.edge`). An idle keep-alive
connection is kept `KEEP_ALIVE_SECONDS`: longer than the idle timeout
of the clients and proxies in front (httpx 5 s, nginx and cloud load
balancers 60 s), so it is always the client that closes an idle
connection. Were the server to close first, a request sent on the
connection at that moment could fail with a reset (httpx `ReadError`).
"""

from __future__ import annotations

from typing import Any

import click

from platxa_secrets import logs

APP_FACTORY = "platxa_secrets.server.app:app_from_environment"
GRACEFUL_SECONDS = 20
KEEP_ALIVE_SECONDS = 75
LIMIT_CONCURRENCY = 1000
LOG_LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10}
_FORMAT = "pxs: %(levelname)s: %(message)s"


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 listens on every interface.",
)
@click.option("--port", default=8200, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each with its own database connections).",
)
@click.option(
    "--limit-concurrency",
    default=LIMIT_CONCURRENCY,
    show_default=True,
    type=click.IntRange(2, 1_000_000),  # uvicorn counts the asking connection too
    help="Connections or requests in flight per worker beyond which "
    "new requests get 503.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(tuple(LOG_LEVELS)),
    help="info logs one line per request.",
)
def serve(
    host: str, port: int, workers: int, limit_concurrency: int, log_level: str
) -> None:
    """Run the HTTP API (secrets, encryption, JWT, webhooks, metrics)."""
    import uvicorn

    from platxa_secrets.masking import install

    _check_store()
    _check_address(host, port)

    logs.log_to_stderr(LOG_LEVELS[log_level], "pxs")
    install()

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=log_config(log_level),
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        limit_concurrency=limit_concurrency,
    )


def _check_address(host: str, port: int) -> None:
    """Fail with one line, before uvicorn starts, when the address is taken.

    uvicorn would log a traceback-like error and exit 3, which this CLI
    uses for "not found".
    """
    import socket

    from platxa_secrets.errors import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or 'unavailable'}); "
            "choose another --host or --port",
            field="port",
        ) from None


def _check_store() -> None:
    """Raise the usual error if the server could not serve."""
    from platxa_secrets.core.config import load_config
    from platxa_secrets.errors import StoreError
    from platxa_secrets.services.runtime import Runtime

    runtime = Runtime(load_config(actor="server"))
    try:
        runtime.ready()
        if runtime.keyring().active_kid is None:
            raise StoreError(
                "the store has no active data key; run `pxs init` or "
                "`pxs keys maintain`",
                field="database_url",
            )
    finally:
        runtime.close()


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, applied in every worker: one masked stderr handler.

    `uvicorn.access` is silenced whatever the level: the server writes
    its own access line without the query string.
    """
    shown = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask": {"()": "platxa_secrets.masking.MaskingFilter"}},
        "formatters": {"plain": {"format": _FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "plain",
                "filters": ["mask"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": shown, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "platxa_secrets": {
                "handlers": ["stderr"],
                "level": shown,
                "propagate": False,
            },
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
