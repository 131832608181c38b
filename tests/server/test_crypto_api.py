"""Encryption as a service: batches, context binding, rewrap, no oracle."""

from __future__ import annotations

import base64

from platxa_secrets.services.audit import AuditLog
from platxa_secrets.services.envelope import Envelope
from tests.server.conftest import Live, problem_of

VALUES = [b"", b"odoo-db-password", bytes(range(256))]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def test_encrypt_then_decrypt_a_batch(any_live: Live, namespace: str) -> None:
    client = any_live.client(any_live.token(f"{namespace}:write"))
    contexts = [f"{namespace}/odoo/{i}" for i in range(len(VALUES))]

    sealed = client.post(
        "/v1/encrypt",
        json={
            "items": [
                {"plaintext": _b64(v), "context": c}
                for v, c in zip(VALUES, contexts, strict=True)
            ]
        },
    )
    ciphertexts = [item["ciphertext"] for item in sealed.json()["items"]]
    opened = client.post(
        "/v1/decrypt",
        json={
            "items": [
                {"ciphertext": s, "context": c}
                for s, c in zip(ciphertexts, contexts, strict=True)
            ]
        },
    )

    assert sealed.status_code == 200, sealed.text
    assert all(c.startswith("pxs1:") for c in ciphertexts)
    assert [base64.b64decode(i["plaintext"]) for i in opened.json()["items"]] == VALUES
    assert all(i["error"] is None for i in opened.json()["items"])
    # The same keyring as the library: the service's ciphertext opens here.
    assert Envelope(any_live.runtime).decrypt(ciphertexts[1], contexts[1]) == VALUES[1]


def test_a_bad_item_says_only_invalid_ciphertext(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    good = Envelope(live.runtime).encrypt(b"v", f"{namespace}/a")
    tampered = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    items = [
        {"ciphertext": good, "context": f"{namespace}/a"},
        {"ciphertext": good, "context": f"{namespace}/b"},  # another context
        {"ciphertext": tampered, "context": f"{namespace}/a"},
        {"ciphertext": "not a ciphertext", "context": f"{namespace}/a"},
        {
            "ciphertext": "pxs1:ffffffff:" + good.split(":")[2],
            "context": f"{namespace}/a",
        },
    ]

    response = client.post("/v1/decrypt", json={"items": items})

    results = response.json()["items"]
    assert response.status_code == 200
    assert base64.b64decode(results[0]["plaintext"]) == b"v"
    assert [r["error"] for r in results[1:]] == ["invalid ciphertext"] * 4
    assert all(r["plaintext"] is None for r in results[1:])


def test_rewrap_returns_new_ciphertext_and_never_plaintext(
    live: Live, namespace: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    value = b"REWRAP-CANARY-plaintext"
    context = f"{namespace}/odoo/db"
    old = Envelope(live.runtime).encrypt(value, context)

    response = client.post(
        "/v1/rewrap", json={"items": [{"ciphertext": old, "context": context}]}
    )

    item = response.json()["items"][0]
    assert response.status_code == 200
    assert set(item) == {"ciphertext", "error"}
    assert item["ciphertext"] != old
    for form in (value.decode(), _b64(value), value.hex()):
        assert form not in response.text
    assert Envelope(live.runtime).decrypt(item["ciphertext"], context) == value


def test_every_namespace_of_a_batch_is_authorised_first(
    live: Live, namespace: str
) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    items = [
        {"plaintext": _b64(b"a"), "context": f"{namespace}/x"},
        {"plaintext": _b64(b"b"), "context": "someone-else/x"},
    ]

    response = client.post("/v1/encrypt", json={"items": items})

    assert response.status_code == 403
    assert "namespace someone-else" in problem_of(response)["detail"]
    actions = {e.action for e in AuditLog(live.runtime).list(namespace)}
    assert "crypto.encrypt" not in actions


def test_decrypt_needs_read_and_encrypt_needs_write(live: Live, namespace: str) -> None:
    reader = live.client(live.token(f"{namespace}:read"))
    context = f"{namespace}/x"
    sealed = Envelope(live.runtime).encrypt(b"v", context)

    encrypt = reader.post(
        "/v1/encrypt", json={"items": [{"plaintext": _b64(b"v"), "context": context}]}
    )
    decrypt = reader.post(
        "/v1/decrypt", json={"items": [{"ciphertext": sealed, "context": context}]}
    )

    assert encrypt.status_code == 403
    assert decrypt.status_code == 200


def test_batches_are_capped(live: Live, namespace: str) -> None:
    client = live.client(live.token(f"{namespace}:write"))
    item = {"plaintext": _b64(b"x"), "context": f"{namespace}/x"}
    too_big = _b64(b"\0" * (1024 * 1024 + 1))

    too_many = client.post("/v1/encrypt", json={"items": [item] * 1001})
    empty = client.post("/v1/encrypt", json={"items": []})
    oversized = client.post(
        "/v1/encrypt",
        json={"items": [{"plaintext": too_big, "context": f"{namespace}/x"}]},
    )

    assert too_many.status_code == 422
    assert problem_of(too_many)["errors"][0]["field"] == "body.items"
    assert empty.status_code == 422
    assert oversized.status_code == 422
    assert problem_of(oversized)["errors"][0]["field"] == "body.items.0.plaintext"


def test_a_context_must_start_with_a_namespace(live: Live, namespace: str) -> None:
    client = live.client(live.token("*:admin"))

    response = client.post(
        "/v1/encrypt",
        json={"items": [{"plaintext": _b64(b"x"), "context": "Not A Namespace/x"}]},
    )

    problem = problem_of(response)
    assert response.status_code == 422
    assert problem["errors"][0]["field"] == "body.items.0.context"
    assert "Not A Namespace" not in response.text


def test_a_batch_is_audited_per_namespace_with_counts(
    live: Live, namespace: str
) -> None:
    client = live.client(live.token(f"{namespace}:read"))
    context = f"{namespace}/x"
    sealed = Envelope(live.runtime).encrypt(b"v", context)
    items = [
        {"ciphertext": sealed, "context": context},
        {"ciphertext": sealed, "context": f"{namespace}/y"},
    ]

    client.post("/v1/decrypt", json={"items": items}, headers={"X-Request-ID": "dec-1"})

    event = next(
        e for e in AuditLog(live.runtime).list(namespace) if e.request_id == "dec-1"
    )
    assert event.action == "crypto.decrypt"
    assert event.detail == "2 items, 1 invalid ciphertext"
    assert event.outcome == "error"
