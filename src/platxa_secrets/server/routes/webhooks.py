"""`POST /v1/webhooks/{receiver}`: notifications from Alertmanager.

The token needs the scope `webhook:<receiver>`; each receiver has its
own token, rotated with a grace period (`pxs token rotate --grace`).
The raw body goes to `WebhookService.receive`, which parses it as
untrusted, records each new alert and audits the delivery; a repeated
delivery changes nothing.

The body is read here first, as far as HTTP is concerned: more than
1 MiB (the receiver's limit) is 413 as soon as the running size says
so, and a body that is not UTF-8 JSON at all is 400, like any other
route's, with a fixed message (a parser's message can quote what was
sent). What is JSON but not a notification is the service's 422,
naming the field.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.exceptions import HTTPException

from platxa_secrets.core.scopes import WEBHOOK
from platxa_secrets.server.auth import Caller, authenticated
from platxa_secrets.server.schemas.tokens import WebhookOut
from platxa_secrets.services.alertmanager import MAX_BODY_BYTES
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
                "description": "an Alertmanager webhook notification (version 4), "
                "at most 1 MiB",
            }
        }
    },
}


class NotificationTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            413, f"the notification is larger than {MAX_BODY_BYTES} bytes (1 MiB)"
        )


class NotJson(HTTPException):
    def __init__(self) -> None:
        super().__init__(400, "the request body is not valid UTF-8 JSON")


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
    body = await _read_capped(request)
    _check_json(body)

    result = await caller.run(
        lambda slot: WebhookService(slot.runtime).receive(receiver, body)
    )
    return WebhookOut(
        receiver=result.receiver,
        received=result.received,
        recorded=result.recorded,
        duplicates=result.duplicates,
    )


async def _read_capped(request: Request) -> bytes:
    """The body, refused as soon as it grows past the receiver's limit."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise NotificationTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _check_json(body: bytes) -> None:
    """400 for a body that is not UTF-8 JSON; the service judges the rest.

    Limits of the reader (nesting, long numbers) are left to the
    service, which names them; here only the syntax counts, and the
    parser's message, which quotes a position in the input, is dropped.
    """
    try:
        json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NotJson from None
    except (ValueError, RecursionError):
        return
