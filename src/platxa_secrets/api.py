"""The library entry point: every service over one runtime.

    import platxa_secrets

    pxs = platxa_secrets.connect()          # configuration from the environment
    pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": b"..."})
    pxs.secrets.get("tenant-a", "odoo").data["DB_PASSWORD"]
    stored = pxs.envelope.encrypt(b"...", "odoo/instance_credential/42/db_password")
    principal = pxs.tokens.authenticate(token_text)   # scopes of an API token
    jwt = pxs.jwt.sign({"sub": "tenant-a"})           # RS256, kid in the header

The CLI and the tests call the same services, so there is one behaviour.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from platxa_secrets.clock import Clock
from platxa_secrets.core.config import Config, load_config
from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.envelope import Envelope
from platxa_secrets.services.keys import KeyService
from platxa_secrets.services.provisioning import ProvisioningService
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secrets import SecretService

if TYPE_CHECKING:  # imported on first use: PyJWT alone costs ~50 ms
    from platxa_secrets.services.jwt_keys import JwtService
    from platxa_secrets.services.tokens import TokenService
    from platxa_secrets.services.webhooks import WebhookService


class Platxa:
    """The services of one process, sharing config, database and keyring."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def __repr__(self) -> str:
        return f"Platxa({self.runtime!r})"

    @cached_property
    def secrets(self) -> SecretService:
        return SecretService(self.runtime)

    @cached_property
    def keys(self) -> KeyService:
        return KeyService(self.runtime)

    @cached_property
    def envelope(self) -> Envelope:
        return Envelope(self.runtime)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.runtime)

    @cached_property
    def provisioning(self) -> ProvisioningService:
        return ProvisioningService(self.runtime)

    @cached_property
    def tokens(self) -> TokenService:
        from platxa_secrets.services.tokens import TokenService

        return TokenService(self.runtime)

    @cached_property
    def jwt(self) -> JwtService:
        from platxa_secrets.services.jwt_keys import JwtService

        return JwtService(self.runtime)

    @cached_property
    def webhooks(self) -> WebhookService:
        from platxa_secrets.services.webhooks import WebhookService

        return WebhookService(self.runtime)

    def close(self) -> None:
        self.runtime.close()


def connect(
    config: Config | None = None,
    *,
    clock: Clock | None = None,
    actor: str | None = None,
) -> Platxa:
    """Open the store named by `config` (default: from the environment)."""
    return Platxa(Runtime(config or load_config(), clock=clock, actor=actor))
