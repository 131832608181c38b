"""Bodies of encryption as a service: encrypt, decrypt, rewrap.

Each item carries a context such as `tenant-acme/odoo/db`: the value is
bound to it (decrypting with another context fails) and its first
segment is the namespace whose scope the caller needs. A batch holds
1 to `MAX_ITEMS` items.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from platxa_secrets.core.names import check_namespace
from platxa_secrets.errors import ValidationError
from platxa_secrets.server.schemas.common import Base64Value, Body

MAX_ITEMS = 1000
MAX_CONTEXT = 1024
MAX_CIPHERTEXT = 2 * 1024 * 1024


def namespace_of(context: str) -> str:
    """The namespace a context belongs to: its first `/` segment."""
    return context.split("/", 1)[0]


def _check_context(context: str) -> str:
    try:
        check_namespace(namespace_of(context))
    except ValidationError:
        raise ValueError(
            "must start with a namespace (an RFC 1123 label: lower-case letters, "
            "digits and '-') followed by '/', as in 'tenant-acme/odoo/db'"
        ) from None
    if not context.isprintable():
        raise ValueError("must be printable text (no control characters)")
    return context


Context = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CONTEXT,
        description="what the value protects; first segment = namespace",
        examples=["tenant-acme/odoo/db"],
    ),
    AfterValidator(_check_context),
]
Ciphertext = Annotated[str, Field(min_length=1, max_length=MAX_CIPHERTEXT)]


class PlainItem(Body):
    plaintext: Base64Value
    context: Context


class SealedItem(Body):
    ciphertext: Ciphertext = Field(description="pxs1:<kid>:<token>, or legacy")
    context: Context


class EncryptIn(Body):
    items: list[PlainItem] = Field(min_length=1, max_length=MAX_ITEMS)


class DecryptIn(Body):
    items: list[SealedItem] = Field(min_length=1, max_length=MAX_ITEMS)


class CiphertextOut(BaseModel):
    ciphertext: str


class EncryptOut(BaseModel):
    items: list[CiphertextOut]


class PlaintextResult(BaseModel):
    """One decrypted item, or the one word of why not."""

    plaintext: str | None = Field(None, description="base64, when it decrypted")
    error: str | None = Field(None, description='"invalid ciphertext"')


class DecryptOut(BaseModel):
    items: list[PlaintextResult]


class RewrapResult(BaseModel):
    """One re-encrypted item (never its plaintext), or why not."""

    ciphertext: str | None = None
    error: str | None = Field(None, description='"invalid ciphertext"')


class RewrapOut(BaseModel):
    items: list[RewrapResult]
