"""Concurrent requests: each audit event names its own caller and request.

The runtime's actor and request id are per request; a server that let
two requests share them would file one caller's read under another's
name. Both execution modes are checked: inline on the event loop (the
default) and on worker threads.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from platxa_secrets.server.app import create_app
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.secrets import SecretService
from tests.server.conftest import Live, serve

CALLERS = 4
REQUESTS = 48


@pytest.mark.parametrize("threads", [0, 4])
def test_every_event_names_its_own_caller(
    any_live: Live, namespace: str, threads: int
) -> None:
    SecretService(any_live.runtime).put(namespace, "shared", {"K": b"v"})
    tokens = [any_live.token(f"{namespace}:write") for _ in range(CALLERS)]
    actors = [f"token:{token.split('_')[1]}" for token in tokens]
    plan = [(f"rq-{secrets.token_hex(6)}", i % CALLERS) for i in range(REQUESTS)]

    with serve(create_app(any_live.config, threads=threads)) as url:

        def call(request_id: str, caller: int) -> int:
            headers = {
                "Authorization": f"Bearer {tokens[caller]}",
                "X-Request-ID": request_id,
            }
            path = f"/v1/namespaces/{namespace}/secrets/shared"
            if caller % 2:
                return httpx.get(url + path, headers=headers).status_code
            body = {"string_data": {"K": request_id}}
            return httpx.put(url + path, headers=headers, json=body).status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(lambda step: call(*step), plan))

    events = {e.request_id: e for e in AuditLog(any_live.runtime).list(namespace, 1000)}
    assert statuses == [200] * REQUESTS
    for request_id, caller in plan:
        assert events[request_id].actor == actors[caller]
        expected = "secret.read" if caller % 2 else "secret.write"
        assert events[request_id].action == expected
