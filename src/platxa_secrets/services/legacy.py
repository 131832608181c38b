"""Migrate credentials that older Platxa code encrypted with plain Fernet.

Older code kept one row per instance with password columns holding bare
Fernet tokens, under keys configured as strings — either proper Fernet
keys or raw strings it turned into keys (first 32 characters, padded
with spaces, url-safe base64). A migration reads an export of those rows
(CSV), decrypts every encrypted column with the old keys, and plans one
secret per row, to be written re-encrypted under the keyring.

The plan is all or nothing: if any row fails, the error names every row
that failed and why, and nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken

from platxa_secrets.core import names
from platxa_secrets.core.crypto.ciphertext import parse_unverified
from platxa_secrets.core.text import decode_or_none
from platxa_secrets.errors import CryptoError, PlatxaSecretsError, ValidationError
from platxa_secrets.services.secrets import WriteRequest

_MAX_REPORTED = 20


@dataclass(frozen=True)
class LegacyMapping:
    """Which CSV columns become which keys of the migrated secret."""

    namespace_column: str
    secret_name: str
    encrypted: Mapping[str, str]
    plain: Mapping[str, str] = field(default_factory=dict)
    secret_type: str = "Opaque"


@dataclass(frozen=True)
class LegacyPlan:
    """Secrets to write, and how many values each legacy key decrypted."""

    requests: list[WriteRequest]
    rows: int
    by_key: dict[int, int]
    empty_cells: int


class LegacyMigrationError(ValidationError):
    """One or more rows could not be migrated; nothing was written."""


def plan_migration(
    content: bytes, source: str, keys: list[bytes], mapping: LegacyMapping
) -> LegacyPlan:
    """Decrypt every row of the export and plan the secrets to write."""
    names.check_name(mapping.secret_name, "--secret")
    for key in [*mapping.encrypted, *mapping.plain]:
        names.check_key(key)
    rows, columns = _read_csv(content, source)
    _check_columns(columns, mapping, source)

    fernets = [Fernet(key) for key in keys]
    requests: list[WriteRequest] = []
    failures: list[str] = []
    by_key: Counter[int] = Counter()
    empty = 0
    seen: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        label = f"line {number}" + (f" (id={row['id']})" if row.get("id") else "")
        try:
            namespace = _namespace(row.get(mapping.namespace_column), mapping)
            if namespace in seen:
                raise ValidationError(
                    f"namespace {namespace} repeats {seen[namespace]}"
                )
            seen[namespace] = label

            data: dict[str, bytes] = {}
            for key, column in mapping.encrypted.items():
                token = (row.get(column) or "").strip()
                if not token:
                    empty += 1
                    data[key] = b""
                    continue
                index, data[key] = _decrypt(token, fernets, f"column {column}")
                by_key[index] += 1
            for key, column in mapping.plain.items():
                data[key] = (row.get(column) or "").encode("utf-8")
        except PlatxaSecretsError as exc:
            failures.append(f"{label}: {exc.message}")
            continue

        requests.append(
            WriteRequest(namespace, mapping.secret_name, data, mapping.secret_type)
        )

    if failures:
        shown = failures[:_MAX_REPORTED]
        more = len(failures) - len(shown)
        raise LegacyMigrationError(
            f"{len(failures)} of {len(rows)} rows of {source} cannot be migrated; "
            "nothing was written:\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else ""),
            field="csv",
        )
    return LegacyPlan(requests, len(rows), dict(by_key), empty)


def _namespace(cell: str | None, mapping: LegacyMapping) -> str:
    """The row's namespace; an invalid cell is not quoted (it may be a value)."""
    candidate = (cell or "").strip()
    try:
        return names.check_namespace(candidate)
    except ValidationError:
        pass
    raise ValidationError(
        f"column {mapping.namespace_column} is not a valid namespace (an RFC 1123 "
        "label: lower-case letters, digits and '-', at most 63 characters)",
        field=mapping.namespace_column,
    )


def _read_csv(content: bytes, source: str) -> tuple[list[dict[str, str]], list[str]]:
    text = decode_or_none(content, "utf-8-sig")
    if text is None:
        raise ValidationError(f"{source} is not UTF-8 text", field="csv")

    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = list(reader)
    except csv.Error:
        # The csv module's message may quote the offending field.
        raise ValidationError(f"{source} is not well-formed CSV", field="csv") from None

    if not reader.fieldnames:
        raise ValidationError(f"{source} has no header row", field="csv")
    return rows, list(reader.fieldnames)


def _check_columns(columns: list[str], mapping: LegacyMapping, source: str) -> None:
    wanted = [
        mapping.namespace_column,
        *mapping.encrypted.values(),
        *mapping.plain.values(),
    ]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ValidationError(
            f"{source} has no column(s) {', '.join(missing)} "
            f"(columns: {', '.join(columns)})",
            field="csv",
        )


def _decrypt(token: str, fernets: list[Fernet], where: str) -> tuple[int, bytes]:
    """Decrypt a bare Fernet token with the first legacy key that fits."""
    parsed = parse_unverified(token, where)
    for index, fernet in enumerate(fernets, start=1):
        try:
            return index, fernet.decrypt(parsed.token)
        except InvalidToken:
            continue
    raise CryptoError(f"{where} decrypts under none of the {len(fernets)} keys")
