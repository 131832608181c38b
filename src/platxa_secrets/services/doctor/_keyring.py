"""Checks on the keyring: one active key, nothing overdue, all unwrap."""

from __future__ import annotations

from collections.abc import Iterator

from platxa_secrets.clock import from_text
from platxa_secrets.core.crypto.keyring import ACTIVE, DESTROYED, PENDING, RETIRED
from platxa_secrets.errors import PlatxaSecretsError
from platxa_secrets.services.doctor._model import FAIL, PASS, WARN, Finding
from platxa_secrets.services.keys import KeyInfo, KeyService
from platxa_secrets.services.runtime import Runtime

_MAINTAIN = "run `pxs keys maintain` (the CronJob in deploy/kubernetes does)"


def check_keyring(runtime: Runtime) -> Iterator[Finding]:
    keys = KeyService(runtime).list()
    yield _one_active(keys)
    yield from _unwraps(runtime, keys)
    yield from _overdue(runtime, keys)
    yield _census(runtime)


def _one_active(keys: list[KeyInfo]) -> Finding:
    active = [k.kid for k in keys if k.state == ACTIVE]
    if len(active) == 1:
        return Finding("keyring.active", PASS, f"one active data key: {active[0]}")
    if not active:
        return Finding(
            "keyring.active",
            FAIL,
            "no active data key: nothing can be written",
            "run `pxs init` (new store) or `pxs keys activate KID`",
        )
    return Finding(
        "keyring.active",
        FAIL,
        f"{len(active)} active keys: {', '.join(active)}",
        "retire all but one with `pxs keys activate KID`",
    )


def _unwraps(runtime: Runtime, keys: list[KeyInfo]) -> Iterator[Finding]:
    keyring = runtime.keyring()
    broken = []
    for key in keys:
        if key.state == DESTROYED:
            continue
        try:
            keyring.check_unwraps(key.kid)
        except PlatxaSecretsError:
            broken.append(f"{key.kid} (wrapped by master key {key.master_kid})")
    if broken:
        yield Finding(
            "keyring.unwrap",
            FAIL,
            "the configured master keys cannot unwrap: " + ", ".join(broken),
            "supply the master key that wrapped them (a comma-separated list "
            "keeps the old one readable), then `pxs master rotate`",
        )
    else:
        yield Finding("keyring.unwrap", PASS, "every data key unwraps")


def _overdue(runtime: Runtime, keys: list[KeyInfo]) -> Iterator[Finding]:
    now = runtime.clock.now()
    config = runtime.config

    late = [
        k.kid
        for k in keys
        if k.state == PENDING and k.activates_at and from_text(k.activates_at) <= now
    ]
    yield (
        Finding(
            "keyring.activation",
            WARN,
            f"pending key {late[0]} is past its activation time",
            _MAINTAIN,
        )
        if late
        else Finding("keyring.activation", PASS, "no activation overdue")
    )

    retired = [k for k in keys if k.state == RETIRED and k.retired_at]
    stale = [
        k
        for k in retired
        if k.ciphertexts and from_text(k.retired_at or "") + config.grace_period <= now
    ]
    yield (
        Finding(
            "keyring.reencryption",
            WARN,
            "retired past the grace period and still in use: "
            + ", ".join(f"{k.kid} ({k.ciphertexts} ciphertexts)" for k in stale),
            "run `pxs keys reencrypt`",
        )
        if stale
        else Finding("keyring.reencryption", PASS, "no re-encryption overdue")
    )

    unused = [
        k.kid
        for k in retired
        if not k.ciphertexts
        and from_text(k.retired_at or "") + config.key_retention <= now
    ]
    yield (
        Finding(
            "keyring.destruction",
            WARN,
            "past retention with no ciphertext, not destroyed: " + ", ".join(unused),
            _MAINTAIN,
        )
        if unused
        else Finding("keyring.destruction", PASS, "no destruction overdue")
    )


def _census(runtime: Runtime) -> Finding:
    counts = KeyService(runtime).census()
    legacy = counts.pop(None, 0)
    shown = ", ".join(f"{kid}: {n}" for kid, n in sorted(counts.items(), key=str))
    if legacy:
        return Finding(
            "keyring.census",
            WARN,
            f"{legacy} legacy ciphertexts without a key id ({shown or 'no others'})",
            "run `pxs keys reencrypt` to move them under the active key",
        )
    return Finding("keyring.census", PASS, f"ciphertexts per key: {shown or 'none'}")
