"""JWT key pairs: generation, public JWKs, thumbprints, loading back."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from platxa_secrets.core.crypto import jwk
from platxa_secrets.errors import CryptoError, ValidationError
from tests.core.helpers import assert_no_leak

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def rsa_pair() -> jwk.KeyPair:
    return jwk.generate("RS256")


@pytest.fixture(scope="module")
def ed_pair() -> jwk.KeyPair:
    return jwk.generate("EdDSA")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pem_body(pem: bytes) -> str:
    return "".join(line for line in pem.decode().splitlines() if "-----" not in line)


def test_rs256_pair_publishes_a_2048_bit_public_jwk(rsa_pair: jwk.KeyPair) -> None:
    public = rsa_pair.public_jwk

    assert set(public) == {"kty", "n", "e", "kid", "alg", "use"}
    assert (public["kty"], public["e"], public["alg"], public["use"]) == (
        "RSA",
        "AQAB",
        "RS256",
        "sig",
    )
    assert int.from_bytes(_unb64(public["n"]), "big").bit_length() == 2048
    assert public["kid"] == rsa_pair.kid
    assert rsa_pair.private_pem.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_eddsa_pair_publishes_an_okp_jwk(ed_pair: jwk.KeyPair) -> None:
    public = ed_pair.public_jwk

    assert set(public) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (public["kty"], public["crv"], public["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert len(_unb64(public["x"])) == 32


def test_public_jwks_hold_no_private_member(
    rsa_pair: jwk.KeyPair, ed_pair: jwk.KeyPair
) -> None:
    for pair in (rsa_pair, ed_pair):
        assert not set(pair.public_jwk) & PRIVATE_MEMBERS
        text = json.dumps(pair.public_jwk)
        assert _pem_body(pair.private_pem)[40:80] not in text


def test_kid_is_the_start_of_the_rfc7638_thumbprint(rsa_pair: jwk.KeyPair) -> None:
    public = rsa_pair.public_jwk
    canonical = f'{{"e":"{public["e"]}","kty":"RSA","n":"{public["n"]}"}}'
    digest = hashlib.sha256(canonical.encode()).digest()

    assert jwk.thumbprint(public) == digest
    assert rsa_pair.kid == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert len(rsa_pair.kid) == 22


def test_okp_thumbprint_covers_crv_kty_x(ed_pair: jwk.KeyPair) -> None:
    public = ed_pair.public_jwk
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{public["x"]}"}}'
    digest = hashlib.sha256(canonical.encode()).digest()

    assert jwk.thumbprint(public) == digest
    assert ed_pair.kid == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_thumbprint_ignores_optional_members_and_order(rsa_pair: jwk.KeyPair) -> None:
    public = rsa_pair.public_jwk
    reordered = {"n": public["n"], "kty": "RSA", "e": public["e"], "use": "enc"}

    assert jwk.key_id(reordered) == rsa_pair.kid


@pytest.mark.parametrize(
    "bad", [{}, {"kty": "oct", "k": "AAAA"}, {"kty": "RSA", "n": "AQAB"}]
)
def test_thumbprint_of_a_non_public_key_jwk_is_refused(bad: dict[str, str]) -> None:
    with pytest.raises(CryptoError):
        jwk.thumbprint(bad)


def test_every_pair_is_new(rsa_pair: jwk.KeyPair) -> None:
    assert jwk.generate("RS256").kid != rsa_pair.kid


@pytest.mark.parametrize("alg", ["HS256", "none", "rs256", "ES256", "PS256", ""])
def test_unsupported_algorithms_are_refused(alg: str) -> None:
    with pytest.raises(ValidationError) as info:
        jwk.generate(alg)

    assert info.value.context["field"] == "alg"
    assert "RS256, EdDSA" in info.value.message


def test_repr_hides_the_private_key(rsa_pair: jwk.KeyPair) -> None:
    shown = repr(rsa_pair) + str(rsa_pair)

    assert "private_pem" not in shown
    assert "PRIVATE KEY" not in shown
    assert _pem_body(rsa_pair.private_pem)[:40] not in shown


@pytest.mark.parametrize("which", ["rsa_pair", "ed_pair"])
def test_private_pem_loads_back_as_the_same_key(
    which: str, request: pytest.FixtureRequest
) -> None:
    pair: jwk.KeyPair = request.getfixturevalue(which)

    private = jwk.load_private_pem(pair.private_pem, pair.alg, pair.kid)

    expected = rsa.RSAPrivateKey if pair.alg == "RS256" else ed25519.Ed25519PrivateKey
    assert isinstance(private, expected)
    assert jwk.public_jwk(private.public_key(), pair.alg) == pair.public_jwk


def test_a_private_key_filed_under_another_kid_is_refused(
    rsa_pair: jwk.KeyPair,
) -> None:
    other = jwk.generate("RS256")

    with pytest.raises(CryptoError, match="does not match") as info:
        jwk.load_private_pem(rsa_pair.private_pem, "RS256", other.kid)

    assert info.value.context["kid"] == other.kid
    assert_no_leak(info.value, _pem_body(rsa_pair.private_pem))


def test_a_private_key_of_the_other_algorithm_is_refused(
    ed_pair: jwk.KeyPair,
) -> None:
    with pytest.raises(CryptoError, match="not a PEM RS256 key") as info:
        jwk.load_private_pem(ed_pair.private_pem, "RS256", ed_pair.kid)

    assert_no_leak(info.value, _pem_body(ed_pair.private_pem))


def test_a_damaged_private_pem_is_refused_without_quoting_it(
    rsa_pair: jwk.KeyPair,
) -> None:
    body = _pem_body(rsa_pair.private_pem)
    lines = rsa_pair.private_pem.splitlines()
    lines[3] = b"A" * len(lines[3])
    damaged = b"\n".join(lines) + b"\n"

    with pytest.raises(CryptoError) as info:
        jwk.load_private_pem(damaged, "RS256", rsa_pair.kid)

    assert_no_leak(info.value, body, damaged)


@pytest.mark.parametrize("which", ["rsa_pair", "ed_pair"])
def test_public_key_rebuilt_from_the_jwk_verifies_a_signature(
    which: str, request: pytest.FixtureRequest
) -> None:
    pair: jwk.KeyPair = request.getfixturevalue(which)
    private = jwk.load_private_pem(pair.private_pem, pair.alg, pair.kid)
    token = pyjwt.encode({"a": 1}, private, algorithm=pair.alg)

    public = jwk.public_key(pair.public_jwk)

    assert pyjwt.decode(token, public, algorithms=[pair.alg]) == {"a": 1}


@pytest.mark.parametrize("which", ["rsa_pair", "ed_pair"])
def test_pyjwt_accepts_the_published_jwk(
    which: str, request: pytest.FixtureRequest
) -> None:
    """An independent JWK reader agrees with ours: relying parties will."""
    pair: jwk.KeyPair = request.getfixturevalue(which)
    private = jwk.load_private_pem(pair.private_pem, pair.alg, pair.kid)
    token = pyjwt.encode({"a": 1}, private, algorithm=pair.alg)

    reader = pyjwt.PyJWK(pair.public_jwk)

    assert reader.key_id == pair.kid
    assert pyjwt.decode(token, reader, algorithms=[pair.alg]) == {"a": 1}


def test_a_stored_jwk_whose_kid_does_not_match_is_refused(
    rsa_pair: jwk.KeyPair, ed_pair: jwk.KeyPair
) -> None:
    swapped = {**rsa_pair.public_jwk, "kid": ed_pair.kid}

    with pytest.raises(CryptoError, match="does not match its kid"):
        jwk.public_key(swapped)


@pytest.mark.parametrize(
    "damage", [{"n": "!!!"}, {"e": "AAAA"}, {"kty": "EC"}, {"n": None}]
)
def test_a_damaged_stored_jwk_is_refused(
    rsa_pair: jwk.KeyPair, damage: dict[str, object]
) -> None:
    with pytest.raises(CryptoError):
        jwk.public_key({**rsa_pair.public_jwk, **damage})
