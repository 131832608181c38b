"""Property-based run over /openapi.json against the live server.

Schemathesis generates requests from the schema for every operation,
valid ones and invalid ones, sends them with an admin token and checks
two things: the server never answers 5xx, and every response matches
the schema it documents (errors as problem+json included). Bounded so
the whole run stays well under a minute.

The operations are driven through `APIOperation.as_strategy` and
Hypothesis: schemathesis' own pytest fixture loader
(`schemathesis.pytest.from_fixture`) fails on pytest 9, which no longer
has the node attribute it renames.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.server.conftest import Live

MAX_EXAMPLES = 20
CHECKS = [not_a_server_error, response_schema_conformance]


def test_no_server_error_and_schema_conformance(
    live: Live, admin_token: str, jwt_key: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    headers = {"Authorization": f"Bearer {admin_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(
                    base_url=live.url, headers=headers, checks=CHECKS, timeout=30
                )

            try:
                run()
            except Unsatisfiable:
                # Negative mode on an operation with no input to break.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # collected so every operation is tried
                failures.append(f"{operation.label} ({mode.value}): {exc}")

    assert not failures, "\n\n".join(failures)
    _assert_valid_requests_got_through(live)


def _assert_valid_requests_got_through(live: Live) -> None:
    """The run went past authentication and validation into the services."""
    metrics = live.client().get("/metrics").text
    for route, method in (
        ("/v1/namespaces/{namespace}/secrets/{name}", "PUT"),
        ("/v1/encrypt", "POST"),
        ("/v1/namespaces/{namespace}/secrets", "GET"),
        ("/v1/jwt/sign", "POST"),
    ):
        assert f'route="{route}",method="{method}",status="200"' in metrics, route
