"""The keyring: the active key writes, every usable key reads, by key id."""

from __future__ import annotations

import base64
import csv
import dataclasses
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.core.crypto.ciphertext import format_ciphertext, frame
from platxa_secrets.core.crypto.fernet_keys import key_id, parse_legacy_key_line
from platxa_secrets.core.crypto.keyring import (
    ACTIVE,
    DESTROYED,
    ORIGIN_GENERATED,
    ORIGIN_LEGACY,
    PENDING,
    RETIRED,
    Decrypted,
    KeyRecord,
    Keyring,
)
from platxa_secrets.core.crypto.master import MasterKeys
from platxa_secrets.errors import CryptoError
from tests.core.helpers import CANARY, assert_no_leak, secret_forms

CONTEXT = "tenant-a/odoo-secrets/3/DB_PASSWORD"
VALUE = f"{CANARY}-db-password".encode()


class KeyMaker:
    """Makes stored key records the way the key service does."""

    def __init__(self, master: MasterKeys) -> None:
        self.master = master
        self.keys: dict[str, bytes] = {}

    def record(
        self,
        state: str = ACTIVE,
        origin: str = ORIGIN_GENERATED,
        key: bytes | None = None,
    ) -> KeyRecord:
        key = key or Fernet.generate_key()
        master_kid, wrapped = self.master.wrap(key)
        kid = key_id(key) if origin == ORIGIN_LEGACY else secrets.token_hex(4)
        self.keys[kid] = key
        return KeyRecord(
            kid=kid,
            state=state,
            origin=origin,
            master_kid=master_kid,
            wrapped_key=wrapped,
            created_at="2026-01-01T00:00:00.000000Z",
            created_by="test",
        )

    def ciphertext(self, kid: str, value: bytes, context: str) -> str:
        """What the keyring writes, made directly with the key of `kid`."""
        token = Fernet(self.keys[kid]).encrypt(frame(context, value))
        return format_ciphertext(kid, token)


@pytest.fixture
def maker(master: MasterKeys) -> KeyMaker:
    return KeyMaker(master)


def _with_state(record: KeyRecord, state: str) -> KeyRecord:
    return dataclasses.replace(record, state=state)


def _flip(ciphertext: str, index: int) -> str:
    """Change one byte of the token, keeping its length and shape."""
    prefix, _, token = ciphertext.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[index] ^= 0x01
    damaged = base64.urlsafe_b64encode(bytes(raw)).decode()
    return f"{prefix}:{damaged}" if prefix else damaged


# --- encrypt and decrypt --------------------------------------------------


@pytest.mark.parametrize(
    "value", [VALUE, b"", bytes(range(256)), b"\x00" * 5000], ids=len
)
def test_round_trip_with_context(
    maker: KeyMaker, master: MasterKeys, value: bytes
) -> None:
    active = maker.record()
    keyring = Keyring([active], master)

    ciphertext = keyring.encrypt(value, CONTEXT)
    decrypted = keyring.decrypt(ciphertext, CONTEXT)

    assert ciphertext.startswith(f"pxs1:{active.kid}:")
    assert decrypted.value == value
    assert decrypted.kid == active.kid
    assert decrypted.legacy is False


def test_ciphertext_does_not_contain_the_value(
    maker: KeyMaker, master: MasterKeys
) -> None:
    keyring = Keyring([maker.record()], master)

    ciphertext = keyring.encrypt(VALUE, CONTEXT)

    assert CANARY not in ciphertext
    assert base64.urlsafe_b64encode(VALUE).decode()[:12] not in ciphertext


def test_another_keyring_over_the_same_records_decrypts(
    maker: KeyMaker, master: MasterKeys
) -> None:
    records = [maker.record(), maker.record(RETIRED)]
    ciphertext = Keyring(records, master).encrypt(VALUE, CONTEXT)

    assert Keyring(records, master).decrypt(ciphertext, CONTEXT).value == VALUE


def test_bytes_ciphertext_is_accepted(maker: KeyMaker, master: MasterKeys) -> None:
    keyring = Keyring([maker.record()], master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)

    assert keyring.decrypt(ciphertext.encode(), CONTEXT).value == VALUE


@pytest.mark.parametrize(
    "other",
    [
        "tenant-b/odoo-secrets/3/DB_PASSWORD",
        "tenant-a/odoo-secrets/2/DB_PASSWORD",
        "tenant-a/odoo-secrets/3/ADMIN_PASSWORD",
        "",
    ],
    ids=["tenant", "version", "key", "empty"],
)
def test_wrong_context_is_refused(
    maker: KeyMaker, master: MasterKeys, other: str
) -> None:
    keyring = Keyring([maker.record()], master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)

    with pytest.raises(CryptoError) as info:
        keyring.decrypt(ciphertext, other, target="tenant-b/odoo-secrets v3")

    assert "tenant-b/odoo-secrets v3" in str(info.value)
    assert "copied from another row" in str(info.value)
    assert_no_leak(info.value, ciphertext, VALUE.decode())


def test_unknown_kid_is_refused_naming_it(maker: KeyMaker, master: MasterKeys) -> None:
    elsewhere = maker.record()
    ciphertext = Keyring([elsewhere], master).encrypt(VALUE, CONTEXT)
    keyring = Keyring([maker.record()], master)

    with pytest.raises(CryptoError) as info:
        keyring.decrypt(ciphertext, CONTEXT)

    assert elsewhere.kid in str(info.value)
    assert "does not know" in str(info.value)
    assert info.value.context["kid"] == elsewhere.kid
    assert_no_leak(info.value, ciphertext)


def test_destroyed_key_is_refused(maker: KeyMaker, master: MasterKeys) -> None:
    old = maker.record()
    ciphertext = Keyring([old], master).encrypt(VALUE, CONTEXT)
    keyring = Keyring([_with_state(old, DESTROYED), maker.record()], master)

    with pytest.raises(CryptoError) as info:
        keyring.decrypt(ciphertext, CONTEXT)

    assert old.kid in str(info.value)
    assert "destroyed" in str(info.value)
    assert_no_leak(info.value, ciphertext)


def test_destroyed_key_is_never_unwrapped(
    maker: KeyMaker, master: MasterKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = maker.record()
    ciphertext = Keyring([old], master).encrypt(VALUE, CONTEXT)
    keyring = Keyring([_with_state(old, DESTROYED)], master)
    unwrapped = _count_unwraps(monkeypatch)

    with pytest.raises(CryptoError):
        keyring.decrypt(ciphertext, CONTEXT)

    assert unwrapped == []


@pytest.mark.parametrize("state", [PENDING, RETIRED])
def test_pending_and_retired_keys_decrypt(
    maker: KeyMaker, master: MasterKeys, state: str
) -> None:
    record = maker.record()
    ciphertext = Keyring([record], master).encrypt(VALUE, CONTEXT)
    keyring = Keyring([_with_state(record, state), maker.record()], master)

    decrypted = keyring.decrypt(ciphertext, CONTEXT)

    assert (decrypted.value, decrypted.kid) == (VALUE, record.kid)


def test_only_the_active_key_encrypts(maker: KeyMaker, master: MasterKeys) -> None:
    records = [maker.record(PENDING), maker.record(RETIRED), maker.record(ACTIVE)]
    records += [maker.record(DESTROYED)]
    keyring = Keyring(records, master)

    ciphertext = keyring.encrypt(VALUE, CONTEXT)

    assert keyring.active_kid == records[2].kid
    assert ciphertext.startswith(f"pxs1:{records[2].kid}:")


@pytest.mark.parametrize(
    "states", [[], [PENDING], [RETIRED, DESTROYED], [PENDING, RETIRED]], ids=str
)
def test_no_active_key_refuses_to_encrypt(
    maker: KeyMaker, master: MasterKeys, states: list[str]
) -> None:
    keyring = Keyring([maker.record(state) for state in states], master)

    assert keyring.active_kid is None
    with pytest.raises(CryptoError, match="no active data key") as info:
        keyring.encrypt(VALUE, CONTEXT)

    assert_no_leak(info.value)


def test_two_active_keys_are_refused_at_construction(
    maker: KeyMaker, master: MasterKeys
) -> None:
    first, second = maker.record(), maker.record()

    with pytest.raises(CryptoError) as info:
        Keyring([first, maker.record(RETIRED), second], master)

    assert "2 active keys" in str(info.value)
    assert first.kid in str(info.value)
    assert second.kid in str(info.value)


# --- legacy tokens --------------------------------------------------------


def test_legacy_token_is_decrypted_by_legacy_key_and_flagged(
    maker: KeyMaker, master: MasterKeys
) -> None:
    legacy_key = base64.urlsafe_b64encode(b"old-odoo-config-string".ljust(32))
    legacy = maker.record(RETIRED, ORIGIN_LEGACY, key=legacy_key)
    token = Fernet(legacy_key).encrypt(VALUE).decode()
    keyring = Keyring([maker.record(), legacy, maker.record(RETIRED)], master)

    decrypted = keyring.decrypt(token, CONTEXT)

    assert decrypted == Decrypted(VALUE, legacy.kid, True)
    assert decrypted.legacy is True


def test_legacy_token_no_key_opens_is_refused(
    maker: KeyMaker, master: MasterKeys
) -> None:
    token = Fernet(Fernet.generate_key()).encrypt(VALUE).decode()
    keyring = Keyring([maker.record(), maker.record(RETIRED, ORIGIN_LEGACY)], master)

    with pytest.raises(CryptoError) as info:
        keyring.decrypt(token, CONTEXT)

    assert "legacy" in str(info.value)
    assert "import-legacy" in str(info.value)
    assert_no_leak(info.value, token)


def test_legacy_token_of_a_destroyed_key_is_refused(
    maker: KeyMaker, master: MasterKeys
) -> None:
    legacy = maker.record(DESTROYED, ORIGIN_LEGACY)
    token = Fernet(maker.keys[legacy.kid]).encrypt(VALUE).decode()
    keyring = Keyring([maker.record(), legacy], master)

    with pytest.raises(CryptoError, match="none of the"):
        keyring.decrypt(token, CONTEXT)


def test_legacy_fixture_decrypts_through_the_keyring(
    maker: KeyMaker, master: MasterKeys, fixtures_dir: Path
) -> None:
    folder = fixtures_dir / "legacy-odoo"
    lines = (folder / "legacy_keys.txt").read_text(encoding="utf-8").splitlines()
    legacy = [
        maker.record(RETIRED, ORIGIN_LEGACY, key=parse_legacy_key_line(line, "f"))
        for line in lines
    ]
    keyring = Keyring([maker.record(), *legacy], master)
    with (folder / "expected_plaintext.csv").open(newline="") as handle:
        expected = {row["id"]: row for row in csv.DictReader(handle)}
    with (folder / "instance_credential.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))

    kids = set()
    for row in rows:
        for column in ("db_password", "admin_password"):
            decrypted = keyring.decrypt(row[f"{column}_encrypted"], CONTEXT)
            assert decrypted.legacy is True
            assert decrypted.value.decode() == expected[row["id"]][column]
            kids.add(decrypted.kid)

    assert kids == {record.kid for record in legacy}


# --- tampering ------------------------------------------------------------


@pytest.mark.parametrize(
    "index", [1, 9, 30, 60, -1, -20], ids=["time", "iv", "body", "body2", "mac", "mac2"]
)
def test_tampered_token_fails_authentication(
    maker: KeyMaker, master: MasterKeys, index: int
) -> None:
    active = maker.record()
    keyring = Keyring([active], master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)
    damaged = _flip(ciphertext, index)
    assert keyring.kid_of(damaged, CONTEXT) == active.kid  # shape intact

    with pytest.raises(CryptoError) as info:
        keyring.decrypt(damaged, CONTEXT)

    assert "fails authentication" in str(info.value)
    assert active.kid in str(info.value)
    assert_no_leak(info.value, ciphertext, damaged, VALUE.decode())


def test_token_relabelled_with_another_kid_fails_authentication(
    maker: KeyMaker, master: MasterKeys
) -> None:
    first, second = maker.record(), maker.record(RETIRED)
    keyring = Keyring([first, second], master)
    token = keyring.encrypt(VALUE, CONTEXT).rpartition(":")[2]

    with pytest.raises(CryptoError, match="fails authentication"):
        keyring.decrypt(f"pxs1:{second.kid}:{token}", CONTEXT)


def test_tampered_legacy_token_is_refused(maker: KeyMaker, master: MasterKeys) -> None:
    legacy = maker.record(RETIRED, ORIGIN_LEGACY)
    token = Fernet(maker.keys[legacy.kid]).encrypt(VALUE).decode()
    keyring = Keyring([maker.record(), legacy], master)

    with pytest.raises(CryptoError):
        keyring.decrypt(_flip(token, 40), CONTEXT)


def test_damaged_wrapped_key_is_reported_for_its_kid(
    maker: KeyMaker, master: MasterKeys
) -> None:
    record = maker.record()
    ciphertext = Keyring([record], master).encrypt(VALUE, CONTEXT)
    _, other_wrapped = master.wrap(Fernet.generate_key())
    broken = dataclasses.replace(record, wrapped_key=other_wrapped[:-8] + "AAAAAAA=")

    with pytest.raises(CryptoError) as info:
        Keyring([broken], master).decrypt(ciphertext, CONTEXT)

    assert record.kid in str(info.value)
    assert_no_leak(info.value, broken.wrapped_key, ciphertext)


def test_stripped_prefix_does_not_bypass_the_binding(
    maker: KeyMaker, master: MasterKeys
) -> None:
    keyring = Keyring([maker.record()], master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)
    bare = ciphertext.rpartition(":")[2]

    with pytest.raises(CryptoError):
        keyring.decrypt(bare, "tenant-b/odoo-secrets/3/DB_PASSWORD")


def test_stripped_prefix_never_yields_frame_bytes_as_the_value(
    maker: KeyMaker, master: MasterKeys
) -> None:
    keyring = Keyring([maker.record()], master)
    bare = keyring.encrypt(VALUE, CONTEXT).rpartition(":")[2]

    try:
        decrypted = keyring.decrypt(bare, CONTEXT)
    except CryptoError:
        return
    assert decrypted.value == VALUE


# --- routing by key id ----------------------------------------------------


def _count_unwraps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the kid of every data key the master keys unwrap."""
    calls: list[str] = []
    original: Callable[[MasterKeys, str, str, str], bytes] = MasterKeys.unwrap

    def counting(self: MasterKeys, mkid: str, wrapped: str, kid: str) -> bytes:
        calls.append(kid)
        return original(self, mkid, wrapped, kid)

    monkeypatch.setattr(MasterKeys, "unwrap", counting)
    return calls


def test_decrypt_unwraps_only_the_key_it_needs(
    maker: KeyMaker, master: MasterKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [maker.record()] + [maker.record(RETIRED) for _ in range(49)]
    target = records[37]
    ciphertext = maker.ciphertext(target.kid, VALUE, CONTEXT)
    unwrapped = _count_unwraps(monkeypatch)

    keyring = Keyring(records, master)
    assert unwrapped == []

    assert keyring.decrypt(ciphertext, CONTEXT).value == VALUE
    assert unwrapped == [target.kid]

    assert keyring.decrypt(ciphertext, CONTEXT).kid == target.kid
    assert unwrapped == [target.kid]


def test_encrypt_unwraps_only_the_active_key(
    maker: KeyMaker, master: MasterKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [maker.record(RETIRED) for _ in range(49)] + [maker.record()]
    unwrapped = _count_unwraps(monkeypatch)
    keyring = Keyring(records, master)

    keyring.encrypt(VALUE, CONTEXT)
    keyring.encrypt(VALUE, CONTEXT)

    assert unwrapped == [records[-1].kid]


def test_damaged_prefixed_ciphertext_unwraps_nothing(
    maker: KeyMaker, master: MasterKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring([maker.record()], master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)
    unwrapped = _count_unwraps(monkeypatch)
    fresh = Keyring(keyring.records, master)

    with pytest.raises(CryptoError, match="trailing"):
        fresh.decrypt(ciphertext + "\n", CONTEXT)

    assert unwrapped == []


# --- nothing in repr ------------------------------------------------------


def test_reprs_show_no_key_or_value(maker: KeyMaker, master: MasterKeys) -> None:
    records = [maker.record(), maker.record(RETIRED)]
    keyring = Keyring(records, master)
    ciphertext = keyring.encrypt(VALUE, CONTEXT)
    decrypted = keyring.decrypt(ciphertext, CONTEXT)

    texts = [repr(keyring), str(keyring), repr(decrypted), str(decrypted)]
    texts += [repr(record) for record in records]
    forms = secret_forms(*maker.keys.values(), *(r.wrapped_key for r in records))
    forms |= {CANARY, VALUE.decode(), repr(VALUE)}
    for text in texts:
        for form in forms:
            assert form not in text, f"{form!r} in {text!r}"
    assert records[0].kid in repr(keyring)
    assert decrypted.kid in repr(decrypted)
