"""Who may do what: the emulator's stand-in for RBAC.

A `Policy` is a list of `Rule`s, each granting some verbs on some
resources in some namespaces; a request is allowed when any rule
covers it. `"*"` is a wildcard, and only a rule whose namespaces
include `"*"` covers cluster-scoped requests (listing Secrets across
namespaces, creating a Namespace), as only a ClusterRole binding does.

The default policy allows everything, so tests that do not care about
authorization need not mention it. A denied request gets Kubernetes'
own 403 wording, which names the user, verb, resource and namespace:

    secrets "db" is forbidden: User "system:serviceaccount:platxa:platxa-secrets"
    cannot patch resource "secrets" in API group "" in the namespace "tenant-a"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from platxa_secrets.testing._status import ApiError

DEFAULT_USER = "system:serviceaccount:platxa:platxa-secrets"


def _names(value: str | Iterable[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


@dataclass(frozen=True)
class Rule:
    """Grants `verbs` on `resources` in `namespaces` (`"*"`: any)."""

    verbs: frozenset[str] = field(default_factory=lambda: frozenset({"*"}))
    resources: frozenset[str] = field(default_factory=lambda: frozenset({"*"}))
    namespaces: frozenset[str] = field(default_factory=lambda: frozenset({"*"}))

    @classmethod
    def of(
        cls,
        verbs: str | Iterable[str],
        resources: str | Iterable[str] = "secrets",
        namespaces: str | Iterable[str] = "*",
    ) -> Rule:
        """A rule from strings or iterables, e.g. `Rule.of("get", "secrets", "a")`."""
        return cls(_names(verbs), _names(resources), _names(namespaces))

    def __post_init__(self) -> None:
        for name in ("verbs", "resources", "namespaces"):
            object.__setattr__(self, name, _names(getattr(self, name)))

    def covers(self, verb: str, resource: str, namespace: str) -> bool:
        in_scope = "*" in self.namespaces or (
            bool(namespace) and namespace in self.namespaces
        )
        return (
            in_scope
            and ("*" in self.verbs or verb in self.verbs)
            and ("*" in self.resources or resource in self.resources)
        )


@dataclass(frozen=True)
class Policy:
    """An immutable set of rules; `Policy()` allows everything.

    Replace `KubeEmulator.policy` to change it between requests; the
    server reads the attribute once per request, so the swap is atomic.
    """

    rules: tuple[Rule, ...] = (Rule(),)

    @classmethod
    def allow_all(cls) -> Policy:
        return cls()

    @classmethod
    def deny_all(cls) -> Policy:
        return cls(())

    @classmethod
    def of(cls, *rules: Rule) -> Policy:
        return cls(tuple(rules))

    def allows(self, verb: str, resource: str, namespace: str = "") -> bool:
        return any(rule.covers(verb, resource, namespace) for rule in self.rules)


@dataclass(frozen=True)
class Attributes:
    """What one request asks to do, as the authorizer sees it."""

    verb: str
    resource: str
    namespace: str = ""
    name: str = ""
    group: str = ""


def forbidden(user: str, request: Attributes) -> ApiError:
    """403 in the exact shape of the API server's `forbidden` responder."""
    qualified = request.resource
    if request.group:
        qualified = f"{request.resource}.{request.group}"
    subject = f'{qualified} "{request.name}"' if request.name else qualified

    if request.namespace:
        scope = f'in the namespace "{request.namespace}"'
    else:
        scope = "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {request.verb} resource '
        f'"{request.resource}" in API group "{request.group}" {scope}'
    )

    details: dict[str, str] = {"kind": request.resource}
    if request.name:
        details = {"name": request.name, **details}
    if request.group:
        details["group"] = request.group
    return ApiError(403, "Forbidden", message, dict(details))
