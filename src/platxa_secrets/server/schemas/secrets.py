"""Bodies of the secret routes: writes, reads, versions, provisioning."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from platxa_secrets.core.shapes import quoted
from platxa_secrets.server.schemas.common import Base64Value, Body, KeyName, Text
from platxa_secrets.services.secret_models import MAX_VERSION, VersionInfo

ParamName = Annotated[
    str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
]


class SecretWrite(Body):
    """A whole new version: what it holds replaces the previous version.

    `data` holds base64 values, `string_data` text (stored as UTF-8),
    as in a Kubernetes Secret; a key may appear in only one of them.
    `cas` (or an `If-Match` header) makes the write conditional. At
    least one key: an empty version would hide the values before it.
    """

    type: Annotated[str, Field(min_length=1, max_length=253)] | None = Field(
        None, description="Opaque (default), kubernetes.io/tls, …"
    )
    data: dict[KeyName, Base64Value] = Field(default_factory=dict)
    string_data: dict[KeyName, Text] = Field(default_factory=dict)
    cas: int | None = Field(
        None,
        ge=0,
        le=MAX_VERSION,
        description="0: only if the secret does not exist; N: only if its "
        "newest version is N. A mismatch is 409.",
    )

    @model_validator(mode="after")
    def _one_place_per_key(self) -> SecretWrite:
        if not self.data and not self.string_data:
            raise ValueError(
                "data and string_data are both empty; a version holds at least "
                "one key (to remove a secret, DELETE it)"
            )
        both = sorted(set(self.data) & set(self.string_data))
        if both:
            raise ValueError(
                f"key {quoted(both[0])} is in both data and string_data; give it once"
            )
        return self

    def values(self) -> dict[str, bytes]:
        merged = dict(self.data)
        merged.update((k, v.encode("utf-8")) for k, v in self.string_data.items())
        return merged


class SecretOut(BaseModel):
    """One decrypted version; `data` values are base64."""

    namespace: str
    name: str
    version: int
    type: str
    created_at: str
    created_by: str
    data: dict[str, str] = Field(description="key → base64 value")


class VersionOut(BaseModel):
    """A version without values: listings, history and write results."""

    namespace: str
    name: str
    version: int
    type: str
    state: str = Field(description="live, deleted or destroyed")
    created_at: str
    created_by: str
    keys: list[str]
    kids: list[str] = Field(description="data key ids of the values")
    deleted_at: str | None = None
    destroyed_at: str | None = None

    @classmethod
    def of(cls, info: VersionInfo) -> VersionOut:
        return cls(
            namespace=info.namespace,
            name=info.name,
            version=info.version,
            type=info.type,
            state=info.state,
            created_at=info.created_at,
            created_by=info.created_by,
            keys=list(info.keys),
            kids=[kid for kid in info.kids if kid],
            deleted_at=info.deleted_at,
            destroyed_at=info.destroyed_at,
        )


class WriteOut(VersionOut):
    changed: bool = Field(description="false when nothing differed")

    @classmethod
    def of(cls, info: VersionInfo) -> WriteOut:
        return cls(**VersionOut.of(info).model_dump(), changed=info.changed)


class VersionList(BaseModel):
    items: list[VersionOut]


class MarkedVersions(BaseModel):
    """Versions a delete, undelete or destroy changed."""

    namespace: str
    name: str
    versions: list[int]


class ProvisionIn(Body):
    """Render a built-in template into the namespace's secret."""

    template: Annotated[str, Field(min_length=1, max_length=63)] = Field(
        "odoo", description="a built-in template name"
    )
    params: dict[ParamName, Annotated[Text, Field(max_length=65536)]] = Field(
        default_factory=dict,
        description="template parameters; secret ones are fine here (not argv)",
    )


class ProvisionOut(BaseModel):
    namespace: str
    name: str
    version: int
    changed: bool
    keys: list[str]
    generated: list[str] = Field(description="keys given a new generated value")
    kept: list[str] = Field(description="generated keys that kept their value")
