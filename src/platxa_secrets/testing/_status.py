"""Kubernetes `Status` bodies, and the one exception that carries them.

Every refusal the emulator makes is an `ApiError` raised deep in the
store or the validators and turned into a `Status` body by the server,
so that a test sees exactly what a real API server would send: the
HTTP code, a `reason` such as `NotFound` or `Invalid`, a message in
Kubernetes' own wording, and `details.causes` naming the field.

Messages name objects and fields, never a value: a Secret's data must
not reach a response body, a log, or an assertion message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

_REDACTED = "<secret contents redacted>"


@dataclass(frozen=True)
class FieldError:
    """One broken field rule, worded like `k8s.io/apimachinery` does.

    `kind` is the `field.ErrorType` suffix: `Required`, `Invalid`,
    `Forbidden`, `TooLong`, `NotSupported` or `Duplicate`.
    """

    field: str
    kind: str
    detail: str = ""
    value: str | None = None

    @property
    def body(self) -> str:
        """The text after `field: `, for messages and causes."""
        label = {
            "Required": "Required value",
            "Invalid": "Invalid value",
            "Forbidden": "Forbidden",
            "TooLong": "Too long",
            "NotSupported": "Unsupported value",
            "Duplicate": "Duplicate value",
        }[self.kind]
        if self.kind in {"Invalid", "NotSupported", "Duplicate"}:
            label = f'{label}: "{self.value if self.value is not None else ""}"'
        return f"{label}: {self.detail}" if self.detail else label

    def cause(self) -> JSON:
        return {
            "reason": f"FieldValue{self.kind}",
            "message": self.body,
            "field": self.field,
        }


def redacted(field: str, detail: str) -> FieldError:
    """An `Invalid` error whose value is Secret content, so never shown."""
    return FieldError(field, "Invalid", detail, _REDACTED)


class ApiError(Exception):
    """A refusal that the server sends back as a Kubernetes `Status`."""

    def __init__(
        self, code: int, reason: str, message: str, details: JSON | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> JSON:
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{resource} "{name}" not found',
        {"name": name, "kind": resource},
    )


def already_exists(resource: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource} "{name}" already exists',
        {"name": name, "kind": resource},
    )


def conflict(resource: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource} "{name}": {why}',
        {"name": name, "kind": resource},
    )


STALE = (
    "the object has been modified; please apply your changes to the latest "
    "version and try again"
)


def invalid(
    kind: str, name: str, errors: list[FieldError], group: str = ""
) -> ApiError:
    """422 Invalid, one cause per broken rule, as `errors.NewInvalid`."""
    qualified = f"{kind}.{group}" if group else kind
    texts = [f"{error.field}: {error.body}" for error in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: JSON = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    details["causes"] = [error.cause() for error in errors]
    return ApiError(
        422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
    )


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type or 'none'})"
        f" - accepted media types include: {', '.join(accepted)}",
    )


def path_not_found() -> ApiError:
    return ApiError(
        404, "NotFound", "the server could not find the requested resource", {}
    )


def internal(message: str) -> ApiError:
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def success(resource: str, name: str, uid: str) -> JSON:
    """The body of a DELETE whose object is gone at once."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "kind": resource, "uid": uid},
    }
