"""Alertmanager notifications for tests, built from the shared fixture."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "alertmanager"
    / "certificate-expiring.json"
)
CANARY = "CANARY-4b7e-annotation-text"


def fixture_document() -> dict[str, Any]:
    """The fixture notification as a fresh, mutable document."""
    document: dict[str, Any] = json.loads(FIXTURE.read_bytes())
    return document


def alert(**changes: Any) -> dict[str, Any]:
    """The fixture's alert with `changes`; a value of ... removes the key."""
    item: dict[str, Any] = copy.deepcopy(fixture_document()["alerts"][0])
    for key, value in changes.items():
        if value is ...:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def notification(*alerts: dict[str, Any], **changes: Any) -> bytes:
    """A version 4 body holding `alerts` (default: the fixture's one)."""
    document = fixture_document()
    if alerts:
        document["alerts"] = list(alerts)
    for key, value in changes.items():
        if value is ...:
            document.pop(key, None)
        else:
            document[key] = value
    return json.dumps(document).encode()
