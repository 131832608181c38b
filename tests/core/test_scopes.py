"""Scopes: what a token may do, and what no token may reach."""

from __future__ import annotations

import pytest

from platxa_secrets.core.scopes import Principal, parse_scope, parse_scopes
from platxa_secrets.errors import PermissionDeniedError, ValidationError


def principal(*scopes: str) -> Principal:
    return Principal("abc123def456", "test", parse_scopes(scopes))


@pytest.mark.parametrize(
    ("scope", "namespace", "level", "allowed"),
    [
        ("tenant-*:read", "tenant-acme", "read", True),
        ("tenant-*:read", "tenant-acme", "write", False),
        ("tenant-*:read", "other", "read", False),
        ("tenant-acme:write", "tenant-acme", "read", True),
        ("tenant-acme:write", "tenant-acme", "admin", False),
        ("tenant-acme:write", "tenant-acme-2", "read", False),
        ("*:admin", "anything", "admin", True),
        ("*:admin", "platxa-system", "read", False),
        ("platxa-*:admin", "platxa-system", "read", False),
    ],
)
def test_patterns_and_levels(
    scope: str, namespace: str, level: str, allowed: bool
) -> None:
    assert principal(scope).allows(namespace, level) is allowed


def test_whole_store_operations_need_star_admin() -> None:
    principal("*:admin").require_admin()
    with pytest.raises(PermissionDeniedError, match=r"needs scope '\*:admin'"):
        principal("tenant-*:admin").require_admin()


def test_capabilities() -> None:
    principal("jwt:sign").require_capability("jwt:sign")
    principal("*:admin").require_capability("jwt:sign")
    principal("webhook:alertmanager").require_capability("webhook:alertmanager")
    with pytest.raises(PermissionDeniedError):
        principal("*:admin").require_capability("webhook:alertmanager")
    with pytest.raises(PermissionDeniedError):
        principal("tenant-*:write").require_capability("jwt:sign")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tenant",
        "tenant:",
        ":read",
        "tenant:owner",
        "Tenant:read",
        "ten ant:read",
        "a" * 64 + ":read",
        "webhook:Bad_Name",
    ],
)
def test_malformed_scopes_name_the_rule(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_scope(text)
    assert caught.value.context["field"] == "scope"


def test_the_reserved_namespace_cannot_be_a_scope() -> None:
    with pytest.raises(ValidationError, match="reserved namespace"):
        parse_scope("platxa-system:read")


def test_a_token_needs_a_scope() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        parse_scopes([])
