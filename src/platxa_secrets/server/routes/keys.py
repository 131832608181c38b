"""`/v1/keys`: the data keys, the census and rotation status (`*:admin`).

Read-only: rotation itself stays with `pxs keys rotate` and the
maintenance job, which run where the operator decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from platxa_secrets.clock import from_text, to_text
from platxa_secrets.core.crypto.keyring import ACTIVE, PENDING, RETIRED
from platxa_secrets.server.auth import Caller, authenticated
from platxa_secrets.server.schemas.keys import (
    CensusOut,
    KeyList,
    KeyOut,
    PendingKey,
    RetiredKey,
    RotationOut,
)
from platxa_secrets.server.state import state_of
from platxa_secrets.services.keys import KeyInfo, KeyService

router = APIRouter(prefix="/v1/keys", tags=["keys"])
CallerDep = Annotated[Caller, Depends(authenticated)]


@router.get("", response_model=KeyList, summary="List data keys")
async def list_keys(caller: CallerDep) -> KeyList:
    caller.require_admin()
    keys = await caller.run_recorded(
        "keys.list",
        None,
        lambda slot: KeyService(slot.runtime).list(),
        lambda found: f"{len(found)} keys",
    )
    return KeyList(items=[_key(info) for info in keys])


@router.get("/census", response_model=CensusOut, summary="Ciphertexts per key id")
async def census(caller: CallerDep) -> CensusOut:
    caller.require_admin()
    counts = await caller.run_recorded(
        "keys.census", None, lambda slot: KeyService(slot.runtime).census()
    )
    return CensusOut(
        ciphertexts={kid: n for kid, n in counts.items() if kid is not None},
        legacy=counts.get(None, 0),
        total=sum(counts.values()),
    )


@router.get("/rotation", response_model=RotationOut, summary="Rotation status")
async def rotation(caller: CallerDep) -> RotationOut:
    caller.require_admin()
    config = state_of(caller.request).config
    keys = await caller.run_recorded(
        "keys.rotation-status", None, lambda slot: KeyService(slot.runtime).list()
    )
    retention = config.key_retention
    return RotationOut(
        active=next((k.kid for k in keys if k.state == ACTIVE), None),
        pending=[
            PendingKey(kid=k.kid, activates_at=k.activates_at)
            for k in keys
            if k.state == PENDING
        ],
        retired=[
            RetiredKey(
                kid=k.kid,
                retired_at=k.retired_at,
                ciphertexts=k.ciphertexts,
                destroy_after=(
                    to_text(from_text(k.retired_at) + retention)
                    if k.retired_at
                    else None
                ),
            )
            for k in keys
            if k.state == RETIRED
        ],
        grace_period_seconds=int(config.grace_period.total_seconds()),
        key_retention_seconds=int(retention.total_seconds()),
    )


def _key(info: KeyInfo) -> KeyOut:
    return KeyOut(
        kid=info.kid,
        state=info.state,
        origin=info.origin,
        master_kid=info.master_kid,
        created_at=info.created_at,
        activates_at=info.activates_at,
        activated_at=info.activated_at,
        retired_at=info.retired_at,
        ciphertexts=info.ciphertexts,
    )
