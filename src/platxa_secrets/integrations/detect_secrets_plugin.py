"""A detect-secrets plugin: Platxa keys, tokens and ciphertexts.

    pip install detect-secrets
    PLUGIN=$(python -c 'import platxa_secrets.integrations as i; print(i.__path__[0])')
    detect-secrets scan --plugin "$PLUGIN/detect_secrets_plugin.py"

It reports what `pxs scan` finds in text as written — Fernet keys and
tokens, `pxs1:` ciphertexts, checksum-verified `pxs_` API tokens and PEM
private keys — so a repository that already runs detect-secrets (with
its baseline and audit workflow) needs no second hook. detect-secrets
stores only a hash of each match in its baseline. Store values
(`pxs scan --store`) and encoded forms are `pxs scan`'s alone.
"""

from __future__ import annotations

from collections.abc import Generator

from detect_secrets.plugins.base import BasePlugin

from platxa_secrets.core.leaks import leak_spans


class PlatxaSecretsDetector(BasePlugin):
    """Platxa Secrets key, token, ciphertext and private key shapes."""

    secret_type = "Platxa Secrets key or token"

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for _kind, start, end in leak_spans(string):
            yield string[start:end]
