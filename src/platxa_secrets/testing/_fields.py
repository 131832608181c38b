"""Field ownership: `metadata.managedFields` and server-side apply.

A Secret's fields, as server-side apply tracks them, are the keys of
`data`, `stringData`, `metadata.labels` and `metadata.annotations`,
plus `type` and `immutable`. Each manager owns a set of them, recorded
as a FieldsV1 tree that lists names only:

    {"manager": "platxa-secrets", "operation": "Apply", "apiVersion": "v1",
     "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
     "fieldsV1": {"f:data": {"f:password": {}}, "f:type": {}}}

An `Update` (POST, PUT, non-apply PATCH) takes the fields it changes
from everyone else. An `Apply` sets the fields it names; a field that
another manager owns with a different value is a conflict (409) unless
`force=true` takes it over; a field the applier owned before, no
longer names and nobody else owns is removed. As on a real server, an
applied `stringData` key is tracked as `f:stringData`, since that is
the field the applier named, even though only `data` is stored.

Values are compared, never recorded nor quoted in a conflict message.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterable
from typing import Any

from platxa_secrets.testing._status import JSON, ApiError

Path = tuple[str, ...]

_MAPS: tuple[Path, ...] = (
    ("data",),
    ("stringData",),
    ("metadata", "labels"),
    ("metadata", "annotations"),
)
_LEAVES: tuple[Path, ...] = (("type",), ("immutable",))
_MISSING = object()


def field_paths(obj: JSON) -> set[Path]:
    """The tracked fields that `obj` sets."""
    paths = {leaf for leaf in _LEAVES if obj.get(leaf[0]) is not None}
    for prefix in _MAPS:
        mapping = _lookup(obj, prefix)
        if isinstance(mapping, dict):
            paths.update((*prefix, key) for key in mapping)
    return paths


def fields_v1(paths: Iterable[Path]) -> JSON:
    """Render paths as a FieldsV1 tree: `{"f:data": {"f:KEY": {}}}`."""
    tree: JSON = {}
    for path in sorted(paths):
        node = tree
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return tree


def parse_fields_v1(tree: JSON, prefix: Path = ()) -> set[Path]:
    """The leaf paths of a FieldsV1 tree; `.` markers carry no field."""
    paths: set[Path] = set()
    for name, child in tree.items():
        if not name.startswith("f:"):
            continue
        path = (*prefix, name[2:])
        if isinstance(child, dict) and any(k.startswith("f:") for k in child):
            paths |= parse_fields_v1(child, path)
        else:
            paths.add(path)
    return paths


def record_update(
    entries: list[JSON], old: JSON | None, new: JSON, manager: str, now: str
) -> list[JSON]:
    """Managed fields after an `Update` by `manager` turned `old` into `new`."""
    before = field_paths(old) if old is not None else set()
    after = field_paths(new)
    removed = before - after
    changed = {p for p in after if old is None or _value(old, p) != _value(new, p)}

    owned = _owned(entries)
    for key in owned:
        owned[key] -= removed | changed
    key = (manager, "Update")
    if changed:
        owned[key] = owned.get(key, set()) | changed
    return _render(entries, owned, {key} if changed else set(), now)


def apply(
    live: JSON | None,
    config: JSON,
    entries: list[JSON],
    manager: str,
    force: bool,
    now: str,
) -> tuple[JSON, list[JSON]]:
    """Merge an applied configuration into `live`; 409 on conflicts."""
    base = copy.deepcopy(live) if live is not None else {}
    wanted = field_paths(config)
    owned = _owned(entries)
    mine = (manager, "Apply")

    conflicts = [
        (other, path)
        for other, paths in owned.items()
        if other[0] != manager
        for path in sorted(wanted & paths)
        if _value(base, path) != _value(config, path)
    ]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for other, path in conflicts:
        owned[other].discard(path)

    others = set().union(*(p for k, p in owned.items() if k != mine))
    for path in owned.get(mine, set()) - wanted - others:
        _delete(base, path)
    for path in wanted:
        _assign(base, path, copy.deepcopy(_lookup(config, path)))
    for field in ("ownerReferences", "finalizers"):
        if field in config.get("metadata", {}):
            base.setdefault("metadata", {})[field] = config["metadata"][field]

    owned[mine] = wanted
    return base, _render(entries, owned, {mine}, now)


def _owned(entries: list[JSON]) -> dict[tuple[str, str], set[Path]]:
    owned: dict[tuple[str, str], set[Path]] = {}
    for entry in entries:
        key = (entry["manager"], entry["operation"])
        owned[key] = owned.get(key, set()) | parse_fields_v1(entry.get("fieldsV1", {}))
    return owned


def _render(
    entries: list[JSON],
    owned: dict[tuple[str, str], set[Path]],
    touched: set[tuple[str, str]],
    now: str,
) -> list[JSON]:
    """Entries in their first-seen order, empty ones dropped."""
    times = {(e["manager"], e["operation"]): e.get("time", now) for e in entries}
    order = list(dict.fromkeys([*times, *owned]))
    rendered = []
    for key in order:
        paths = owned.get(key, set())
        if not paths:
            continue
        rendered.append(
            {
                "manager": key[0],
                "operation": key[1],
                "apiVersion": "v1",
                "time": now if key in touched else times.get(key, now),
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(paths),
            }
        )
    return rendered


def _conflict_error(conflicts: list[tuple[tuple[str, str], Path]]) -> ApiError:
    by_manager: dict[str, list[str]] = {}
    for (manager, _), path in conflicts:
        by_manager.setdefault(manager, []).append("." + ".".join(path))

    lines = []
    for manager, fields in by_manager.items():
        if len(fields) == 1:
            lines.append(f'conflict with "{manager}" using v1: {fields[0]}')
        else:
            listed = "\n".join(f"- {field}" for field in fields)
            lines.append(f'conflicts with "{manager}" using v1:\n{listed}')
    count = len(conflicts)
    noun = "conflict" if count == 1 else "conflicts"
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f'conflict with "{manager}" using v1',
            "field": "." + ".".join(path),
        }
        for (manager, _), path in conflicts
    ]
    return ApiError(
        409,
        "Conflict",
        f"Apply failed with {count} {noun}: " + "\n".join(lines),
        {"causes": causes},
    )


def _value(obj: JSON, path: Path) -> Any:
    """A field's value in comparable form: `data` compares decoded bytes."""
    value = _lookup(obj, path)
    if path[0] == "data" and isinstance(value, str):
        try:
            return base64.b64decode(value.replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            return value
    return value


def _lookup(obj: JSON, path: Path) -> Any:
    node: Any = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _assign(obj: JSON, path: Path, value: Any) -> None:
    node = obj
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _delete(obj: JSON, path: Path) -> None:
    node = _lookup(obj, path[:-1]) if len(path) > 1 else obj
    if isinstance(node, dict):
        node.pop(path[-1], None)
