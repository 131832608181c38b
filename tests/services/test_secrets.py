"""The secret service on a real store: SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest

from platxa_secrets.api import Platxa
from platxa_secrets.errors import (
    ConflictError,
    CryptoError,
    NotFoundError,
    PlatxaSecretsError,
    ValidationError,
)
from platxa_secrets.services.secrets import WriteRequest

CANARY = b"CANARY-5e1f-\x00\xff-value"


def raw_rows(pxs: Platxa, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:
    with pxs.runtime.database.read() as tx:
        return tx.all(sql, params)


def version_count(pxs: Platxa) -> int:
    return len(raw_rows(pxs, "SELECT secret_id, version FROM secret_versions"))


def test_binary_values_round_trip_exactly(pxs: Platxa) -> None:
    data = {"bin": bytes(range(256)), "empty": b"", "crlf": b"a\r\n\r\n", "t": CANARY}
    written = pxs.secrets.put("tenant-a", "odoo", data)

    got = pxs.secrets.get("tenant-a", "odoo")

    assert written.version == 1
    assert got.data == data
    assert got.type == "Opaque"
    assert set(got.kids.values()) == {pxs.runtime.keyring().active_kid}


def test_values_exist_only_as_ciphertext(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": CANARY})

    rows = raw_rows(pxs, "SELECT key, kid, ciphertext FROM secret_values")

    assert len(rows) == 1
    _key, kid, ciphertext = rows[0]
    assert ciphertext.startswith(f"pxs1:{kid}:")
    assert CANARY.decode("latin-1") not in ciphertext


def test_every_write_makes_a_version_and_reads_take_one(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"K": b"one"})
    pxs.secrets.put("tenant-a", "odoo", {"K": b"two"})

    assert pxs.secrets.get("tenant-a", "odoo").data == {"K": b"two"}
    assert pxs.secrets.get("tenant-a", "odoo", version=1).data == {"K": b"one"}
    assert [v.version for v in pxs.secrets.history("tenant-a", "odoo")] == [1, 2]


def test_set_merges_onto_the_newest_version_unless_replace(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"A": b"1", "B": b"2"})
    pxs.secrets.put("tenant-a", "odoo", {"B": b"3"})
    assert pxs.secrets.get("tenant-a", "odoo").data == {"A": b"1", "B": b"3"}

    pxs.secrets.put("tenant-a", "odoo", {"C": b"4"}, replace=True)
    assert pxs.secrets.get("tenant-a", "odoo").data == {"C": b"4"}

    pxs.secrets.put("tenant-a", "odoo", {"D": b"5"}, remove=["C"])
    assert pxs.secrets.get("tenant-a", "odoo").data == {"D": b"5"}


def test_check_and_set(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"K": b"v1"}, cas=0)

    with pytest.raises(ConflictError, match="cas=0 requires"):
        pxs.secrets.put("tenant-a", "odoo", {"K": b"x"}, cas=0)
    with pytest.raises(ConflictError, match="expected newest version 5, found 1"):
        pxs.secrets.put("tenant-a", "odoo", {"K": b"x"}, cas=5)

    pxs.secrets.put("tenant-a", "odoo", {"K": b"v2"}, cas=1)
    assert pxs.secrets.get("tenant-a", "odoo").data == {"K": b"v2"}
    assert version_count(pxs) == 2


def test_soft_delete_undelete_and_destroy(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"K": b"v1"})
    pxs.secrets.put("tenant-a", "odoo", {"K": b"v2"})

    assert pxs.secrets.delete("tenant-a", "odoo") == [2]
    with pytest.raises(NotFoundError, match="version 2 of tenant-a/odoo is deleted"):
        pxs.secrets.get("tenant-a", "odoo")
    assert pxs.secrets.get("tenant-a", "odoo", version=1).data == {"K": b"v1"}

    assert pxs.secrets.undelete("tenant-a", "odoo") == [2]
    assert pxs.secrets.get("tenant-a", "odoo").data == {"K": b"v2"}

    assert pxs.secrets.destroy("tenant-a", "odoo", [1]) == [1]
    with pytest.raises(NotFoundError, match="was destroyed"):
        pxs.secrets.get("tenant-a", "odoo", version=1)
    cleared = raw_rows(
        pxs, "SELECT ciphertext, kid FROM secret_values WHERE version = 1"
    )
    assert cleared == [(None, None)]
    with pytest.raises(ConflictError, match="destroyed"):
        pxs.secrets.undelete("tenant-a", "odoo", [1])
    history = {v.version: v.state for v in pxs.secrets.history("tenant-a", "odoo")}
    assert history == {1: "destroyed", 2: "live"}


def test_versions_beyond_max_versions_are_pruned(pxs: Platxa) -> None:
    keep = pxs.runtime.config.max_versions
    for number in range(keep + 3):
        pxs.secrets.put("tenant-a", "odoo", {"K": str(number).encode()})

    versions = [v.version for v in pxs.secrets.history("tenant-a", "odoo")]

    assert versions == list(range(4, keep + 4))
    with pytest.raises(NotFoundError, match="may be pruned"):
        pxs.secrets.get("tenant-a", "odoo", version=1)


@pytest.mark.parametrize(
    ("namespace", "name", "key", "field"),
    [
        ("Tenant", "odoo", "K", "namespace"),
        ("tenant-a", "Odoo_Creds", "K", "name"),
        ("tenant-a", "odoo", "bad key", "key"),
        ("tenant-a", "odoo", "..", "key"),
        ("-tenant", "odoo", "K", "namespace"),
    ],
)
def test_invalid_names_are_refused_and_nothing_is_written(
    pxs: Platxa, namespace: str, name: str, key: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        pxs.secrets.put(namespace, name, {key: CANARY})

    assert field in caught.value.message
    assert CANARY.decode("latin-1") not in str(caught.value)
    assert version_count(pxs) == 0


def test_oversize_secret_is_refused(pxs: Platxa) -> None:
    with pytest.raises(ValidationError, match="1 MiB"):
        pxs.secrets.put("tenant-a", "big", {"K": b"x" * (1024 * 1024)})
    assert version_count(pxs) == 0

    pxs.secrets.put("tenant-a", "big", {"K": b"x" * (1024 * 1024 - 1)})
    assert len(pxs.secrets.get("tenant-a", "big").data["K"]) == 1024 * 1024 - 1


def test_typed_secret_rules_are_checked(pxs: Platxa) -> None:
    with pytest.raises(ValidationError, match=r"tls\.key"):
        pxs.secrets.put(
            "tenant-a", "tls", {"tls.crt": b"x"}, secret_type="kubernetes.io/tls"
        )
    assert version_count(pxs) == 0


def test_missing_secret_and_version(pxs: Platxa) -> None:
    with pytest.raises(NotFoundError, match="tenant-a/nope does not exist"):
        pxs.secrets.get("tenant-a", "nope")

    pxs.secrets.put("tenant-a", "odoo", {"K": b"v"})
    with pytest.raises(NotFoundError, match="version 7 of tenant-a/odoo"):
        pxs.secrets.get("tenant-a", "odoo", version=7)


def test_ciphertext_copied_to_another_row_is_detected(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": b"a-secret"})
    pxs.secrets.put("tenant-b", "odoo", {"DB_PASSWORD": b"b-secret"})
    source = raw_rows(
        pxs,
        "SELECT v.ciphertext FROM secret_values v JOIN secrets s ON s.id = "
        "v.secret_id WHERE s.namespace = 'tenant-a'",
    )[0][0]

    pxs.runtime.database.write(
        lambda tx: tx.execute(
            "UPDATE secret_values SET ciphertext = ? WHERE secret_id = "
            "(SELECT id FROM secrets WHERE namespace = 'tenant-b')",
            (source,),
        )
    )

    with pytest.raises(CryptoError, match="bound to 'tenant-a/odoo/1/DB_PASSWORD'"):
        pxs.secrets.get("tenant-b", "odoo")


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda c: c[:-8], "multiple of 4|truncated"),
        (lambda c: c + "\n", "trailing"),
        (lambda c: c.replace("pxs1:", "pxs9:"), "unknown format prefix"),
        (lambda c: "pxs1:zzzzzzzz:" + c.split(":", 2)[2], "does not know"),
        (lambda c: c[:-20] + ("A" if c[-20] != "A" else "B") + c[-19:], "fails auth"),
    ],
)
def test_damaged_ciphertext_fails_with_a_reason(pxs: Platxa, damage, reason) -> None:  # type: ignore[no-untyped-def]
    pxs.secrets.put("tenant-a", "odoo", {"K": CANARY})
    original = raw_rows(pxs, "SELECT ciphertext FROM secret_values")[0][0]
    pxs.runtime.database.write(
        lambda tx: tx.execute(
            "UPDATE secret_values SET ciphertext = ?", (damage(original),)
        )
    )

    with pytest.raises(CryptoError, match=reason) as caught:
        pxs.secrets.get("tenant-a", "odoo")

    assert original.split(":")[-1][:20] not in str(caught.value)
    assert caught.value.__cause__ is None


def test_put_many_is_all_or_nothing(pxs: Platxa) -> None:
    good = WriteRequest("tenant-a", "one", {"K": b"v"})
    bad = WriteRequest("tenant-a", "tls", {"tls.crt": b"x"}, "kubernetes.io/tls")

    with pytest.raises(ValidationError):
        pxs.secrets.put_many([good, bad])
    assert version_count(pxs) == 0

    written = pxs.secrets.put_many([good])
    again = pxs.secrets.put_many([good])
    assert [w.changed for w in written + again] == [True, False]
    assert version_count(pxs) == 1


def test_list_shows_names_versions_and_kids_without_values(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": CANARY, "DB_USER": b"odoo"})
    pxs.secrets.put("tenant-b", "odoo", {"K": b"v"})

    listed = pxs.secrets.list("tenant-a")

    assert [(s.namespace, s.name, s.version) for s in listed] == [
        ("tenant-a", "odoo", 1)
    ]
    assert listed[0].keys == ("DB_PASSWORD", "DB_USER")
    assert listed[0].kids == (pxs.runtime.keyring().active_kid,)
    assert len(pxs.secrets.list()) == 2
    assert "CANARY" not in repr(listed)


def test_every_operation_is_audited_without_values(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": CANARY})
    pxs.secrets.get("tenant-a", "odoo")
    with pytest.raises(ConflictError):
        pxs.secrets.put("tenant-a", "odoo", {"DB_PASSWORD": CANARY}, cas=9)
    pxs.secrets.delete("tenant-a", "odoo")

    events = pxs.audit.list("tenant-a")

    actions = [(e.action, e.outcome) for e in reversed(events)]
    assert actions == [
        ("secret.write", "ok"),
        ("secret.read", "ok"),
        ("secret.write", "error"),
        ("secret.delete", "ok"),
    ]
    assert all(e.actor == "test:user" for e in events)
    assert events[-1].key_names == ("DB_PASSWORD",)
    dump = repr(raw_rows(pxs, "SELECT * FROM audit_events"))
    assert "CANARY" not in dump
    assert "pxs1:" not in dump


def test_secret_version_repr_hides_values(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"K": CANARY})

    got = pxs.secrets.get("tenant-a", "odoo")

    assert "CANARY" not in repr(got)
    assert "CANARY" not in repr(pxs)


def test_errors_share_one_base(pxs: Platxa) -> None:
    with pytest.raises(PlatxaSecretsError):
        pxs.secrets.get("tenant-a", "missing")


def test_writes_merge_onto_the_newest_live_version(pxs: Platxa) -> None:
    pxs.secrets.put("tenant-a", "odoo", {"A": b"1", "B": b"2"})
    pxs.secrets.put("tenant-a", "odoo", {"C": b"3"})
    pxs.secrets.delete("tenant-a", "odoo")

    pxs.secrets.put("tenant-a", "odoo", {"D": b"4"})

    assert pxs.secrets.get("tenant-a", "odoo").data == {"A": b"1", "B": b"2", "D": b"4"}


def test_reprovisioning_after_a_delete_keeps_passwords(pxs: Platxa) -> None:
    from platxa_secrets.services.templates import get_template

    odoo = get_template("odoo")
    pxs.provisioning.provision("tenant-a", odoo, {"db_host": "db"})
    first = pxs.secrets.get("tenant-a", "odoo").data["DB_PASSWORD"]
    pxs.secrets.put("tenant-a", "odoo", {"EXTRA": b"x"})
    pxs.secrets.delete("tenant-a", "odoo")

    pxs.provisioning.provision("tenant-a", odoo, {"db_host": "db"})

    assert pxs.secrets.get("tenant-a", "odoo").data["DB_PASSWORD"] == first


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda p: p.secrets.put("t", "a", {"K": "text"}), "must be bytes"),
        (lambda p: p.secrets.put("t", "a", {"K": b"v"}, cas=True), "cas"),
        (lambda p: p.secrets.get("t", "a", version=0), "version"),
        (lambda p: p.secrets.get("t", "a", version=2**70), "version"),
        (lambda p: p.secrets.delete("t", "a", "12"), "versions"),
        (lambda p: p.envelope.encrypt(5, "ctx/1"), "bytes or str"),
        (
            lambda p: p.secrets.put_many([WriteRequest("t", "a", {"K": b"v"}, "bad!")]),
            "type",
        ),
    ],
)
def test_library_misuse_is_a_validation_error(pxs: Platxa, call, field) -> None:  # type: ignore[no-untyped-def]
    pxs.secrets.put("t", "a", {"K": b"v"})
    before = version_count(pxs)

    with pytest.raises(ValidationError, match=field):
        call(pxs)

    assert version_count(pxs) == before


def test_the_system_namespace_is_refused_to_writers(pxs: Platxa) -> None:
    with pytest.raises(ValidationError, match="reserved"):
        pxs.secrets.put("platxa-system", "jwt-x", {"K": b"value"})
    with pytest.raises(ValidationError, match="reserved"):
        pxs.secrets.delete("platxa-system", "jwt-x")
    assert pxs.secrets.list("platxa-system") == []
