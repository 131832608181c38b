"""The log filter masks key and token shapes from any logger."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.masking import MASK, MaskingFilter, mask


@pytest.fixture
def captured() -> list[str]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("kubernetes.client.rest")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)


def test_keys_tokens_and_ciphertexts_are_masked(captured: list[str]) -> None:
    key = Fernet.generate_key().decode()
    token = Fernet(key).encrypt(b"CANARY-mask").decode()
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"

    logging.getLogger("kubernetes.client.rest").debug(
        "response body: %s %s pxs1:7f3a09c2:%s %s pxs_ab12_cd34_ef56",
        key,
        token,
        token,
        pem,
    )

    assert len(captured) == 1
    for secret in (key, token, "MIIEv", "pxs_ab12"):
        assert secret not in captured[0]
    assert captured[0].count(MASK) == 5


def test_ordinary_text_is_left_alone() -> None:
    text = "applied tenant-a/odoo v3 under key 7f3a09c2 (sha 0123456789abcdef)"

    assert mask(text) == text
