"""`/healthz`, `/readyz` and `/metrics`: the three routes without a token.

- `/healthz`: the process answers (liveness);
- `/readyz`: the store answers at the expected schema and the keyring
  loads with an active data key; 503 otherwise (readiness), so a
  replica whose database is gone leaves the Service until it is back;
- `/metrics`: Prometheus text, see `server.metrics`; it answers even
  when the store does not, without the census then.

None of them names a token, a value or the database URL.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from platxa_secrets.core.store.schema_check import check_schema
from platxa_secrets.errors import PlatxaSecretsError, StoreError
from platxa_secrets.logs import get_logger
from platxa_secrets.server.edge import request_id_of
from platxa_secrets.server.metrics import CONTENT_TYPE
from platxa_secrets.server.runtimes import ANONYMOUS, Slot
from platxa_secrets.server.schemas.common import Health
from platxa_secrets.server.state import state_of
from platxa_secrets.services.keys import KeyService

router = APIRouter(tags=["health"])
log = get_logger(__name__)


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="Readiness")
async def readyz(request: Request) -> Health:
    def check(slot: Slot) -> None:
        runtime = slot.runtime
        try:
            runtime.ready()
            check_schema(runtime.database)  # every time: the store may be gone
            active = runtime.keyring().active_kid
        except PlatxaSecretsError as exc:
            raise StoreError(f"not ready: {exc.message}") from None
        if active is None:
            raise StoreError("not ready: the keyring has no active data key")

    await state_of(request).runtimes.call(
        ANONYMOUS, request_id_of(request.scope), check
    )
    return Health(status="ready")


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus")
async def metrics(request: Request) -> PlainTextResponse:
    """The HTTP counters always; the census when the store can count it.

    The counters matter most when the store is failing, so a store
    that cannot answer only leaves the census out (and says so in
    `pxs_census_up`); the next scrape tries again.
    """
    state = state_of(request)
    census = state.metrics.cached_census()
    if census is None:
        try:
            counts = await state.runtimes.call(
                ANONYMOUS,
                request_id_of(request.scope),
                lambda slot: KeyService(slot.runtime).census(),
            )
        except PlatxaSecretsError as exc:
            log.warning("metrics without the census: %s", type(exc).__name__)
        else:
            census = state.metrics.store_census(counts)
    return PlainTextResponse(state.metrics.render(census), media_type=CONTENT_TYPE)
