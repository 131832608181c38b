"""What every service shares in one process: config, database, keyring.

Built once by an interface (CLI command, server start-up, a library
caller through `platxa_secrets.connect`) and handed to each service. The
keyring is loaded on first use and reloaded after `keyring_refresh`, so a
long-running replica learns of a new key well inside the grace period.
"""

from __future__ import annotations

import os
from datetime import datetime

from platxa_secrets.clock import Clock, SystemClock, to_text
from platxa_secrets.core.config import Config
from platxa_secrets.core.crypto.keyring import Keyring
from platxa_secrets.core.crypto.master import MasterKeys, load_master_keys
from platxa_secrets.core.store import key_rows
from platxa_secrets.core.store.db import Database, Tx
from platxa_secrets.core.store.schema_check import check_schema
from platxa_secrets.logs import get_logger

log = get_logger(__name__)


class Runtime:
    """Shared state for the services of one process."""

    def __init__(
        self,
        config: Config,
        clock: Clock | None = None,
        actor: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.actor = actor or config.actor
        self.request_id = request_id or os.urandom(16).hex()
        self.database = Database(config.database_url)
        self._master: MasterKeys | None = None
        self._keyring: Keyring | None = None
        self._keyring_loaded: datetime | None = None
        self._schema_checked = False

    def __repr__(self) -> str:
        return f"Runtime({self.database!r}, actor={self.actor!r})"

    def now(self) -> str:
        return to_text(self.clock.now())

    @property
    def master_keys(self) -> MasterKeys:
        """The master keys; warns when it creates the development key."""
        return self.load_master_keys()

    def load_master_keys(self, create_fallback: bool = False) -> MasterKeys:
        if self._master is None:
            self._master = load_master_keys(self.config, create_fallback)
            if self._master.created_file is not None:
                log.warning(
                    "no master key supplied: created a development master key "
                    "in %s; supply PLATXA_SECRETS_MASTER_KEY or "
                    "PLATXA_SECRETS_MASTER_KEY_FILE in production",
                    self._master.created_file,
                )
        return self._master

    def ready(self) -> None:
        """Check once: master keys supplied, store present, schema current.

        The master keys are checked even by commands that decrypt nothing,
        so production mode without a key stops every command.
        """
        if not self._schema_checked:
            _ = self.master_keys
            check_schema(self.database)
            self._schema_checked = True

    def keyring(self) -> Keyring:
        """The keyring, reloaded when older than `keyring_refresh`."""
        now = self.clock.now()
        stale = (
            self._keyring_loaded is None
            or now - self._keyring_loaded >= self.config.keyring_refresh
        )
        if self._keyring is None or stale:
            self.ready()
            with self.database.read() as tx:
                records = key_rows.load_keys(tx)
            self._keyring = Keyring(records, self.master_keys)
            self._keyring_loaded = now
        return self._keyring

    def keyring_in(self, tx: Tx) -> Keyring:
        """Reload the keyring inside an open transaction and cache it."""
        self._keyring = Keyring(key_rows.load_keys(tx), self.master_keys)
        self._keyring_loaded = self.clock.now()
        return self._keyring

    def keyring_for(self, kid: str | None) -> Keyring:
        """The keyring, reloaded first if it has never heard of `kid`.

        A replica that meets a key id newer than its cached keyring (a
        rotation it has not refreshed for yet) reloads once instead of
        failing.
        """
        keyring = self.keyring()
        if kid is not None and not keyring.knows(kid):
            self.forget_keyring()
            keyring = self.keyring()
        return keyring

    def forget_keyring(self) -> None:
        """Drop the cached keyring after this process changed the keys."""
        self._keyring = None

    def close(self) -> None:
        self.database.close()
