"""`/v1/encrypt`, `/v1/decrypt`, `/v1/rewrap`: encryption as a service.

For services that keep ciphertext in their own tables (Platxa's Odoo
models): the same keyring and format as the store, through `Envelope`.
Each item's context starts with the namespace it belongs to; the
caller needs `write` on it to encrypt or rewrap and `read` to decrypt.
Every namespace of a batch is checked before any item is touched.

A ciphertext that does not decrypt (damaged, foreign, another context,
a destroyed key) is answered per item with only "invalid ciphertext":
which check failed stays in the operator's log, so the API is no
oracle. `rewrap` returns new ciphertexts and never a plaintext.

Each batch writes one audit event per namespace (`crypto.encrypt`,
`crypto.decrypt`, `crypto.rewrap`) with counts: a value's context is
the caller's naming, the value is never in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends

from platxa_secrets.errors import CryptoError
from platxa_secrets.logs import get_logger
from platxa_secrets.server.auth import Caller, authenticated
from platxa_secrets.server.problems import INVALID_CIPHERTEXT
from platxa_secrets.server.runtimes import Slot
from platxa_secrets.server.schemas.common import encode_base64
from platxa_secrets.server.schemas.crypto import (
    CiphertextOut,
    DecryptIn,
    DecryptOut,
    EncryptIn,
    EncryptOut,
    PlaintextResult,
    RewrapOut,
    RewrapResult,
    SealedItem,
    namespace_of,
)
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.envelope import Envelope

router = APIRouter(prefix="/v1", tags=["encryption"])
CallerDep = Annotated[Caller, Depends(authenticated)]
R = TypeVar("R")
log = get_logger(__name__)


@router.post("/encrypt", response_model=EncryptOut, summary="Encrypt values")
async def encrypt(body: EncryptIn, caller: CallerDep) -> EncryptOut:
    contexts = [item.context for item in body.items]
    _authorise(caller, contexts, "write")

    def work(envelope: Envelope) -> list[str]:
        return [envelope.encrypt(i.plaintext, i.context) for i in body.items]

    sealed = await _batch(caller, "crypto.encrypt", contexts, work, lambda _: True)
    return EncryptOut(items=[CiphertextOut(ciphertext=c) for c in sealed])


@router.post("/decrypt", response_model=DecryptOut, summary="Decrypt values")
async def decrypt(body: DecryptIn, caller: CallerDep) -> DecryptOut:
    contexts = [item.context for item in body.items]
    _authorise(caller, contexts, "read")
    failed = PlaintextResult(plaintext=None, error=INVALID_CIPHERTEXT)

    def work(envelope: Envelope) -> list[PlaintextResult]:
        def one(item: SealedItem) -> PlaintextResult:
            value = envelope.decrypt(item.ciphertext, item.context)
            return PlaintextResult(plaintext=encode_base64(value), error=None)

        return [_attempt(one, item, failed) for item in body.items]

    opened = await _batch(
        caller, "crypto.decrypt", contexts, work, lambda r: r.error is None
    )
    return DecryptOut(items=opened)


@router.post("/rewrap", response_model=RewrapOut, summary="Re-encrypt values")
async def rewrap(body: DecryptIn, caller: CallerDep) -> RewrapOut:
    contexts = [item.context for item in body.items]
    _authorise(caller, contexts, "write")
    failed = RewrapResult(ciphertext=None, error=INVALID_CIPHERTEXT)

    def work(envelope: Envelope) -> list[RewrapResult]:
        def one(item: SealedItem) -> RewrapResult:
            sealed = envelope.rewrap(item.ciphertext, item.context)
            return RewrapResult(ciphertext=sealed, error=None)

        return [_attempt(one, item, failed) for item in body.items]

    moved = await _batch(
        caller, "crypto.rewrap", contexts, work, lambda r: r.error is None
    )
    return RewrapOut(items=moved)


def _authorise(caller: Caller, contexts: Sequence[str], level: str) -> None:
    for namespace in sorted({namespace_of(context) for context in contexts}):
        caller.require(namespace, level)


def _attempt(open_one: Callable[[SealedItem], R], item: SealedItem, failed: R) -> R:
    """One item: its result, or `failed` when it does not decrypt."""
    try:
        return open_one(item)
    except CryptoError as exc:
        log.info("refused a ciphertext: %s", exc.message)
        return failed


async def _batch(
    caller: Caller,
    action: str,
    contexts: Sequence[str],
    work: Callable[[Envelope], list[R]],
    succeeded: Callable[[R], bool],
) -> list[R]:
    """Run a batch, then write one event per namespace with its counts."""

    def run(slot: Slot) -> list[R]:
        results = work(Envelope(slot.runtime))
        total: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        for context, result in zip(contexts, results, strict=True):
            namespace = namespace_of(context)
            total[namespace] += 1
            failed[namespace] += not succeeded(result)

        audit = AuditLog(slot.runtime)
        for namespace in sorted(total):
            bad = failed[namespace]
            audit.record(
                action,
                "error" if bad else "ok",
                namespace,
                detail=f"{total[namespace]} items"
                + (f", {bad} {INVALID_CIPHERTEXT}" if bad else ""),
            )
        return results

    return await caller.run(run)
