"""Build the configuration and runtime once per CLI invocation."""

from __future__ import annotations

import click

from platxa_secrets.core.config import load_config
from platxa_secrets.services.runtime import Runtime


def runtime() -> Runtime:
    """The process's runtime, created on first use and closed at exit."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    root.ensure_object(dict)
    existing = root.obj.get("runtime")
    if isinstance(existing, Runtime):
        return existing

    created = Runtime(load_config())
    root.obj["runtime"] = created
    root.call_on_close(created.close)
    return created
