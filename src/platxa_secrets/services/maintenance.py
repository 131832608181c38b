"""`maintain`: the one idempotent job that keeps the keyring healthy.

Safe to run from cron on every replica at once: activation is a
compare-and-set on the key's state, re-encryption skips rows already
under the active key (and locked rows on PostgreSQL), and destruction
checks again, inside its transaction, that no ciphertext uses the key.
"""

from __future__ import annotations

from platxa_secrets.services.reencrypt import Progress, reencrypt
from platxa_secrets.services.rotation import MaintenanceReport, RotationService
from platxa_secrets.services.runtime import Runtime


def maintain(
    runtime: Runtime,
    batch: int = 500,
    workers: int = 1,
    progress: Progress | None = None,
) -> MaintenanceReport:
    """Activate due keys, re-encrypt onto the active key, destroy what is due."""
    rotation = RotationService(runtime)
    activated, retired = rotation.activate_due()
    moved = reencrypt(runtime, batch=batch, workers=workers, progress=progress)
    destroyed, waiting = rotation.destroy_due()
    return MaintenanceReport(
        activated=activated,
        retired=retired,
        destroyed=destroyed,
        reencrypted=moved.rewritten,
        failed=moved.failed,
        waiting=waiting,
    )
