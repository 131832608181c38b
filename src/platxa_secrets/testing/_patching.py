"""The three PATCH body formats, applied to an object's JSON form.

- `application/merge-patch+json` (RFC 7386) and, for Secrets, whose
  fields hold no merge-keyed lists, `strategic-merge-patch+json`: a
  partial object where `null` removes a key.
- `application/json-patch+json` (RFC 6902): a list of operations
  `add`, `remove`, `replace`, `move`, `copy` and `test`.
- `application/apply-patch+yaml`: a whole intended object, YAML or
  JSON (JSON is YAML); its merge lives in `_fields`.

A failed JSON Patch `test` says which path failed, never the value
that was expected or found there: both may be Secret data.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from platxa_secrets.testing._status import JSON, ApiError, bad_request

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = [JSON_PATCH, MERGE, APPLY, STRATEGIC]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)

    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(document: JSON, operations: Any) -> JSON:
    """RFC 6902 over a copy of `document`; 422 if an operation fails."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a list of operations")

    result: Any = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict) or "path" not in operation:
            raise _failed(index, "operation must be an object with a path")
        result = _apply_operation(result, operation, index)
    if not isinstance(result, dict):
        raise _failed(len(operations) - 1, "the result is not an object")
    return result


def parse_apply_body(raw: bytes) -> JSON:
    """The applied configuration: JSON when it parses as JSON, else YAML."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = _load_yaml(raw)
    if not isinstance(body, dict):
        raise bad_request(
            "error decoding YAML: the applied configuration is not an object"
        )
    return body


def _load_yaml(raw: bytes) -> Any:
    import yaml  # PyYAML ships with the kubernetes client; JSON needs none

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        raise bad_request(
            "error decoding YAML: the body is neither JSON nor YAML"
        ) from None


def _apply_operation(doc: Any, operation: JSON, index: int) -> Any:
    op = operation.get("op")
    path = _pointer(operation["path"], index)

    if op == "test":
        if _get(doc, path, index) != operation.get("value"):
            raise _failed(index, f'test failed at "{operation["path"]}"')
        return doc
    if op == "remove":
        return _remove(doc, path, index)
    if op in ("add", "replace"):
        if "value" not in operation:
            raise _failed(index, f"{op} operation has no value")
        if op == "replace":
            _get(doc, path, index)
            doc = _remove(doc, path, index)
        return _add(doc, path, copy.deepcopy(operation["value"]), index)
    if op in ("move", "copy"):
        source = _pointer(operation.get("from", ""), index)
        value = copy.deepcopy(_get(doc, source, index))
        if op == "move":
            doc = _remove(doc, source, index)
        return _add(doc, path, value, index)
    raise _failed(index, f"unexpected kind of operation: {op!r}")


def _pointer(text: Any, index: int) -> list[str]:
    if not isinstance(text, str) or (text and not text.startswith("/")):
        raise _failed(index, "path must be a JSON pointer")
    if not text:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _get(doc: Any, path: list[str], index: int) -> Any:
    for part in path:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise _failed(index, f'path "/{"/".join(path)}" does not exist')
    return doc


def _add(doc: Any, path: list[str], value: Any, index: int) -> Any:
    if not path:
        return value
    parent = _get(doc, path[:-1], index)
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _failed(index, f"index {last!r} is out of range")
    else:
        raise _failed(index, f'parent of "/{"/".join(path)}" is not a container')
    return doc


def _remove(doc: Any, path: list[str], index: int) -> Any:
    if not path:
        raise _failed(index, "cannot remove the whole document")
    parent = _get(doc, path[:-1], index)
    _get(parent, path[-1:], index)
    if isinstance(parent, dict):
        del parent[path[-1]]
    else:
        del parent[int(path[-1])]
    return doc


def _failed(index: int, why: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        f"the server rejected our request due to an error in our request "
        f"(json patch operation {index}: {why})",
        {},
    )
