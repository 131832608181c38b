"""Service tests share a clock the test moves and a store that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock
from platxa_secrets.core.config import Config
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def world(config: Config, clock: FrozenClock) -> Iterator[Platxa]:
    """An initialised store (SQLite and PostgreSQL) on `clock`."""
    runtime = Runtime(config, clock=clock, actor="test:operator")
    initialise(runtime)
    platxa = Platxa(runtime)
    yield platxa
    platxa.close()
