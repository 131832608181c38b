"""JWTs: the public JWKS, signing (`jwt:sign`) and verification.

`GET /.well-known/jwks.json` needs no token: relying parties fetch it
to verify what this service signs. It may be cached for a minute; a new
key is published `jwt_publish_grace` before it signs.

`POST /v1/jwt/verify` is open to any valid API token. A JWT that fails
any check (signature, `alg: none`, unknown kid, expired, audience) is
400 with the one word "invalid token": the caller's own credential is
fine, so this is deliberately not a 401, which would tell HTTP clients
to drop it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from platxa_secrets.core.scopes import JWT_SIGN
from platxa_secrets.errors import AuthenticationError
from platxa_secrets.logs import get_logger
from platxa_secrets.server.auth import Caller, authenticated
from platxa_secrets.server.edge import request_id_of
from platxa_secrets.server.problems import InvalidJwt, body_fields
from platxa_secrets.server.runtimes import ANONYMOUS, Slot
from platxa_secrets.server.schemas.tokens import (
    Jwks,
    SignIn,
    SignOut,
    VerifyIn,
    VerifyOut,
)
from platxa_secrets.server.state import state_of
from platxa_secrets.services.audit import AuditLog

router = APIRouter(tags=["jwt"])
CallerDep = Annotated[Caller, Depends(authenticated)]
log = get_logger(__name__)


@router.get("/.well-known/jwks.json", response_model=Jwks, summary="Published JWT keys")
async def jwks(request: Request, response: Response) -> dict[str, Any]:
    keys = await state_of(request).runtimes.call(
        ANONYMOUS, request_id_of(request.scope), lambda slot: slot.jwt.jwks()
    )
    # An empty set is not cached: the first key signs at once, and a
    # relying party must not keep "no keys" for a minute.
    cached = bool(keys.get("keys"))
    response.headers["Cache-Control"] = "public, max-age=60" if cached else "no-store"
    return keys


@router.post("/v1/jwt/sign", response_model=SignOut, summary="Sign a JWT")
async def sign(body: SignIn, caller: CallerDep) -> SignOut:
    caller.require_capability(JWT_SIGN)
    ttl = timedelta(seconds=body.ttl) if body.ttl is not None else None
    with body_fields({"claims": "claims", "ttl": "ttl", "audience": "audience"}):
        token = await caller.run(
            lambda slot: slot.jwt.sign(body.claims, ttl=ttl, audience=body.audience)
        )
    return SignOut(token=token)


@router.post("/v1/jwt/verify", response_model=VerifyOut, summary="Verify a JWT")
async def verify(body: VerifyIn, caller: CallerDep) -> VerifyOut:
    def work(slot: Slot) -> dict[str, Any]:
        try:
            claims = slot.jwt.verify(body.token, audience=body.audience)
        except AuthenticationError as exc:
            reason = str(getattr(exc, "reason", "invalid"))
            AuditLog(slot.runtime).record("jwt.verify", "error", detail=reason)
            raise InvalidJwt("invalid token", reason=reason) from None
        AuditLog(slot.runtime).record("jwt.verify", "ok")
        return claims

    return VerifyOut(claims=await caller.run(work))
