"""What the app shares between requests: config, runtimes and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from platxa_secrets.core.config import Config
from platxa_secrets.server.metrics import Metrics
from platxa_secrets.server.runtimes import Runtimes


@dataclass(frozen=True)
class ServerState:
    config: Config
    runtimes: Runtimes
    metrics: Metrics


def state_of(connection: HTTPConnection) -> ServerState:
    state = connection.app.state.pxs
    assert isinstance(state, ServerState)
    return state
