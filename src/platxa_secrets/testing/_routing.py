"""From an HTTP request line to what it asks: a route and a verb.

The emulator serves the paths the official client uses for Secrets,
Namespaces and SelfSubjectAccessReviews, plus the discovery documents:

    /version  /api  /api/v1  /apis  /apis/authorization.k8s.io[/v1]
    /api/v1/namespaces[/{namespace}]
    /api/v1/secrets
    /api/v1/namespaces/{namespace}/secrets[/{name}]
    /apis/authorization.k8s.io/v1/selfsubjectaccessreviews

The verb is the one RBAC sees: a GET on a collection is `list`, a PUT
is `update`. As in the API server's request info, the namespace of
`/api/v1/namespaces/{name}` is the Namespace itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from platxa_secrets.testing._policy import Attributes
from platxa_secrets.testing._status import (
    bad_request,
    method_not_allowed,
    path_not_found,
)

AUTHZ_GROUP = "authorization.k8s.io"

_METHODS = {
    "discovery": {"GET"},
    "namespaces": {"GET", "POST"},
    "namespace": {"GET", "DELETE"},
    "all-secrets": {"GET"},
    "secrets": {"GET", "POST"},
    "secret": {"GET", "PUT", "PATCH", "DELETE"},
    "selfsubjectaccessreviews": {"POST"},
}
_ITEM_VERBS = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Route:
    """Which endpoint a path names, and the object it addresses."""

    endpoint: str
    resource: str = ""
    namespace: str = ""
    name: str = ""
    document: str = ""

    @property
    def is_item(self) -> bool:
        return self.endpoint in ("namespace", "secret")

    def verb(self, method: str, watch: bool) -> str:
        """The RBAC verb; 405 for a method this endpoint does not serve."""
        if method not in _METHODS[self.endpoint]:
            raise method_not_allowed(method)
        if self.endpoint == "discovery":
            return "get"
        if watch:
            raise bad_request("watch is not supported by the emulator")
        if method == "POST":
            return "create"
        return _ITEM_VERBS[method] if self.is_item else "list"

    def attributes(self, verb: str) -> Attributes:
        group = AUTHZ_GROUP if self.endpoint == "selfsubjectaccessreviews" else ""
        return Attributes(verb, self.resource, self.namespace, self.name, group)


def route(path: str) -> Route:
    """The route a URL path names; 404 for anything else."""
    parts = [part for part in path.split("/") if part]
    documents = {
        ("version",): "version",
        ("api",): "api",
        ("api", "v1"): "api/v1",
        ("apis",): "apis",
        ("apis", AUTHZ_GROUP): "authz-group",
        ("apis", AUTHZ_GROUP, "v1"): "authz-v1",
    }
    if tuple(parts) in documents:
        return Route("discovery", document=documents[tuple(parts)])

    if parts == ["apis", AUTHZ_GROUP, "v1", "selfsubjectaccessreviews"]:
        return Route("selfsubjectaccessreviews", "selfsubjectaccessreviews")
    if parts[:2] != ["api", "v1"]:
        raise path_not_found()
    rest = parts[2:]

    if rest == ["secrets"]:
        return Route("all-secrets", "secrets")
    if rest == ["namespaces"]:
        return Route("namespaces", "namespaces")
    if len(rest) == 2 and rest[0] == "namespaces":
        return Route("namespace", "namespaces", rest[1], rest[1])
    if len(rest) == 3 and rest[0] == "namespaces" and rest[2] == "secrets":
        return Route("secrets", "secrets", rest[1])
    if len(rest) == 4 and rest[0] == "namespaces" and rest[2] == "secrets":
        return Route("secret", "secrets", rest[1], rest[3])
    raise path_not_found()
