"""Bodies of the key routes: data keys, the census, rotation status."""

from __future__ import annotations

from pydantic import BaseModel, Field


class KeyOut(BaseModel):
    """A data key as operators see it: its lifecycle, never its material."""

    kid: str
    state: str = Field(description="pending, active, retired or destroyed")
    origin: str = Field(description="generated or legacy")
    master_kid: str
    created_at: str
    activates_at: str | None
    activated_at: str | None
    retired_at: str | None
    ciphertexts: int


class KeyList(BaseModel):
    items: list[KeyOut]


class CensusOut(BaseModel):
    ciphertexts: dict[str, int] = Field(description="key id → stored ciphertexts")
    legacy: int = Field(description="bare Fernet tokens not yet re-encrypted")
    total: int


class PendingKey(BaseModel):
    kid: str
    activates_at: str | None


class RetiredKey(BaseModel):
    """A retired key: still decrypts until re-encryption empties it."""

    kid: str
    retired_at: str | None
    ciphertexts: int = Field(description="values still to re-encrypt")
    destroy_after: str | None = Field(
        description="end of retention; destroyed then if no ciphertext is left"
    )


class RotationOut(BaseModel):
    active: str | None
    pending: list[PendingKey]
    retired: list[RetiredKey]
    grace_period_seconds: int
    key_retention_seconds: int
