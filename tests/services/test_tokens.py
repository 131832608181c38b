"""API tokens on SQLite and PostgreSQL, with a clock the test moves."""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import timedelta
from typing import Any

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.clock import FrozenClock, to_text
from platxa_secrets.core import token_format
from platxa_secrets.core.crypto import compare
from platxa_secrets.core.scopes import Scope
from platxa_secrets.core.store import token_rows
from platxa_secrets.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from platxa_secrets.services.tokens import TokenService
from tests.core.helpers import assert_no_leak

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def service(world: Platxa) -> TokenService:
    return TokenService(world.runtime)


def forge(token_id: str, secret: str) -> str:
    """A token with a valid checksum: it passes the parser, not the store."""
    body = f"{token_format.PREFIX}{token_id}_{secret}"
    return f"{body}_{token_format.checksum(body)}"


def secret_of(text: str) -> str:
    return token_format.parse_token(text).secret


def rows(world: Platxa, table: str) -> list[tuple[Any, ...]]:
    with world.runtime.database.read() as tx:
        return tx.all(f"SELECT * FROM {table}")


def events(world: Platxa) -> list[tuple[Any, ...]]:
    """(action, actor, name, outcome, detail) of each token event."""
    with world.runtime.database.read() as tx:
        return tx.all(
            "SELECT action, actor, name, outcome, detail FROM audit_events "
            "WHERE action LIKE 'token.%' ORDER BY id"
        )


def refusal(service: TokenService, text: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as caught:
        service.authenticate(text)
    assert caught.value.message == "invalid token"
    assert str(caught.value) == "invalid token"
    return caught.value


# -- create and authenticate ------------------------------------------------


def test_a_created_token_authenticates_as_its_principal(
    world: Platxa, service: TokenService
) -> None:
    text, info = service.create("deploy bot", ["tenant-*:read", "jwt:sign"], 30 * DAY)

    principal = service.authenticate(text)

    assert principal.token_id == info.id
    assert principal.name == "deploy bot"
    assert principal.scopes == (Scope("tenant-*", "read"), Scope("jwt", "sign"))
    assert principal.actor == f"token:{info.id}"
    principal.require("tenant-acme", "read")
    principal.require_capability("jwt:sign")
    with pytest.raises(PermissionDeniedError):
        principal.require("tenant-acme", "write")

    assert info.state == "active"
    assert info.scopes == ("tenant-*:read", "jwt:sign")
    assert info.created_by == "test:operator"
    assert info.expires_at == to_text(world.runtime.clock.now() + 30 * DAY)
    assert info.rotated_from is None


def test_only_the_sha256_of_the_secret_is_stored(
    world: Platxa, service: TokenService
) -> None:
    text, _ = service.create("ci", ["tenant-a:write"], None)
    secret = secret_of(text)

    [row] = rows(world, "api_tokens")
    stored = {str(column) for column in row if column is not None}

    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    for column in stored:
        assert secret not in column
        assert text not in column
    if world.runtime.database.path is not None:
        world.runtime.close()
        for path in world.runtime.database.path.parent.glob("secrets.db*"):
            blob = path.read_bytes()
            assert secret.encode() not in blob, path
            assert text.encode() not in blob, path


def test_scopes_are_parsed_and_deduplicated(service: TokenService) -> None:
    _, info = service.create("x", [" tenant-a:read", "tenant-a:read", "*:admin"])

    assert info.scopes == ("tenant-a:read", "*:admin")
    assert info.expires_at is None


@pytest.mark.parametrize(
    ("name", "scopes", "lifetime", "field"),
    [
        ("", ["a:read"], None, "name"),
        ("x" * 201, ["a:read"], None, "name"),
        ("line\nbreak", ["a:read"], None, "name"),
        ("tab\there", ["a:read"], None, "name"),
        ("   ", ["a:read"], None, "name"),
        ("ok", [], None, "scope"),
        ("ok", ["tenant-a"], None, "scope"),
        ("ok", ["tenant-a:own"], None, "scope"),
        ("ok", ["Tenant_A:read"], None, "scope"),
        ("ok", ["a:read"], timedelta(0), "expires_in"),
        ("ok", ["a:read"], -HOUR, "expires_in"),
        ("ok", ["a:read"], timedelta(days=3651), "expires_in"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: Platxa,
    service: TokenService,
    name: str,
    scopes: list[str],
    lifetime: timedelta | None,
    field: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        service.create(name, scopes, lifetime)

    assert caught.value.field == field
    words = {"name": "name", "scope": "scope", "expires_in": "expiry"}
    assert words[field] in caught.value.message
    assert rows(world, "api_tokens") == []
    assert events(world) == []


def test_the_longest_name_and_lifetime_are_accepted(service: TokenService) -> None:
    _, info = service.create("n" * 200, ["a:read"], timedelta(days=3650))

    assert info.name == "n" * 200


def test_a_name_that_holds_a_token_is_refused_without_echoing_it(
    world: Platxa, service: TokenService
) -> None:
    leaked, _ = token_format.new_token()

    with pytest.raises(ValidationError) as caught:
        service.create(f"for {leaked}", ["a:read"])

    assert caught.value.field == "name"
    assert "revoke it" in caught.value.message
    assert_no_leak(caught.value, secret_of(leaked))
    assert leaked not in repr(caught.value)
    assert rows(world, "api_tokens") == []


# -- authentication failures ------------------------------------------------


def test_every_failure_says_only_invalid_token(
    world: Platxa, service: TokenService, clock: FrozenClock
) -> None:
    good, info = service.create("t", ["a:read"], HOUR)
    revoked, revoked_info = service.create("r", ["a:read"])
    service.revoke(revoked_info.id)
    unknown, _ = token_format.new_token()
    other_secret = secret_of(token_format.new_token()[0])
    typo = good[:-1] + ("A" if good[-1] != "A" else "B")

    reasons = {
        "malformed": refusal(service, good + "x").reason,
        "typo": refusal(service, typo).reason,
        "unknown": refusal(service, unknown).reason,
        "wrong": refusal(service, forge(info.id, other_secret)).reason,
        "revoked": refusal(service, revoked).reason,
    }
    clock.advance(HOUR)
    reasons["expired"] = refusal(service, good).reason

    assert reasons == {
        "malformed": "malformed token",
        "typo": "token checksum mismatch",
        "unknown": "unknown token id",
        "wrong": "wrong token secret",
        "revoked": "token revoked",
        "expired": "token expired",
    }


def test_an_unknown_id_still_costs_a_hash_and_a_comparison(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    real = compare.secret_equal

    def spy(a: bytes | str, b: bytes | str) -> bool:
        compared.append((str(a), str(b)))
        return real(a, b)

    monkeypatch.setattr("platxa_secrets.services.tokens.secret_equal", spy)
    unknown, parts = token_format.new_token()

    refusal(service, unknown)

    assert compared == [(parts.secret_sha256(), "0" * 64)]


def test_a_token_expires_at_its_expiry_not_before(
    service: TokenService, clock: FrozenClock
) -> None:
    text, _ = service.create("t", ["a:read"], HOUR)

    clock.advance(HOUR - timedelta(microseconds=1))
    service.authenticate(text)
    clock.advance(timedelta(microseconds=1))
    assert refusal(service, text).reason == "token expired"

    assert [t.state for t in service.list()] == ["expired"]


def test_authenticate_records_use_at_most_once_a_minute_and_no_audit_event(
    world: Platxa,
    service: TokenService,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, info = service.create("t", ["a:read"])
    audit_before = len(rows(world, "audit_events"))
    writes: list[str] = []
    real = token_rows.touch_token

    def counting(tx: Any, token_id: str, at: str) -> None:
        writes.append(at)
        real(tx, token_id, at)

    monkeypatch.setattr(token_rows, "touch_token", counting)
    first = to_text(clock.now())

    for _ in range(5):
        service.authenticate(text)
    clock.advance(timedelta(seconds=59))
    service.authenticate(text)
    TokenService(world.runtime).authenticate(text)  # no memo: reads the row
    refusal(service, forge(info.id, "A" * 40))
    assert writes == [first]
    assert service.get(info.id).last_used_at == first

    clock.advance(timedelta(seconds=1))
    service.authenticate(text)
    assert writes == [first, to_text(clock.now())]
    assert service.get(info.id).last_used_at == to_text(clock.now())
    assert len(rows(world, "audit_events")) == audit_before


def test_one_service_serves_several_threads(service: TokenService) -> None:
    text, info = service.create("t", ["a:read"])
    wrong = forge(info.id, "B" * 40)
    failures: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(40):
                assert service.authenticate(text).token_id == info.id
                with pytest.raises(AuthenticationError):
                    service.authenticate(wrong)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []


# -- list, get, revoke --------------------------------------------------------


def test_list_shows_states_and_hides_revoked_unless_asked(
    service: TokenService, clock: FrozenClock
) -> None:
    _, short = service.create("short", ["a:read"], HOUR)
    _, gone = service.create("gone", ["a:read"])
    _, kept = service.create("kept", ["a:read"])
    service.revoke(gone.id)
    clock.advance(2 * HOUR)

    assert {t.name: t.state for t in service.list()} == {
        "short": "expired",
        "kept": "active",
    }
    listed = {t.id: t for t in service.list(include_revoked=True)}
    assert listed[gone.id].state == "revoked"
    assert listed[gone.id].revoked_at is not None
    assert listed[short.id].state == "expired"
    assert listed[kept.id].state == "active"


def test_revoking_stops_the_token_and_a_second_revoke_is_a_conflict(
    world: Platxa, service: TokenService
) -> None:
    text, info = service.create("t", ["a:read"])
    service.authenticate(text)

    revoked = service.revoke(info.id)
    assert revoked.state == "revoked"
    assert refusal(service, text).reason == "token revoked"

    with pytest.raises(ConflictError) as caught:
        service.revoke(info.id)
    assert info.id in caught.value.message
    assert "already revoked" in caught.value.message
    assert [e[0] for e in events(world)] == [
        "token.create",
        "token.revoke",
        "token.revoke",
    ]
    assert [e[3] for e in events(world)] == ["ok", "ok", "error"]


def test_an_unknown_id_is_not_found_and_a_malformed_one_is_invalid(
    service: TokenService,
) -> None:
    with pytest.raises(NotFoundError) as missing:
        service.revoke("abcdefabcdef")
    assert "abcdefabcdef" in missing.value.message
    with pytest.raises(NotFoundError):
        service.rotate("abcdefabcdef", HOUR)
    with pytest.raises(NotFoundError):
        service.get("abcdefabcdef")

    for bad in ("", "ABCDEFABCDEF", "abc", "abcdefabcdef0"):
        with pytest.raises(ValidationError) as invalid:
            service.revoke(bad)
        assert invalid.value.field == "token_id"


def test_a_whole_token_given_as_an_id_is_refused_without_echoing_it(
    service: TokenService,
) -> None:
    text, _ = service.create("t", ["a:read"])

    with pytest.raises(ValidationError) as caught:
        service.revoke(text)

    assert "whole token" in caught.value.message
    assert text not in caught.value.message
    assert_no_leak(caught.value, secret_of(text))


# -- rotation -------------------------------------------------------------------


def test_rotation_overlaps_for_the_grace_period_then_only_the_new_one_works(
    world: Platxa, service: TokenService, clock: FrozenClock
) -> None:
    old_text, old = service.create("alertmanager", ["webhook:alertmanager"], 30 * DAY)
    clock.advance(DAY)

    new_text, new = service.rotate(old.id, HOUR)

    assert new_text != old_text
    assert (new.name, new.scopes, new.rotated_from) == (old.name, old.scopes, old.id)
    assert new.expires_at == to_text(clock.now() + 30 * DAY)
    assert service.get(old.id).expires_at == to_text(clock.now() + HOUR)

    clock.advance(HOUR - timedelta(seconds=1))
    assert service.authenticate(old_text).token_id == old.id
    assert service.authenticate(new_text).token_id == new.id

    clock.advance(timedelta(seconds=1))
    assert refusal(service, old_text).reason == "token expired"
    assert service.authenticate(new_text).scopes == (Scope("webhook", "alertmanager"),)
    assert {t.id: t.state for t in service.list()} == {
        old.id: "expired",
        new.id: "active",
    }
    [*_, rotated] = events(world)
    assert rotated[:4] == ("token.rotate", "test:operator", old.id, "ok")
    assert new.id in (rotated[4] or "")


def test_rotation_never_extends_the_old_token(
    service: TokenService, clock: FrozenClock
) -> None:
    old_text, old = service.create("t", ["a:read"], HOUR)
    clock.advance(HOUR - 10 * timedelta(minutes=1))

    _, new = service.rotate(old.id, DAY)

    assert service.get(old.id).expires_at == old.expires_at
    assert new.expires_at == to_text(clock.now() + HOUR)
    clock.advance(10 * timedelta(minutes=1))
    assert refusal(service, old_text).reason == "token expired"


def test_rotating_a_token_without_expiry_gives_one_without_expiry(
    service: TokenService, clock: FrozenClock
) -> None:
    old_text, old = service.create("t", ["a:read"])

    new_text, new = service.rotate(old.id, timedelta(0))

    assert new.expires_at is None
    assert service.get(old.id).expires_at == to_text(clock.now())
    assert refusal(service, old_text).reason == "token expired"
    service.authenticate(new_text)


def test_rotation_is_refused_for_revoked_expired_or_already_rotated_tokens(
    world: Platxa, service: TokenService, clock: FrozenClock
) -> None:
    _, revoked = service.create("r", ["a:read"])
    service.revoke(revoked.id)
    _, short = service.create("s", ["a:read"], HOUR)
    _, rotated = service.create("o", ["a:read"])
    _, successor = service.rotate(rotated.id, HOUR)
    clock.advance(HOUR)
    before = rows(world, "api_tokens")

    for token_id, words in (
        (revoked.id, "is revoked"),
        (short.id, "expired at"),
        (rotated.id, f"already rotated into {successor.id}"),
    ):
        with pytest.raises(ConflictError) as caught:
            service.rotate(token_id, HOUR)
        assert words in caught.value.message
    with pytest.raises(ValidationError) as negative:
        service.rotate(successor.id, -HOUR)
    assert negative.value.field == "grace"

    assert sorted(rows(world, "api_tokens")) == sorted(before)


def test_a_token_whose_successor_was_revoked_can_be_rotated_again(
    service: TokenService,
) -> None:
    _, first = service.create("hook", ["webhook:alertmanager"], DAY)
    _, second = service.rotate(first.id, HOUR)
    service.revoke(second.id)

    text, third = service.rotate(first.id, HOUR)

    assert third.rotated_from == first.id
    assert service.authenticate(text).token_id == third.id


# -- no leaks -----------------------------------------------------------------


def test_a_token_appears_in_no_audit_row_log_record_or_repr(
    world: Platxa,
    service: TokenService,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    text, info = service.create("canary", ["tenant-a:read"], DAY)
    new_text, new = service.rotate(info.id, HOUR)
    principal = service.authenticate(new_text)
    shown: list[str] = [repr(info), repr(new), repr(principal), repr(service.list())]
    failures: list[BaseException] = []
    for attempt in (text + "x", forge(info.id, "C" * 40), new_text.upper()):
        with pytest.raises(AuthenticationError) as caught:
            service.authenticate(attempt)
        failures.append(caught.value)
    service.revoke(new.id)
    clock.advance(2 * HOUR)
    for attempt in (text, new_text):
        with pytest.raises(AuthenticationError) as caught:
            service.authenticate(attempt)
        failures.append(caught.value)
    with world.runtime.database.read() as tx:
        shown.append(repr(token_rows.find_token(tx, info.id)))

    planted = [text, new_text, secret_of(text), secret_of(new_text)]
    digests = [
        hashlib.sha256(secret_of(t).encode()).hexdigest() for t in (text, new_text)
    ]
    audit = [str(column) for row in rows(world, "audit_events") for column in row]
    logged = [record.getMessage() for record in caplog.records]
    assert logged, "the operations should have logged something"
    for place in audit + logged + shown:
        for value in planted + digests:
            assert value not in place
    for failure in failures:
        assert_no_leak(failure, secret_of(text), secret_of(new_text))
