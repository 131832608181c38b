"""The discovery documents a client may read before its first call.

The official Python client does not need them for typed calls, but
`kubectl`, `DynamicClient` and version probes do; they describe only
what the emulator serves, so a client never plans a call it lacks.
"""

from __future__ import annotations

from platxa_secrets.testing._status import JSON

VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0+platxa-emulator"}


def document(name: str, server_address: str) -> JSON:
    """The body of one discovery path, by the name `_routing` gives it."""
    if name == "version":
        return {
            **VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.24.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if name == "api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "127.0.0.1/32", "serverAddress": server_address}
            ],
        }
    if name == "api/v1":
        return _resource_list(
            "v1",
            [
                _resource(
                    "namespaces",
                    "Namespace",
                    False,
                    ["create", "delete", "get", "list"],
                ),
                _resource(
                    "secrets",
                    "Secret",
                    True,
                    ["create", "delete", "get", "list", "patch", "update"],
                ),
            ],
        )
    group_version = {"groupVersion": "authorization.k8s.io/v1", "version": "v1"}
    group = {
        "name": "authorization.k8s.io",
        "versions": [group_version],
        "preferredVersion": group_version,
    }
    if name == "apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}
    if name == "authz-group":
        return {"kind": "APIGroup", "apiVersion": "v1", **group}
    return _resource_list(
        "authorization.k8s.io/v1",
        [
            _resource(
                "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, ["create"]
            )
        ],
    )


def _resource(name: str, kind: str, namespaced: bool, verbs: list[str]) -> JSON:
    return {
        "name": name,
        "singularName": kind.lower(),
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs,
    }


def _resource_list(group_version: str, resources: list[JSON]) -> JSON:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
