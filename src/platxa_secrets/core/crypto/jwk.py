"""JWT signing key pairs and their public JWK (RFC 7517, 7638, 8037).

    >>> pair = generate("RS256")
    >>> pair.public_jwk
    {'kty': 'RSA', 'n': 'xjlC…', 'e': 'AQAB', 'kid': 'Nzb…Cc',
     'alg': 'RS256', 'use': 'sig'}
    >>> pair.kid == key_id(pair.public_jwk)
    True

Two algorithms: `RS256` (RSA PKCS#1 v1.5 with SHA-256, the default every
JWT library verifies) and `EdDSA` over Ed25519 (RFC 8037; smaller and
faster, for relying parties that support it).

RSA keys are 2048 bits. That is the floor RFC 7518 §3.3 sets and the
size most identity providers publish, so every verifier accepts it;
112-bit strength is ample for a key that signs for minutes to days and
is replaced routinely. 3072 bits would make each signature about three
times slower and each key generation several times slower, for tokens
that live an hour.

The kid is derived from the RFC 7638 thumbprint (the SHA-256 of the
required members in lexicographic order): its first 16 bytes, base64url,
22 characters. 128 bits keep kids apart; the full 43 characters would
not fit the audit trail's key id column. A verifier holding the JWK can
recompute it, and a private key loaded from the store is checked
against the kid it is filed under, so a swapped key cannot sign.

The private key leaves this module only as unencrypted PKCS#8 PEM, to
be encrypted by the secrets store; `KeyPair` hides it from repr.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from platxa_secrets.errors import CryptoError, ValidationError

RS256 = "RS256"
EDDSA = "EdDSA"
ALGORITHMS = (RS256, EDDSA)
RSA_BITS = 2048
RSA_EXPONENT = 65537
KID_BYTES = 16

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# RFC 7638 §3.2 and RFC 8037 §2: the members a thumbprint covers.
_REQUIRED = {"RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


@dataclass(frozen=True)
class KeyPair:
    """A new key pair: its kid, public JWK and PEM private key (hidden)."""

    kid: str
    alg: str
    public_jwk: dict[str, str]
    private_pem: bytes = field(repr=False)


def check_alg(alg: str) -> str:
    """Return `alg` if this project signs with it, else raise."""
    if alg not in ALGORITHMS:
        raise ValidationError(
            f"alg must be one of {', '.join(ALGORITHMS)}", field="alg"
        )
    return alg


def generate(alg: str = RS256) -> KeyPair:
    """A fresh key pair for `alg`, from the operating system's CSPRNG."""
    check_alg(alg)
    private: PrivateKey
    if alg == RS256:
        private = rsa.generate_private_key(RSA_EXPONENT, RSA_BITS)
    else:
        private = ed25519.Ed25519PrivateKey.generate()

    jwk = public_jwk(private.public_key(), alg)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeyPair(jwk["kid"], alg, jwk, pem)


def public_jwk(public: PublicKey, alg: str) -> dict[str, str]:
    """The JWK a JWKS publishes for `public`: key members, kid, alg, use."""
    members: dict[str, str]
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        members = {"kty": "RSA", "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
    else:
        raw = public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        members = {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}
    return {**members, "kid": key_id(members), "alg": alg, "use": "sig"}


def key_id(jwk: Mapping[str, Any]) -> str:
    """The kid of a public JWK: its thumbprint's first 16 bytes, base64url."""
    return _b64(thumbprint(jwk)[:KID_BYTES])


def thumbprint(jwk: Mapping[str, Any]) -> bytes:
    """The RFC 7638 thumbprint (SHA-256) of a public JWK."""
    required = _REQUIRED.get(str(jwk.get("kty")))
    if required is None or any(not isinstance(jwk.get(m), str) for m in required):
        raise CryptoError("a JWK must be an RSA or OKP public key with its members")
    canonical = json.dumps(
        {m: jwk[m] for m in required}, separators=(",", ":"), sort_keys=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).digest()


def load_private_pem(pem: bytes, alg: str, kid: str) -> PrivateKey:
    """Parse a stored private key and check it is the key named `kid`.

    The parser's error could describe the PEM, so it is replaced by one
    naming the kid only.
    """
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        private = None

    wanted = rsa.RSAPrivateKey if alg == RS256 else ed25519.Ed25519PrivateKey
    if not isinstance(private, wanted):
        raise CryptoError(
            f"the private key of JWT key {kid} is not a PEM {alg} key", kid=kid
        )
    if public_jwk(private.public_key(), alg)["kid"] != kid:
        raise CryptoError(
            f"the private key filed under JWT key {kid} does not match that kid",
            kid=kid,
        )
    return private


def public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """Rebuild the public key of a stored JWK, checking its kid."""
    kid = str(jwk.get("kid"))
    try:
        key: PublicKey
        if jwk.get("kty") == "RSA":
            n, e = _unb64_int(jwk["n"]), _unb64_int(jwk["e"])
            key = rsa.RSAPublicNumbers(e, n).public_key()
        else:
            key = ed25519.Ed25519PublicKey.from_public_bytes(_unb64(jwk["x"]))
    except (KeyError, TypeError, ValueError):
        raise CryptoError(f"the stored JWK of key {kid} is damaged", kid=kid) from None

    if key_id(jwk) != kid:
        raise CryptoError(
            f"the stored JWK of key {kid} does not match its kid", kid=kid
        )
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64_int(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8 or 1, "big"))


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unb64_int(text: str) -> int:
    return int.from_bytes(_unb64(text), "big")
