"""Provision a tenant: render a template into its secret in one call.

Provisioning is idempotent. Re-running it keeps every generated value
that already exists (a re-run never changes a password behind the
instance's back), recomputes parameter and literal keys, keeps keys an
operator added by hand, and writes a version only if something changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from platxa_secrets.core.names import check_namespace
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import (
    SecretService,
    SecretVersion,
    VersionInfo,
    WriteRequest,
)
from platxa_secrets.services.templates import Rendered, Template, render


@dataclass(frozen=True)
class Provisioned:
    """What a provisioning wrote and which keys it generated or kept."""

    written: VersionInfo
    generated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


class ProvisioningService:
    def __init__(self, runtime: Runtime) -> None:
        self._secrets = SecretService(runtime)

    def provision(
        self, namespace: str, template: Template, params: Mapping[str, str]
    ) -> Provisioned:
        check_namespace(namespace)
        outcome: dict[str, Rendered] = {}

        def change(previous: SecretVersion | None) -> WriteRequest:
            existing = previous.data if previous else None
            rendered = render(template, namespace, params, existing)
            outcome["rendered"] = rendered
            data = dict(existing or {})
            data.update(rendered.data)
            return WriteRequest(namespace, rendered.secret_name, data, rendered.type)

        name = render(template, namespace, params).secret_name
        written = self._secrets.update(namespace, name, change, "secret.provision")
        rendered = outcome["rendered"]
        return Provisioned(written, rendered.generated, rendered.kept)
