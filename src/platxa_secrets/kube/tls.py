"""Check a TLS certificate and key before they become a Secret.

Both must be present and parse as PEM, the key must belong to the
certificate, and the certificate must be in date; under 30 days left is
a warning. Messages name the file and the rule, never key material.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from platxa_secrets.errors import ValidationError

WARN_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class TlsCheck:
    subject: str
    not_after: datetime
    days_left: int
    warnings: list[str] = field(default_factory=list)


def check_tls(cert_pem: bytes, key_pem: bytes, now: datetime) -> TlsCheck:
    """Validate a certificate/key pair; return facts and warnings."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if not cert_pem.strip() or not key_pem.strip():
        missing = "tls.crt" if not cert_pem.strip() else "tls.key"
        raise ValidationError(f"{missing} is empty", field=missing)

    certificate = _parse(lambda: x509.load_pem_x509_certificate(cert_pem), "tls.crt")
    key = _parse(
        lambda: serialization.load_pem_private_key(key_pem, password=None), "tls.key"
    )

    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if key.public_key().public_bytes(encoding, public) != (
        certificate.public_key().public_bytes(encoding, public)
    ):
        raise ValidationError(
            "tls.key does not belong to tls.crt (their public keys differ)",
            field="tls.key",
        )

    not_before, not_after = (
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
    )
    if now < not_before:
        raise ValidationError(
            f"tls.crt is not valid before {not_before:%Y-%m-%d %H:%M} UTC",
            field="tls.crt",
        )
    if now >= not_after:
        raise ValidationError(
            f"tls.crt expired on {not_after:%Y-%m-%d %H:%M} UTC", field="tls.crt"
        )

    days_left = (not_after - now).days
    warnings = []
    if not_after - now < WARN_BEFORE:
        warnings.append(f"tls.crt expires in {days_left} days ({not_after:%Y-%m-%d})")
    subject = certificate.subject.rfc4514_string()
    return TlsCheck(subject, not_after, days_left, warnings)


def _parse(load: Callable[[], Any], field_name: str) -> Any:
    """Parse PEM; the library's message is not kept (it may quote input)."""
    what = "certificate" if field_name == "tls.crt" else "unencrypted private key"
    problem = ""
    try:
        return load()
    except (ValueError, TypeError) as exc:
        problem = type(exc).__name__
    raise ValidationError(
        f"{field_name} is not a PEM {what} ({problem})", field=field_name
    )
