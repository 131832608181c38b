"""`/v1/namespaces/{namespace}/…`: secrets, their versions, provisioning.

Scopes: `read` lists, reads and shows history; `write` writes, deletes,
undeletes and provisions; `admin` on the namespace destroys.

Each route takes its caller from `scoped(level)`: the token and its
scope on the path's namespace are checked before the body is
validated, so a caller without the scope learns none of its rules.

Check-and-set. `PUT` takes the expected newest version either in the
body (`"cas": N`, 0 = must not exist) or as a precondition header,
`If-Match: "N"` (the `ETag` a `GET` returned) or `If-None-Match: *`
(create only). A mismatch is 409 Conflict for `cas` and 412
Precondition Failed for the headers, as RFC 9110 §13.1 asks. A `PUT`
whose type and values equal the newest version's writes nothing and
answers `changed: false`, as `pxs secret set` does; either way the
response's `ETag` is the newest version.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BeforeValidator, Field

from platxa_secrets.errors import ConflictError, ValidationError
from platxa_secrets.server.auth import Caller, scoped
from platxa_secrets.server.problems import PreconditionFailed, body_fields
from platxa_secrets.server.runtimes import Slot
from platxa_secrets.server.schemas.common import (
    SUBDOMAIN_PATTERN,
    NamespacePath,
    encode_base64,
    problem_responses,
    query_integer,
)
from platxa_secrets.server.schemas.secrets import (
    MarkedVersions,
    ProvisionIn,
    ProvisionOut,
    SecretOut,
    SecretWrite,
    VersionList,
    VersionOut,
    WriteOut,
)
from platxa_secrets.services.provisioning import ProvisioningService
from platxa_secrets.services.secret_models import MAX_VERSION
from platxa_secrets.services.secrets import SecretService
from platxa_secrets.services.templates import BUILTINS

router = APIRouter(prefix="/v1/namespaces/{namespace}", tags=["secrets"])
Reader = Annotated[Caller, Depends(scoped("read"))]
Writer = Annotated[Caller, Depends(scoped("write"))]
Owner = Annotated[Caller, Depends(scoped("admin"))]
Namespace = NamespacePath
Name = Annotated[
    str,
    Path(
        min_length=1,
        max_length=253,
        pattern=SUBDOMAIN_PATTERN,
        description="an RFC 1123 subdomain, e.g. odoo",
    ),
]
VersionsQuery = Annotated[
    str | None,
    Query(
        max_length=1000,
        pattern=r"^[0-9]{1,10}(,[0-9]{1,10})*$",
        description="comma-separated versions (default: the newest)",
    ),
]
# Constraints first: after the validator, they would not reach the schema.
Version = Annotated[int, Field(ge=1, le=MAX_VERSION), BeforeValidator(query_integer)]
_ETAG = re.compile(r'\s*"([0-9]{1,10})"\s*|\s*([0-9]{1,10})\s*')


@router.get("/secrets", response_model=VersionList, summary="List secrets")
async def list_secrets(namespace: Namespace, caller: Reader) -> VersionList:
    infos = await caller.run_recorded(
        "secret.list",
        namespace,
        lambda slot: SecretService(slot.runtime).list(namespace),
        lambda found: f"{len(found)} secrets",
    )
    return VersionList(items=[VersionOut.of(info) for info in infos])


@router.get("/secrets/{name}", response_model=SecretOut, summary="Read a secret")
async def get_secret(
    namespace: Namespace,
    name: Name,
    caller: Reader,
    response: Response,
    version: Annotated[Version | None, Query()] = None,
) -> SecretOut:
    found = await caller.run(
        lambda slot: SecretService(slot.runtime).get(namespace, name, version)
    )
    response.headers["ETag"] = f'"{found.version}"'
    return SecretOut(
        namespace=found.namespace,
        name=found.name,
        version=found.version,
        type=found.type,
        created_at=found.created_at,
        created_by=found.created_by,
        data={key: encode_base64(value) for key, value in found.data.items()},
    )


@router.put(
    "/secrets/{name}",
    response_model=WriteOut,
    summary="Write a version",
    responses=problem_responses(412),
)
async def put_secret(
    namespace: Namespace,
    name: Name,
    body: SecretWrite,
    caller: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
    if_none_match: Annotated[str | None, Header(max_length=100)] = None,
) -> WriteOut:
    cas, precondition = _expected_version(body.cas, if_match, if_none_match)
    data = body.values()

    def write(slot: Slot) -> WriteOut:
        service = SecretService(slot.runtime)
        try:
            info = service.put(
                namespace,
                name,
                data,
                secret_type=body.type,
                cas=cas,
                replace=True,
                skip_unchanged=True,
            )
        except ConflictError as exc:
            if precondition:
                raise PreconditionFailed(exc.message, **exc.context) from None
            raise
        return WriteOut.of(info)

    written = await caller.run(write)
    response.headers["ETag"] = f'"{written.version}"'
    return written


@router.get(
    "/secrets/{name}/versions",
    response_model=VersionList,
    summary="History of a secret",
)
async def history(namespace: Namespace, name: Name, caller: Reader) -> VersionList:
    infos = await caller.run_recorded(
        "secret.history",
        namespace,
        lambda slot: SecretService(slot.runtime).history(namespace, name),
        lambda found: f"{name}: {len(found)} versions",
    )
    return VersionList(items=[VersionOut.of(info) for info in infos])


@router.delete(
    "/secrets/{name}", response_model=MarkedVersions, summary="Soft-delete versions"
)
async def delete_secret(
    namespace: Namespace, name: Name, caller: Writer, versions: VersionsQuery = None
) -> MarkedVersions:
    chosen = _versions(versions)
    changed = await caller.run(
        lambda slot: SecretService(slot.runtime).delete(namespace, name, chosen)
    )
    return MarkedVersions(namespace=namespace, name=name, versions=changed)


@router.post(
    "/secrets/{name}/undelete",
    response_model=MarkedVersions,
    summary="Restore soft-deleted versions",
)
async def undelete_secret(
    namespace: Namespace, name: Name, caller: Writer, versions: VersionsQuery = None
) -> MarkedVersions:
    chosen = _versions(versions)
    changed = await caller.run(
        lambda slot: SecretService(slot.runtime).undelete(namespace, name, chosen)
    )
    return MarkedVersions(namespace=namespace, name=name, versions=changed)


@router.post(
    "/secrets/{name}/destroy",
    response_model=MarkedVersions,
    summary="Erase versions for good (admin on the namespace)",
)
async def destroy_secret(
    namespace: Namespace, name: Name, caller: Owner, versions: VersionsQuery = None
) -> MarkedVersions:
    chosen = _versions(versions)
    changed = await caller.run(
        lambda slot: SecretService(slot.runtime).destroy(namespace, name, chosen)
    )
    return MarkedVersions(namespace=namespace, name=name, versions=changed)


@router.post(
    "/provision", response_model=ProvisionOut, summary="Provision from a template"
)
async def provision(
    namespace: Namespace, body: ProvisionIn, caller: Writer
) -> ProvisionOut:
    template = BUILTINS.get(body.template)
    if template is None:
        raise ValidationError(
            f"template must be a built-in template: {', '.join(sorted(BUILTINS))}",
            field="body.template",
        )

    with body_fields({"parameters": "params"}):
        result = await caller.run(
            lambda slot: ProvisioningService(slot.runtime).provision(
                namespace, template, body.params
            )
        )
    written = result.written
    return ProvisionOut(
        namespace=written.namespace,
        name=written.name,
        version=written.version,
        changed=written.changed,
        keys=list(written.keys),
        generated=list(result.generated),
        kept=list(result.kept),
    )


def _versions(text: str | None) -> list[int]:
    return [int(part) for part in text.split(",")] if text else []


def _expected_version(
    cas: int | None, if_match: str | None, if_none_match: str | None
) -> tuple[int | None, bool]:
    """The `cas` to write with, and whether it came from a header."""
    if if_match is None and if_none_match is None:
        return cas, False
    if cas is not None or (if_match is not None and if_none_match is not None):
        raise ValidationError(
            "give one check-and-set: the cas field, If-Match or If-None-Match",
            field="body.cas",
        )
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise ValidationError(
                'If-None-Match must be "*" (create only)',
                field="header.if-none-match",
            )
        return 0, True

    match = _ETAG.fullmatch(if_match or "")
    if match is None or int(match.group(1) or match.group(2)) < 1:
        raise ValidationError(
            'If-Match must be one version as an entity tag, such as "3"',
            field="header.if-match",
        )
    return int(match.group(1) or match.group(2)), True
