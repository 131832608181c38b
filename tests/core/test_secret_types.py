"""Typed-Secret rules: what the Kubernetes API server refuses, we refuse."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from platxa_secrets.core import secret_types as st
from platxa_secrets.core.secret_types import check_type_rules
from platxa_secrets.errors import PlatxaSecretsError, ValidationError

CANARY = "pxs-canary-Tq7vW2mZ9k"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
TARGET = "tenant-a/db"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and everything chained to it, cause or context."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(e for e in (current.__cause__, current.__context__) if e)


def assert_no_canary(exc: BaseException) -> None:
    """Fail if the canary, plain or base64, is anywhere in the chain."""
    for link in _chain(exc):
        assert isinstance(link, PlatxaSecretsError), f"chained {type(link)}"
        texts = (str(link), repr(link), repr(link.args), repr(vars(link)))
        for text in texts:
            assert CANARY not in text
            assert CANARY_B64 not in text


def refused(secret_type: str, data: dict[str, bytes]) -> ValidationError:
    """Run the rules, expect a refusal, and check it leaks nothing."""
    with pytest.raises(ValidationError) as info:
        check_type_rules(secret_type, data, TARGET)

    assert TARGET in str(info.value)
    assert secret_type in str(info.value)
    assert_no_canary(info.value)
    return info.value


def test_constants_are_the_kubernetes_type_names() -> None:
    assert st.SECRET_TYPE_OPAQUE == "Opaque"
    assert st.SECRET_TYPE_TLS == "kubernetes.io/tls"
    assert st.SECRET_TYPE_BASIC_AUTH == "kubernetes.io/basic-auth"
    assert st.SECRET_TYPE_SSH_AUTH == "kubernetes.io/ssh-auth"
    assert st.SECRET_TYPE_DOCKERCFG == "kubernetes.io/dockercfg"
    assert st.SECRET_TYPE_DOCKER_CONFIG_JSON == "kubernetes.io/dockerconfigjson"
    assert st.SECRET_TYPE_SERVICE_ACCOUNT_TOKEN == "kubernetes.io/service-account-token"
    assert st.SECRET_TYPE_BOOTSTRAP_TOKEN == "bootstrap.kubernetes.io/token"
    assert len(st.WELL_KNOWN_TYPES) == 8


@pytest.mark.parametrize(
    "secret_type",
    ["Opaque", "", "bootstrap.kubernetes.io/token", "example.com/custom"],
)
@pytest.mark.parametrize("data", [{}, {"anything": b""}, {"x": CANARY.encode()}])
def test_untyped_and_unknown_types_accept_anything(
    secret_type: str, data: dict[str, bytes]
) -> None:
    check_type_rules(secret_type, data, TARGET)


@pytest.mark.parametrize(
    "data",
    [
        {"username": b"admin"},
        {"password": CANARY.encode()},
        {"username": b"", "password": b""},
    ],
)
def test_basic_auth_needs_username_or_password_possibly_empty(
    data: dict[str, bytes],
) -> None:
    check_type_rules(st.SECRET_TYPE_BASIC_AUTH, data, TARGET)


def test_basic_auth_without_either_key_is_refused() -> None:
    exc = refused(st.SECRET_TYPE_BASIC_AUTH, {"user": CANARY.encode()})

    assert "'username'" in str(exc)
    assert "'password'" in str(exc)
    assert exc.context["field"] == "data"


def test_ssh_auth_accepts_a_private_key() -> None:
    check_type_rules(st.SECRET_TYPE_SSH_AUTH, {"ssh-privatekey": b"k"}, TARGET)


@pytest.mark.parametrize("data", [{"id_rsa": CANARY.encode()}, {"ssh-privatekey": b""}])
def test_ssh_auth_without_a_non_empty_private_key_is_refused(
    data: dict[str, bytes],
) -> None:
    exc = refused(st.SECRET_TYPE_SSH_AUTH, data)

    assert "'ssh-privatekey'" in str(exc)
    assert exc.context["key"] == "ssh-privatekey"


def test_tls_needs_both_keys_but_not_their_content() -> None:
    check_type_rules(st.SECRET_TYPE_TLS, {"tls.crt": b"", "tls.key": b""}, TARGET)


@pytest.mark.parametrize("missing", ["tls.crt", "tls.key"])
def test_tls_missing_a_key_is_refused(missing: str) -> None:
    data = {"tls.crt": CANARY.encode(), "tls.key": CANARY.encode()}
    del data[missing]

    exc = refused(st.SECRET_TYPE_TLS, data)

    assert repr(missing) in str(exc)
    assert exc.context["key"] == missing


@pytest.mark.parametrize(
    ("secret_type", "key"),
    [
        (st.SECRET_TYPE_DOCKERCFG, ".dockercfg"),
        (st.SECRET_TYPE_DOCKER_CONFIG_JSON, ".dockerconfigjson"),
    ],
)
class TestDockerConfigs:
    def test_a_json_object_is_accepted_without_auths(
        self, secret_type: str, key: str
    ) -> None:
        # Kubernetes only asks for a JSON object; "auths" is not required.
        for value in (b'{"auths": {}}', b"{}", b' {"x": 1} \n', b"null"):
            check_type_rules(secret_type, {key: value}, TARGET)

    def test_invalid_utf8_inside_strings_is_replaced_as_go_does(
        self, secret_type: str, key: str
    ) -> None:
        check_type_rules(secret_type, {key: b'{"auth": "\xff"}'}, TARGET)

    def test_missing_key_is_refused(self, secret_type: str, key: str) -> None:
        exc = refused(secret_type, {"config.json": CANARY.encode()})

        assert repr(key) in str(exc)
        assert exc.context["key"] == key

    @pytest.mark.parametrize(
        "value",
        [
            b'{"auths": {"registry": {"auth": "' + CANARY.encode() + b'"}}',
            CANARY.encode(),
            b'["' + CANARY.encode() + b'"]',
            b'"' + CANARY.encode() + b'"',
            b'{"auth": NaN, "x": "' + CANARY.encode() + b'"}',
            b"\xef\xbb\xbf{}",
            b"",
        ],
        ids=["truncated", "bare", "array", "string", "nan", "bom", "empty"],
    )
    def test_anything_but_a_json_object_is_refused(
        self, secret_type: str, key: str, value: bytes
    ) -> None:
        exc = refused(secret_type, {key: value})

        assert "JSON object" in str(exc)
        assert exc.context["key"] == key


def test_service_account_tokens_are_not_storable() -> None:
    data = {"token": CANARY.encode(), "ca.crt": b"", "namespace": b"default"}

    exc = refused(st.SECRET_TYPE_SERVICE_ACCOUNT_TOKEN, data)

    assert "cluster issues" in str(exc)
    assert exc.context["field"] == "type"
