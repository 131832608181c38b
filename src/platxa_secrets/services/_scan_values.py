"""Find the store's own values in text, by keyed fingerprint only.

The scan decrypts the newest version of every secret once, keeps an
HMAC-SHA256 of each value under a key derived from the master key, and
drops the value. Text is then cut into candidates and each candidate's
HMAC is looked up (after a check of its length, which rules out most):

- every whole line, and what follows the first `=` or `:` on it
  (unquoted), for values that hold a separator themselves;
- every run between separators (whitespace, quotes, `=`, `:`, `,`),
  and between finer ones as well (`@`, `/`, `;`, `&`, `?`) for a
  password inside a URL;
- the decoding of every base64 or hex run (one wrapped over lines
  joined first), since a Kubernetes manifest holds its values
  base64-encoded;
- a whole file, for a value committed as a file of its own.

The fingerprints live in memory only; without the master key they say
nothing about the values. Values shorter than `MIN_VALUE_BYTES` are not
fingerprinted: words that short turn up everywhere. A multi-line value
is found as a whole file or encoded, not spread over lines of a bigger
file (a private key there is still found by its shape).
"""

from __future__ import annotations

import hmac
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from platxa_secrets.core.leaks import LineIndex, encoded_runs
from platxa_secrets.core.store import secret_rows
from platxa_secrets.errors import CryptoError
from platxa_secrets.logs import get_logger
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.secret_models import value_context

MIN_VALUE_BYTES = 8
STORED_VALUE = "stored-value"
_PURPOSE = "leak scan value fingerprints v1"
_PIECES = (
    re.compile(r"[^\s'\"`=:,]{8,}"),
    # and finer, for a password inside a URL or a query string
    re.compile(r"[^\s'\"`=:,@/;&?]{8,}"),
)
_LINE = re.compile(r"^[ \t]*(\S(?:.*\S)?)", re.MULTILINE)
_ASSIGNED = re.compile(r"^[^=:\n]*?[=:][ \t]*(\S(?:.*\S)?)", re.MULTILINE)
_QUOTES = "'\"`"

log = get_logger(__name__)


@dataclass(frozen=True)
class ValueMatch:
    """A stored value found in text: where, and which secrets hold it."""

    line: int
    column: int
    fingerprint: str
    secrets: tuple[str, ...]


@dataclass
class StoredValues:
    """Keyed fingerprints of the store's values; the values are not kept."""

    _key: bytes = field(repr=False)
    _owners: dict[bytes, list[str]] = field(default_factory=dict, repr=False)
    # Lengths (in bytes and in characters) of the fingerprinted forms:
    # most candidates are passed over by length, before any HMAC.
    _lengths: set[int] = field(default_factory=set, repr=False)
    fingerprinted: int = 0
    too_short: int = 0
    public: int = 0
    undecryptable: int = 0

    def add(self, value: bytes, owner: str) -> None:
        """Fingerprint a value (and its trimmed form) for `owner`."""
        forms = {
            form for form in (value, value.strip()) if len(form) >= MIN_VALUE_BYTES
        }
        if not forms:
            self.too_short += 1
            return

        self.fingerprinted += 1
        for form in forms:
            self._lengths.update({len(form), len(_as_text(form))})
            owners = self._owners.setdefault(self._mac(form), [])
            if owner not in owners:
                owners.append(owner)

    def find(self, text: str, whole_file: bool = False) -> list[ValueMatch]:
        """Every place in `text` that holds a fingerprinted value.

        A value found several ways on one line (whole, unquoted, as a
        piece) is reported once, at its leftmost column.
        """
        if not self._owners:
            return []

        lines = LineIndex(text)
        places: dict[tuple[int, tuple[str, ...]], ValueMatch] = {}
        candidates = _candidates(text)
        if whole_file and "\n" in text.strip():
            candidates = itertools.chain([(0, text.strip())], candidates)

        for offset, candidate in candidates:
            if len(candidate) not in self._lengths:
                continue
            mac = self._mac(candidate.encode("utf-8", "surrogateescape"))
            owners = self._owners.get(mac)
            if not owners or not lines.scannable(offset):
                continue
            line, column = lines.locate(offset)
            match = ValueMatch(line, column, mac.hex()[:8], tuple(owners))
            known = places.get((line, match.secrets))
            if known is None or column < known.column:
                places[(line, match.secrets)] = match
        return list(places.values())

    def _mac(self, data: bytes) -> bytes:
        return hmac.digest(self._key, data, "sha256")


def load_stored_values(runtime: Runtime) -> StoredValues:
    """Fingerprint the newest version of every secret (unless destroyed).

    A value that does not decrypt is counted and logged by name, and
    the scan goes on: one damaged row must not hide every other leak.
    """
    runtime.ready()
    values = StoredValues(runtime.master_keys.derive(_PURPOSE))
    with runtime.database.read() as tx:
        rows = [
            (secret, row.version, secret_rows.get_values(tx, secret.id, row.version))
            for secret, row in secret_rows.list_secrets(tx, None)
            if row.state != "destroyed"
        ]

    for secret, version, stored in rows:
        for value in stored:
            if value.ciphertext is None:
                continue
            owner = f"{secret.namespace}/{secret.name} key {value.key}"
            context = value_context(secret.namespace, secret.name, version, value.key)
            try:
                keyring = runtime.keyring_for(value.kid)
                plain = keyring.decrypt(
                    value.ciphertext, context, f"{owner} v{version}"
                )
            except CryptoError as exc:
                values.undecryptable += 1
                log.warning("scan: %s", exc.message)
                continue
            if _names_itself(plain.value, secret.namespace, secret.name, value.key):
                values.public += 1
                continue
            values.add(plain.value, owner)
    return values


def _names_itself(value: bytes, *identity: str) -> bool:
    """A value equal to its own namespace, name or key (a template's
    `DB_NAME` defaults to the namespace): public, and it would match
    every mention of the tenant."""
    return value.strip() in {part.encode() for part in identity}


def _candidates(text: str) -> Iterator[tuple[int, str]]:
    """(offset, candidate) pairs, in the order the module docstring lists."""
    for match in _LINE.finditer(text):
        yield match.start(1), match.group(1)

    for match in _ASSIGNED.finditer(text):
        yield from _unquoted(match.start(1), match.group(1))

    for pattern in _PIECES:
        for match in pattern.finditer(text):
            yield match.start(), match.group()

    for run in encoded_runs(text, 12):
        decoded_text = _as_text(run.decoded)
        yield run.start, decoded_text
        yield run.start, decoded_text.strip()


def _as_text(value: bytes) -> str:
    """A value as candidates are: UTF-8, stray bytes kept (surrogateescape).

    Not `leaks.as_text`, which reads UTF-16 as a file: a binary value
    must round-trip to its own bytes to match its fingerprint.
    """
    return value.decode("utf-8", "surrogateescape")


def _unquoted(start: int, rest: str) -> Iterator[tuple[int, str]]:
    """An assignment's right side: as is, without a trailing comma, unquoted."""
    yield start, rest
    yield start, rest.removesuffix(",").rstrip()
    if rest[:1] in _QUOTES:
        closing = rest.find(rest[0], 1)
        if closing > 0:
            yield start + 1, rest[1:closing]
