"""The Authorization header (RFC 9110, RFC 6750) and query-string tokens."""

from __future__ import annotations

import pytest

from platxa_secrets.core.token_format import new_token
from platxa_secrets.errors import AuthenticationError, ConfigError
from platxa_secrets.server.bearer import (
    bearer_token,
    challenge,
    check_realm,
    error_code,
    refuse_query_token,
    single_header,
)

TOKEN, _ = new_token()


@pytest.mark.parametrize(
    "header",
    [
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"BeArEr {TOKEN}",
        f"  Bearer {TOKEN}  ",
        f"\tBearer   {TOKEN}\t",
        f"Bearer {TOKEN}".encode("ascii"),
    ],
    ids=["Bearer", "bearer", "BEARER", "BeArEr", "spaces", "tabs", "bytes"],
)
def test_the_scheme_is_case_insensitive_and_whitespace_is_trimmed(
    header: str | bytes,
) -> None:
    assert bearer_token(header) == TOKEN


def test_the_token_is_returned_exactly_with_its_case() -> None:
    assert bearer_token("Bearer AbC-._~+/x==") == "AbC-._~+/x=="
    assert bearer_token(f"Bearer {TOKEN.upper()}") == TOKEN.upper()


@pytest.mark.parametrize(
    ("header", "reason", "error"),
    [
        (None, "missing credentials", None),
        ("Basic dXNlcjpwYXNz", "other authorization scheme", None),
        ("Bearerx " + TOKEN, "other authorization scheme", None),
        ("Token " + TOKEN, "other authorization scheme", None),
        ("", "empty credentials", "invalid_request"),
        ("   \t ", "empty credentials", "invalid_request"),
        ("Bearer", "empty bearer token", "invalid_request"),
        ("Bearer    ", "empty bearer token", "invalid_request"),
        (f"Bearer {TOKEN} {TOKEN}", "several credentials", "invalid_request"),
        (f"Bearer {TOKEN}, Bearer {TOKEN}", "several credentials", "invalid_request"),
        (f"Bearer {TOKEN},x", "several credentials", "invalid_request"),
        (f"Bearer {TOKEN}\t{TOKEN}", "several credentials", "invalid_request"),
        (f"Bearer {TOKEN}é", "non-ASCII credentials", "invalid_request"),
        (
            f"Bearer {TOKEN}".encode() + b"\xc3\xa9",
            "non-ASCII credentials",
            "invalid_request",
        ),
        (b"Bearer \xff\xfe", "non-ASCII credentials", "invalid_request"),
        (f"Bearer {TOKEN}\r\nX-Evil: 1", "non-ASCII credentials", "invalid_request"),
        (f"Bearer {TOKEN}\x00", "non-ASCII credentials", "invalid_request"),
        (f'Bearer "{TOKEN}"', "malformed bearer token", "invalid_request"),
        (f"Bearer {TOKEN}=x", "malformed bearer token", "invalid_request"),
        (f"Bearer=={TOKEN}", "malformed Authorization header", "invalid_request"),
        (f"(Bearer) {TOKEN}", "malformed Authorization header", "invalid_request"),
    ],
    ids=[
        "missing",
        "basic",
        "bearerx",
        "token-scheme",
        "empty",
        "blank",
        "bearer-alone",
        "bearer-spaces",
        "two-tokens",
        "two-credentials",
        "comma",
        "tab",
        "non-ascii",
        "non-ascii-bytes",
        "non-utf8-bytes",
        "crlf",
        "nul",
        "quoted",
        "equals-inside",
        "scheme-equals",
        "parenthesised",
    ],
)
def test_bad_headers_are_refused_with_a_fixed_message(
    header: str | bytes | None, reason: str, error: str | None
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        bearer_token(header)

    refusal = caught.value
    assert refusal.reason == reason
    assert error_code(refusal) == error
    for shown in (str(refusal), repr(refusal), repr(refusal.__dict__)):
        assert TOKEN not in shown
        assert TOKEN[4:16] not in shown
        assert "dXNlcjpwYXNz" not in shown
    assert refusal.__cause__ is None
    assert refusal.__context__ is None


def test_several_authorization_headers_are_several_credentials() -> None:
    assert single_header([]) is None
    assert single_header([b"Bearer x"]) == b"Bearer x"
    with pytest.raises(AuthenticationError) as caught:
        single_header([f"Bearer {TOKEN}", f"Bearer {TOKEN}"])
    assert caught.value.reason == "several Authorization headers"
    assert TOKEN not in str(caught.value)


def test_a_verification_failure_defaults_to_invalid_token() -> None:
    refusal = AuthenticationError("invalid token", reason="token expired")

    assert error_code(refusal) == "invalid_token"


@pytest.mark.parametrize(
    "query",
    [
        f"access_token={TOKEN}",
        "access_token=anything",
        "ACCESS_TOKEN=",
        "a=1&token=xyz",
        "Token",
        f"q={TOKEN}",
        f"next=/x%3Fk%3D{TOKEN}",
        f"{TOKEN}",
        f"a=1;b={TOKEN}".encode(),
        "acc%65ss_token=1",
    ],
    ids=[
        "access-token",
        "access-token-anything",
        "access-token-upper",
        "token-param",
        "bare-word",
        "q-token",
        "encoded-in-next",
        "token-alone",
        "semicolon-bytes",
        "percent-encoded-name",
    ],
)
def test_a_token_in_the_query_string_is_refused(query: str | bytes) -> None:
    with pytest.raises(AuthenticationError) as caught:
        refuse_query_token(query)

    assert caught.value.reason == "token in query string"
    assert error_code(caught.value) == "invalid_request"
    assert TOKEN not in str(caught.value)
    assert "Authorization header" in str(caught.value)


@pytest.mark.parametrize(
    "query",
    [None, "", b"", "page=2&sort=name", "page_token=abc", "tokens=3", "q=pxs_short"],
)
def test_an_ordinary_query_string_passes(query: str | bytes | None) -> None:
    refuse_query_token(query)


def test_challenges_follow_rfc_6750() -> None:
    assert challenge(None) == 'Bearer realm="platxa-secrets"'
    assert (
        challenge("invalid_token", "api") == 'Bearer realm="api", error="invalid_token"'
    )
    assert (
        challenge("insufficient_scope", "api", "tenant-a:read")
        == 'Bearer realm="api", error="insufficient_scope", scope="tenant-a:read"'
    )


@pytest.mark.parametrize("realm", ["", 'a"b', "a\\b", "tab\there", "é"])
def test_a_realm_that_needs_escaping_is_a_configuration_error(realm: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_realm(realm)
    assert caught.value.field == "realm"
