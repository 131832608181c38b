"""`POST /v1/webhooks/{receiver}`: notifications from Alertmanager.

The token needs the scope `webhook:<receiver>`; each receiver has its
own token, rotated with a grace period (`pxs token rotate --grace`).
The raw body goes to `WebhookService.receive`, which parses it as
untrusted, records each new alert and audits the delivery; a repeated
delivery changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from platxa_secrets.core.scopes import WEBHOOK
from platxa_secrets.server.auth import Caller, authenticated
from platxa_secrets.server.schemas.tokens import WebhookOut
from platxa_secrets.services.webhooks import WebhookService

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
CallerDep = Annotated[Caller, Depends(authenticated)]
Receiver = Annotated[
    str,
    Path(
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="the receiver, e.g. alertmanager",
    ),
]
_ALERTMANAGER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "an Alertmanager webhook notification (version 4)",
            }
        }
    },
}


@router.post(
    "/{receiver}",
    response_model=WebhookOut,
    summary="Receive a webhook notification",
    openapi_extra={"requestBody": _ALERTMANAGER_BODY},
)
async def receive(
    receiver: Receiver, request: Request, caller: CallerDep
) -> WebhookOut:
    caller.require_capability(f"{WEBHOOK}:{receiver}")
    body = await request.body()
    result = await caller.run(
        lambda slot: WebhookService(slot.runtime).receive(receiver, body)
    )
    return WebhookOut(
        receiver=result.receiver,
        received=result.received,
        recorded=result.recorded,
        duplicates=result.duplicates,
    )
