"""The master key chain: key-encryption keys supplied from outside the DB.

Master keys only wrap data keys (DESIGN §2). They are looked up in this
order, first match wins:

1. `PLATXA_SECRETS_MASTER_KEY` — one key, or a comma-separated list whose
   first entry is the primary (the one that wraps); the others unwrap;
2. `PLATXA_SECRETS_MASTER_KEY_FILE` — a file readable by its owner only,
   one key per line, first line primary;
3. `master_key` / `master_key_file` in the config file;
4. development only: a random key created once in the data directory with
   mode 0600. In production mode a missing master key stops startup.

Each master key has an id (`mkid`) derived from it, recorded beside every
wrapped data key so unwrapping goes straight to the right master key.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from platxa_secrets.core.config import Config
from platxa_secrets.core.crypto.fernet_keys import key_id, parse_fernet_key
from platxa_secrets.errors import ConfigError, CryptoError


@dataclass(frozen=True)
class MasterKeys:
    """The loaded master keys; the first is primary. Keys stay out of repr."""

    ids: tuple[str, ...]
    source: str
    created_file: Path | None = None
    _fernets: dict[str, Fernet] = field(default_factory=dict, repr=False)
    _primary_key: bytes = field(default=b"", repr=False)

    @property
    def primary_id(self) -> str:
        return self.ids[0]

    def wrap(self, data_key: bytes) -> tuple[str, str]:
        """Encrypt a data key under the primary master key."""
        token = self._fernets[self.primary_id].encrypt(data_key)
        return self.primary_id, token.decode("ascii")

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for `purpose`, derived from the primary master key.

        Used where a keyed hash must be verifiable by every replica without
        storing another key (the content hash on Kubernetes Secrets). It
        changes when the primary master key does.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.hmac import HMAC

        mac = HMAC(self._primary_key, hashes.SHA256())
        mac.update(b"platxa-secrets derived key v1\x00" + purpose.encode())
        return mac.finalize()

    def unwrap(self, mkid: str, wrapped: str, kid: str) -> bytes:
        """Decrypt the data key `kid`, wrapped under master key `mkid`."""
        fernet = self._fernets.get(mkid)
        if fernet is None:
            raise ConfigError(
                f"data key {kid} is wrapped by master key {mkid}, which is not "
                f"among the configured master keys ({', '.join(self.ids)}); "
                f"supply it as a secondary key in {self.source}",
                kid=kid,
            )
        try:
            return fernet.decrypt(wrapped.encode("ascii"))
        except (InvalidToken, ValueError):
            raise CryptoError(
                f"data key {kid} does not decrypt under master key {mkid}: the "
                "stored wrapped key is damaged",
                kid=kid,
            ) from None


def build_master_keys(
    keys: list[bytes], source: str, created_file: Path | None = None
) -> MasterKeys:
    """Assemble `MasterKeys` from already validated Fernet keys."""
    fernets: dict[str, Fernet] = {}
    ids: list[str] = []
    for key in keys:
        mkid = key_id(key)
        if mkid not in fernets:
            fernets[mkid] = Fernet(key)
            ids.append(mkid)
    return MasterKeys(tuple(ids), source, created_file, fernets, keys[0])


def load_master_keys(config: Config, create_fallback: bool = False) -> MasterKeys:
    """Find the master keys following the chain in the module docstring.

    The development key is created only when `create_fallback` is set
    (by `pxs init`); any other command without a master key stops, so
    it cannot invent a key that does not match the store's data keys.
    """
    if config.master_key:
        entries = config.master_key.split(",")
        keys = [
            parse_fernet_key(entry, f"{config.master_key_source} entry {i}")
            for i, entry in enumerate(entries, start=1)
        ]
        return build_master_keys(keys, config.master_key_source)

    if config.master_key_file is not None:
        return build_master_keys(
            read_key_file(config.master_key_file), str(config.master_key_file)
        )

    if config.production:
        raise ConfigError(
            "no master key: production mode (PLATXA_SECRETS_ENV=production) "
            "needs PLATXA_SECRETS_MASTER_KEY or PLATXA_SECRETS_MASTER_KEY_FILE",
            field="master_key",
        )

    path = config.fallback_key_file
    if not create_fallback and not path.exists():
        raise ConfigError(
            f"no master key: supply PLATXA_SECRETS_MASTER_KEY or "
            f"PLATXA_SECRETS_MASTER_KEY_FILE, or run `pxs init` to create a "
            f"development key in {path}",
            field="master_key",
        )
    created = _ensure_fallback(path)
    keys = read_key_file(path)
    return build_master_keys(keys, str(path), path if created else None)


def read_key_file(path: Path) -> list[bytes]:
    """Read master keys from a file only its owner can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"master key file {path} does not exist") from None

    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"master key file {path} is accessible by group or others (mode "
            f"{stat.S_IMODE(mode):04o}); it must be readable by its owner only: "
            f"chmod 600 {path}",
            field="master_key_file",
        )

    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"master key file {path}: {exc.strerror}") from None

    keys = [
        parse_fernet_key(line, f"master key file {path} line {number}")
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not keys:
        raise ConfigError(f"master key file {path} is empty", field="master_key_file")
    return keys


def _ensure_fallback(path: Path) -> bool:
    """Create the development key once, never readable by anyone else.

    Returns True when this call created it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists():
        return False

    # Written whole under a private name, then linked into place: a
    # concurrent first run sees either no file or the complete key, and
    # `link` fails if another process won, so there is only ever one key.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True
