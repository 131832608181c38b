"""What each endpoint does, once a request is authenticated and allowed.

The handlers read the query parameters and body the way the API
server does, call the `Store`, and return the status code and JSON
body to send: 201 for a create (and for an apply that creates), 200
otherwise. Content types are checked first, so a PATCH with an unknown
media type is a 415 before its body is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from platxa_secrets.testing._discovery import document
from platxa_secrets.testing._patching import (
    APPLY,
    JSON_PATCH,
    PATCH_TYPES,
    json_patch,
    merge_patch,
    parse_apply_body,
)
from platxa_secrets.testing._policy import Policy
from platxa_secrets.testing._routing import Route
from platxa_secrets.testing._selectors import field_matcher, label_matcher
from platxa_secrets.testing._status import (
    JSON,
    FieldError,
    bad_request,
    invalid,
    unsupported_media_type,
)
from platxa_secrets.testing._store import Store

_BODY_TYPES = ["application/json", "application/yaml"]


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request the handlers read."""

    method: str
    query: dict[str, list[str]]
    content_type: str
    user_agent: str
    body: bytes
    server_address: str = ""

    def param(self, name: str) -> str:
        values = self.query.get(name)
        return values[0] if values else ""

    @property
    def dry_run(self) -> bool:
        return "All" in self.query.get("dryRun", [])

    def manager(self) -> str:
        """`fieldManager`, else the User-Agent up to its first `/`."""
        return self.param("fieldManager") or self.user_agent.split("/")[0] or "unknown"


Result = tuple[int, JSON]


class Api:
    """The endpoints, over one `Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def handle(self, request: Request, route: Route, policy: Policy) -> Result:
        endpoint = route.endpoint.replace("-", "_")
        handler: Callable[[Request, Route, Policy], Result] = getattr(
            self, f"_{endpoint}"
        )
        return handler(request, route, policy)

    def _discovery(self, request: Request, route: Route, policy: Policy) -> Result:
        return 200, document(route.document, request.server_address)

    def _namespaces(self, request: Request, route: Route, policy: Policy) -> Result:
        if request.method == "GET":
            return 200, self._store.list_namespaces(
                label_matcher(request.param("labelSelector"))
            )
        body = _json_body(request)
        return 201, self._store.create_namespace(body, request.dry_run)

    def _namespace(self, request: Request, route: Route, policy: Policy) -> Result:
        if request.method == "GET":
            return 200, self._store.namespace(route.name)
        return 200, self._store.delete_namespace(route.name, _delete_dry_run(request))

    def _all_secrets(self, request: Request, route: Route, policy: Policy) -> Result:
        return self._secrets(request, route, policy)

    def _secrets(self, request: Request, route: Route, policy: Policy) -> Result:
        if request.method == "GET":
            labels = label_matcher(request.param("labelSelector"))
            fields = field_matcher(request.param("fieldSelector"))
            return 200, self._store.list_secrets(route.namespace, labels, fields)
        body = _json_body(request)
        created = self._store.create_secret(
            route.namespace, body, request.manager(), request.dry_run
        )
        return 201, created

    def _secret(self, request: Request, route: Route, policy: Policy) -> Result:
        namespace, name = route.namespace, route.name
        if request.method == "GET":
            return 200, self._store.secret(namespace, name)
        if request.method == "PUT":
            body = _json_body(request)
            return 200, self._store.replace_secret(
                namespace, name, body, request.manager(), request.dry_run
            )
        if request.method == "DELETE":
            options = _json_body(request, required=False)
            preconditions = options.get("preconditions") or {}
            return 200, self._store.delete_secret(
                namespace, name, preconditions, _delete_dry_run(request)
            )
        return self._patch(request, route)

    def _patch(self, request: Request, route: Route) -> Result:
        if request.content_type not in PATCH_TYPES:
            raise unsupported_media_type(request.content_type, PATCH_TYPES)
        namespace, name = route.namespace, route.name

        if request.content_type == APPLY:
            manager = request.param("fieldManager")
            if not manager:
                raise _patch_options_invalid(
                    FieldError(
                        "fieldManager", "Required", "is required for apply patch"
                    )
                )
            config = parse_apply_body(request.body)
            force = request.param("force") == "true"
            obj, created = self._store.apply_secret(
                namespace, name, config, manager, force, request.dry_run
            )
            return (201 if created else 200), obj

        if "force" in request.query:
            raise _patch_options_invalid(
                FieldError(
                    "force", "Forbidden", "may not be specified for non-apply patch"
                )
            )
        patcher = _patcher(request.content_type, _parse_json(request.body))
        return 200, self._store.patch_secret(
            namespace, name, patcher, request.manager(), request.dry_run
        )

    def _selfsubjectaccessreviews(
        self, request: Request, route: Route, policy: Policy
    ) -> Result:
        """Answer "may I?" from the policy, the way RBAC would."""
        body = _json_body(request)
        spec = body.get("spec")
        if not isinstance(spec, dict):
            raise bad_request("a SelfSubjectAccessReview needs a spec object")
        attributes = spec.get("resourceAttributes")
        if isinstance(attributes, dict):
            allowed = policy.allows(
                str(attributes.get("verb", "")),
                str(attributes.get("resource", "")),
                str(attributes.get("namespace", "")),
            )
        elif isinstance(spec.get("nonResourceAttributes"), dict):
            allowed = True
        else:
            raise invalid(
                "SelfSubjectAccessReview",
                "",
                [
                    FieldError(
                        "spec.resourceAttributes",
                        "Invalid",
                        "exactly one of nonResourceAttributes or resourceAttributes "
                        "must be specified",
                        "null",
                    )
                ],
                group="authorization.k8s.io",
            )
        status: JSON = {"allowed": allowed}
        if allowed:
            status["reason"] = "allowed by the emulator policy"
        return 201, {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }


def _json_body(request: Request, required: bool = True) -> JSON:
    if not request.body and not required:
        return {}
    if request.content_type not in ("", *_BODY_TYPES):  # none means JSON
        raise unsupported_media_type(request.content_type, _BODY_TYPES)
    if request.content_type == "application/yaml":
        body: Any = parse_apply_body(request.body)
    else:
        body = _parse_json(request.body)
    if not isinstance(body, dict):
        raise bad_request("the body of the request must be a JSON object")
    return body


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request(
            "couldn't get version/kind; json parse error: the body is not valid JSON"
        ) from None


def _patcher(content_type: str, patch: Any) -> Callable[[JSON], JSON]:
    """The function that turns the current object into the patched one."""
    if content_type == JSON_PATCH:
        return lambda current: json_patch(current, patch)
    if not isinstance(patch, dict):
        raise bad_request("the merge patch body must be a JSON object")
    return lambda current: merge_patch(current, patch)


def _delete_dry_run(request: Request) -> bool:
    options = _json_body(request, required=False)
    return request.dry_run or "All" in (options.get("dryRun") or [])


def _patch_options_invalid(error: FieldError) -> Exception:
    return invalid("PatchOptions", "", [error], group="meta.k8s.io")
