"""Kubernetes naming rules: what the API server would refuse, we refuse first."""

from __future__ import annotations

import pytest

from platxa_secrets.core.names import (
    MAX_SECRET_BYTES,
    check_key,
    check_name,
    check_namespace,
    check_size,
    check_type,
    parse_ref,
)
from platxa_secrets.errors import ValidationError
from tests.core.helpers import CANARY

MIB = 1024 * 1024


# --- namespaces -----------------------------------------------------------


@pytest.mark.parametrize(
    "namespace", ["a", "0", "tenant-acme", "t-1", "a" * 63, "1-2-3", "x9"]
)
def test_valid_namespaces(namespace: str) -> None:
    assert check_namespace(namespace) == namespace


@pytest.mark.parametrize(
    "namespace",
    [
        "Tenant",
        "-tenant",
        "tenant-",
        "ten_ant",
        "ten.ant",
        "ten ant",
        "tenant\n",
        "ténant",
        "tenant/a",
        "\uff54enant",
    ],
    ids=repr,
)
def test_invalid_namespaces(namespace: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_namespace(namespace)

    assert "RFC 1123 label" in str(info.value)
    assert info.value.context["field"] == "namespace"


def test_namespace_of_64_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="64 characters; the limit is 63"):
        check_namespace("a" * 64)


def test_empty_namespace_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match=r"^tenant is empty$"):
        check_namespace("", field="tenant")


# --- names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["odoo", "odoo-secrets", "db.tenant-a", "a.b.c", "0", "a" * 253, "x" * 100],
)
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "Odoo",
        "odoo_secrets",
        ".odoo",
        "odoo.",
        "odoo..db",
        "-odoo",
        "odoo-.db",
        "odoo .db",
        "odoo\n",
        "ödoo",
        "odoo/db",
        "odoo:db",
    ],
    ids=repr,
)
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_name(name)

    assert "RFC 1123 subdomain" in str(info.value)
    assert info.value.context["field"] == "name"


def test_name_of_254_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="254 characters; the limit is 253"):
        check_name("a" * 254)


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^name is empty$"):
        check_name("")


def test_long_rejected_name_is_not_echoed_whole() -> None:
    # An overlong name is usually a value pasted in the wrong place.
    pasted = "x" * 30 + CANARY + "y" * 300

    with pytest.raises(ValidationError) as info:
        check_name(pasted)

    assert CANARY not in str(info.value)
    assert "y" * 10 not in str(info.value)
    assert "x" * 24 in str(info.value)


# --- data keys ------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "DB_PASSWORD",
        "tls.crt",
        ".dockerconfigjson",
        "a-b_c.d",
        "_",
        "-",
        "a..b",
        "k" * 253,
        "0",
    ],
)
def test_valid_keys(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        ".",
        "..",
        "db password",
        " key",
        "key ",
        "key\n",
        "clé",
        "ключ",
        "key/sub",
        "key:1",
        "key=1",
        "key\x00",
        "\uff4bey",
    ],
    ids=repr,
)
def test_invalid_keys(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_key(key)

    assert "letters, digits" in str(info.value)
    assert info.value.context["field"] == "key"


def test_key_of_254_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="254 characters; the limit is 253"):
        check_key("k" * 254)


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^key is empty$"):
        check_key("")


@pytest.mark.parametrize("key", ["..data", "...", "..a.b"])
def test_key_starting_with_two_dots_is_refused(key: str) -> None:
    with pytest.raises(ValidationError):
        check_key(key)


def test_long_rejected_key_is_not_echoed_whole() -> None:
    with pytest.raises(ValidationError) as info:
        check_key("k" * 30 + CANARY + " " * 300)

    assert CANARY not in str(info.value)


# --- types ----------------------------------------------------------------


@pytest.mark.parametrize(
    "secret_type",
    [
        "Opaque",
        "kubernetes.io/tls",
        "kubernetes.io/basic-auth",
        "kubernetes.io/dockerconfigjson",
        "bootstrap.kubernetes.io/token",
        "example.com/my_type",
        "t" * 253,
    ],
)
def test_valid_types(secret_type: str) -> None:
    assert check_type(secret_type) == secret_type


@pytest.mark.parametrize(
    "secret_type", ["Opaque ", "my type", "tls\n", "tÿpe", "a:b", "a\\b"], ids=repr
)
def test_invalid_type_characters(secret_type: str) -> None:
    with pytest.raises(ValidationError, match="may contain only") as info:
        check_type(secret_type)

    assert info.value.context["field"] == "type"


@pytest.mark.parametrize("secret_type", ["", "t" * 254])
def test_type_length_is_limited(secret_type: str) -> None:
    with pytest.raises(ValidationError, match="1 to 253 characters"):
        check_type(secret_type)


# --- references -----------------------------------------------------------


def test_parse_ref_splits_namespace_and_name() -> None:
    assert parse_ref("tenant-acme/odoo-secrets") == ("tenant-acme", "odoo-secrets")
    assert parse_ref("t/a.b.c") == ("t", "a.b.c")


@pytest.mark.parametrize(
    ("ref", "field"),
    [
        ("tenant-acme", "secret"),
        ("/odoo", "secret namespace"),
        ("tenant/", "secret name"),
        ("Tenant/odoo", "secret namespace"),
        ("tenant/Odoo", "secret name"),
        ("tenant/odoo/extra", "secret name"),
        ("tenant//odoo", "secret name"),
        ("", "secret"),
    ],
    ids=repr,
)
def test_bad_refs_are_refused_naming_the_part(ref: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_ref(ref)

    assert info.value.context["field"] == field
    assert str(info.value).startswith(field)


def test_parse_ref_uses_the_given_field() -> None:
    with pytest.raises(ValidationError, match="NAMESPACE/NAME") as info:
        parse_ref("nope", field="source")

    assert info.value.context["field"] == "source"


# --- size -----------------------------------------------------------------


def test_size_of_exactly_one_mib_is_accepted() -> None:
    data = {"k": b"x" * (MIB - 1)}

    assert check_size(data, "tenant-a/big") == MIB
    assert MAX_SECRET_BYTES == MIB


def test_size_one_byte_over_one_mib_is_refused() -> None:
    data = {"k": b"x" * MIB}

    with pytest.raises(ValidationError) as info:
        check_size(data, "tenant-a/big")

    message = str(info.value)
    assert "tenant-a/big" in message
    assert str(MIB + 1) in message
    assert "1 MiB" in message
    assert info.value.context["field"] == "data"


def test_size_counts_every_key_and_value() -> None:
    half = MIB // 2
    data = {"a": b"x" * (half - 1), "b": b"y" * (half - 1)}
    assert check_size(data, "t/s") == MIB

    with pytest.raises(ValidationError):
        check_size({**data, "c": b""}, "t/s")


def test_size_counts_keys_in_utf8_bytes() -> None:
    # Keys are validated elsewhere; the count must still be in bytes.
    assert check_size({"é": b"12"}, "t/s") == 4


def test_size_of_nothing_is_zero() -> None:
    assert check_size({}, "t/s") == 0


def test_size_error_does_not_quote_the_value() -> None:
    value = (CANARY.encode() * (MIB // len(CANARY) + 2))[: MIB + 10]

    with pytest.raises(ValidationError) as info:
        check_size({"k": value}, "t/s")

    assert CANARY not in str(info.value)
    assert CANARY not in repr(info.value)
