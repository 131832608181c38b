"""Secret manifests: the Kubernetes docs examples in, the same bytes out.

Every refusal is checked for the planted canary: it must not be in the
message, the repr, the context attributes, nor in any exception chained
as cause or context (and nothing but our own errors may be chained).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from platxa_secrets.errors import PlatxaSecretsError, ValidationError
from platxa_secrets.services.manifests import (
    ManifestBatch,
    SecretManifest,
    parse_manifests,
    render_manifest,
)

CANARY = "pxs-canary-Hr4nX8cQ2wZ"  # 22 bytes: its base64 ends in "=="
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
SRC = "in.yaml"
MIB = 1024 * 1024

ROUND_TRIP_DATA = {
    "binary": bytes(range(256)),
    "crlf": b"line-1\r\nline-2\r\n\r\n",
    "empty": b"",
    "text.utf8": "contraseña-日本-🔑".encode(),
    "latin1": "café".encode("latin-1"),
    "nul": b"\x00",
    ".dotfile": b"null",
    "yaml-words": b"true",
}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield an exception and everything chained to it, cause or context."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(e for e in (current.__cause__, current.__context__) if e)


def assert_no_canary(exc: BaseException, canaries: tuple[str, ...] = ()) -> None:
    """Fail if a canary, plain or base64, is anywhere in the chain."""
    for link in _chain(exc):
        assert isinstance(link, PlatxaSecretsError), f"chained {type(link)}"
        texts = (str(link), repr(link), repr(link.args), repr(vars(link)))
        for text in texts:
            for canary in (CANARY, CANARY_B64, *canaries):
                assert canary not in text


def refused(
    content: bytes | str, *fragments: str, namespace: str | None = None
) -> ValidationError:
    """Parse, expect a ValidationError naming `fragments`, check for leaks."""
    with pytest.raises(ValidationError) as info:
        parse_manifests(content, SRC, namespace=namespace)

    for fragment in fragments:
        assert fragment in str(info.value)
    assert_no_canary(info.value)
    return info.value


def secret(**fields: Any) -> str:
    """A Secret document as JSON (which is YAML), fields overriding."""
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
    }
    document.update(fields)
    return json.dumps(document)


def b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


def only(batch: ManifestBatch) -> SecretManifest:
    assert len(batch.secrets) == 1
    return batch.secrets[0]


# --- the Kubernetes documentation examples ------------------------------------


@pytest.fixture(scope="module")
def docs(fixtures_dir: Path) -> dict[str, ManifestBatch]:
    files = sorted((fixtures_dir / "kubernetes-docs").glob("*.yaml"))
    assert len(files) >= 5
    return {path.name: parse_manifests(path.read_bytes(), path.name) for path in files}


def test_every_docs_example_parses(docs: dict[str, ManifestBatch]) -> None:
    for name, batch in docs.items():
        assert batch.secrets, name
        for manifest in batch.secrets:
            assert manifest.source == f"{name}#1"


def test_basic_auth_example(docs: dict[str, ManifestBatch]) -> None:
    manifest = only(docs["basicauth-secret.yaml"])

    assert (manifest.namespace, manifest.name) == ("default", "secret-basic-auth")
    assert manifest.type == "kubernetes.io/basic-auth"
    assert manifest.data == {"username": b"admin", "password": b"t0p-Secret"}


def test_bootstrap_token_keeps_its_namespace(docs: dict[str, ManifestBatch]) -> None:
    manifest = only(docs["bootstrap-token-secret-literal.yaml"])

    assert manifest.namespace == "kube-system"
    assert manifest.type == "bootstrap.kubernetes.io/token"
    assert manifest.data["expiration"] == b"2020-09-13T04:39:10Z"
    assert manifest.data["usage-bootstrap-signing"] == b"true"
    assert len(manifest.data) == 6


def test_dockercfg_example(docs: dict[str, ManifestBatch]) -> None:
    manifest = only(docs["dockercfg-secret.yaml"])

    config = json.loads(manifest.data[".dockercfg"])
    assert config == {"auths": {"https://example/v1/": {"auth": "opensesame"}}}


def test_dotfile_keeps_crlf_and_skips_the_pod(docs: dict[str, ManifestBatch]) -> None:
    batch = docs["dotfile-secret.yaml"]

    assert only(batch).data == {".secret-file": b"value-2\r\n\r\n"}
    assert len(batch.skipped) == 1
    skipped = batch.skipped[0]
    assert (skipped.kind, skipped.name) == ("Pod", "secret-dotfiles-pod")
    assert skipped.source == "dotfile-secret.yaml#2"
    assert "not a v1 Secret" in skipped.reason


def test_ssh_auth_example(docs: dict[str, ManifestBatch]) -> None:
    manifest = only(docs["ssh-auth-secret.yaml"])

    assert manifest.type == "kubernetes.io/ssh-auth"
    assert manifest.data["ssh-privatekey"] == b"Pouring6%Emoticon%Scuba"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_docs_examples_round_trip(docs: dict[str, ManifestBatch], fmt: Any) -> None:
    for batch in docs.values():
        for original in batch.secrets:
            text = render_manifest(
                original.namespace,
                original.name,
                original.type,
                original.data,
                labels=original.labels,
                fmt=fmt,
            )
            again = only(parse_manifests(text, "rendered"))

            assert again.data == original.data
            assert (again.namespace, again.name, again.type) == (
                original.namespace,
                original.name,
                original.type,
            )


def test_namespace_option_fills_in_and_may_agree(fixtures_dir: Path) -> None:
    folder = fixtures_dir / "kubernetes-docs"
    plain = (folder / "basicauth-secret.yaml").read_bytes()
    bootstrap = (folder / "bootstrap-token-secret-literal.yaml").read_bytes()

    assert only(parse_manifests(plain, SRC, namespace="tenant-a")).namespace == (
        "tenant-a"
    )
    assert only(parse_manifests(bootstrap, SRC, namespace="kube-system"))

    exc = refused(bootstrap, f"{SRC}#1", "metadata.namespace", namespace="tenant-a")
    assert "'kube-system'" in str(exc)
    assert "'tenant-a'" in str(exc)


# --- reading rules ------------------------------------------------------------


def test_render_then_parse_gives_back_every_byte() -> None:
    for fmt in ("yaml", "json"):
        text = render_manifest("tenant-a", "odoo", "Opaque", ROUND_TRIP_DATA, fmt=fmt)

        assert only(parse_manifests(text, SRC)).data == ROUND_TRIP_DATA


def test_render_is_stable_and_sorted() -> None:
    reversed_data = dict(reversed(list(ROUND_TRIP_DATA.items())))

    first = render_manifest("tenant-a", "odoo", "Opaque", ROUND_TRIP_DATA)
    second = render_manifest("tenant-a", "odoo", "Opaque", reversed_data)

    assert first == second
    document = yaml.safe_load(first)
    assert list(document["data"]) == sorted(ROUND_TRIP_DATA)
    assert document["apiVersion"] == "v1"
    assert document["kind"] == "Secret"
    assert document["type"] == "Opaque"
    assert document["metadata"] == {"name": "odoo", "namespace": "tenant-a"}


@pytest.mark.parametrize("word", ["y", "n", "on", "off", "yes", "null", "true"])
def test_render_quotes_words_go_yaml_would_retype(word: str) -> None:
    text = render_manifest(word, word, "Opaque", {word: b"x"})

    assert f'name: "{word}"' in text
    assert f'namespace: "{word}"' in text
    assert f'"{word}": ' in text
    assert only(parse_manifests(text, SRC)).namespace == word


def test_render_keeps_labels_and_annotations() -> None:
    labels = {"app.kubernetes.io/managed-by": "platxa-secrets", "tier": "db"}
    annotations = {"platxa.io/note": "línea uno: dos # tres", "b": "0123"}

    for fmt in ("yaml", "json"):
        text = render_manifest(
            "tenant-a",
            "odoo",
            "Opaque",
            {"a": b"1"},
            labels=labels,
            annotations=annotations,
            fmt=fmt,
        )

        metadata = yaml.safe_load(text)["metadata"]
        assert metadata["labels"] == labels
        assert metadata["annotations"] == annotations
        assert only(parse_manifests(text, SRC)).labels == labels


def test_string_data_overrides_data_for_the_same_key() -> None:
    content = secret(
        data={"password": b64("old"), "user": b64("admin")},
        stringData={"password": "new-ñ"},
    )

    assert only(parse_manifests(content, SRC)).data == {
        "password": "new-ñ".encode(),
        "user": b"admin",
    }


def test_line_wrapped_base64_is_accepted_as_kubernetes_does() -> None:
    value = bytes(range(200))
    encoded = b64(value)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    content = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n"
        "  blob: |\n" + "".join(f"    {line}\n" for line in wrapped.split("\n"))
    )

    assert only(parse_manifests(content, SRC)).data == {"blob": value}
    crlf = secret(data={"blob": encoded[:40] + "\r\n" + encoded[40:]})
    assert only(parse_manifests(crlf, SRC)).data == {"blob": value}


def test_defaults_type_opaque_and_namespace_default() -> None:
    for content in (secret(), secret(type=""), secret(type=None)):
        manifest = only(parse_manifests(content, SRC))

        assert (manifest.namespace, manifest.type, manifest.data) == (
            "default",
            "Opaque",
            {},
        )


def test_unquoted_timestamp_stays_text() -> None:
    content = "kind: Secret\napiVersion: v1\nmetadata: {name: t}\n"
    content += "stringData:\n  expiration: 2020-09-13T04:39:10Z\n  day: 2024-01-31\n"

    assert only(parse_manifests(content, SRC)).data == {
        "expiration": b"2020-09-13T04:39:10Z",
        "day": b"2024-01-31",
    }


def test_empty_documents_are_ignored_but_counted() -> None:
    content = "---\n---\n# nothing\n---\n" + secret()

    batch = parse_manifests(content, SRC)

    assert only(batch).source == f"{SRC}#3"
    assert parse_manifests("", SRC) == ManifestBatch(secrets=[], skipped=[])


def test_other_kinds_and_versions_are_skipped_with_a_reason() -> None:
    content = "\n---\n".join(
        [
            secret(apiVersion="v2", data={"k": CANARY_B64}),
            json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "data": {}}),
            secret(metadata={"name": "kept"}),
        ]
    )

    batch = parse_manifests(content, SRC)

    assert only(batch).name == "kept"
    assert [(s.source, s.kind, s.api_version, s.name) for s in batch.skipped] == [
        (f"{SRC}#1", "Secret", "v2", "db"),
        (f"{SRC}#2", "ConfigMap", "v1", None),
    ]
    assert CANARY_B64 not in repr(batch)


def test_a_v1_list_is_expanded() -> None:
    items = [
        json.loads(secret(metadata={"name": "one"})),
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}},
        json.loads(secret(metadata={"name": "two", "namespace": "ns"})),
    ]
    content = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})

    batch = parse_manifests(content, SRC)

    assert [(s.namespace, s.name) for s in batch.secrets] == [
        ("default", "one"),
        ("ns", "two"),
    ]
    assert batch.secrets[1].source == f"{SRC}#1.items[2]"
    assert batch.skipped[0].source == f"{SRC}#1.items[1]"


def test_repr_shows_key_names_never_values() -> None:
    content = secret(data={"password": CANARY_B64}, stringData={"token": CANARY})

    manifest = only(parse_manifests(content, SRC))

    for text in (repr(manifest), str(manifest), repr(parse_manifests(content, SRC))):
        assert "'password'" in text
        assert "'token'" in text
        assert CANARY not in text
        assert CANARY_B64 not in text


# --- refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"password": CANARY}, "only A-Z"),
        ({"password": CANARY_B64.rstrip("=")}, "multiple of 4"),
        ({"password": b64(b"\xfb\xff" + CANARY.encode()).replace("+", "-")}, "A-Z"),
        ({"password": CANARY_B64 + CANARY_B64}, "padding is misplaced"),
        ({"password": CANARY_B64[:8] + " " + CANARY_B64[8:]}, "no spaces"),
        ({"password": f"b'{CANARY_B64}'"}, "str() of a bytes object"),
        ({"password": f'b"{CANARY_B64}"'}, "Python bytes literal"),
        ({"password": b64(f"b'{CANARY}'")}, "decodes to a Python bytes"),
        ({"password": "contraseña"}, "only A-Z"),
    ],
    ids=[
        "alphabet",
        "padding",
        "urlsafe",
        "misplaced",
        "space",
        "bytes-literal",
        "bytes-literal-dq",
        "decodes-to-literal",
        "non-ascii",
    ],
)
def test_invalid_data_values(data: dict[str, str], rule: str) -> None:
    refused(secret(data=data), f"{SRC}#1", "data.password", rule)


@pytest.mark.parametrize(
    "value", [f"b'{CANARY}'", f'b"{CANARY}"', f"  b'{CANARY}\\n'\n"]
)
def test_bytes_literal_in_string_data(value: str) -> None:
    refused(secret(stringData={"password": value}), "stringData.password", "str()")


@pytest.mark.parametrize(
    ("section", "value", "kind"),
    [
        ("stringData", 918273645, "a number"),
        ("stringData", 3.25, "a number"),
        ("stringData", True, "a boolean"),
        ("stringData", None, "null"),
        ("stringData", {"nested": CANARY}, "a mapping"),
        ("data", [CANARY_B64], "a list"),
        ("data", None, "null"),
        ("data", 918273645, "a number"),
    ],
)
def test_non_string_values(section: str, value: object, kind: str) -> None:
    exc = refused(
        secret(**{section: {"pin": value}}), f"{SRC}#1", f"{section}.pin", kind
    )

    assert "918273645" not in str(exc)


def test_binary_tag_is_not_a_string() -> None:
    content = "kind: Secret\napiVersion: v1\nmetadata: {name: x}\n"
    content += f"data: {{k: !!binary {CANARY_B64}}}\n"

    refused(content, "data.k", "binary")


def test_lone_surrogate_is_not_text() -> None:
    content = secret(stringData={"k": CANARY + "\ud800"})

    refused(content, "stringData.k", "surrogate")


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("data", "bad key"),
        ("data", "a/b"),
        ("stringData", ".."),
        ("stringData", ""),
        ("data", "k" * 254),
    ],
)
def test_bad_keys(section: str, key: str) -> None:
    value = CANARY_B64 if section == "data" else CANARY

    refused(secret(**{section: {key: value}}), f"{SRC}#1", f"{section} key")


def test_non_string_key() -> None:
    content = "kind: Secret\napiVersion: v1\nmetadata: {name: x}\n"
    content += f"stringData: {{yes: {CANARY}}}\n"

    refused(content, "stringData", "a boolean, not a string")


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        ({"name": "Bad_Name"}, "metadata.name"),
        ({"name": "a" * 254}, "metadata.name"),
        ({"name": 42}, "metadata.name"),
        ({}, "metadata.name"),
        ({"generateName": "db-"}, "generateName is not supported"),
        ({"name": "db", "namespace": "Tenant_A"}, "metadata.namespace"),
        ({"name": "db", "namespace": "a" * 64}, "metadata.namespace"),
        ({"name": "db", "namespace": ["x"]}, "metadata.namespace"),
        ({"name": "db", "labels": {"app": "bad value!"}}, "metadata.labels"),
        ({"name": "db", "labels": {"-bad": "x"}}, "metadata.labels"),
        ({"name": "db", "labels": {"n": 1}}, "metadata.labels"),
    ],
)
def test_bad_metadata(metadata: dict[str, Any], path: str) -> None:
    content = secret(metadata=metadata, data={"password": CANARY_B64})

    refused(content, f"{SRC}#1", path)


def test_bad_namespace_option() -> None:
    refused(secret(data={"k": CANARY_B64}), "namespace option", namespace="Bad!")


def test_namespace_conflict_is_refused_like_kubectl() -> None:
    content = secret(
        metadata={"name": "db", "namespace": "tenant-a"},
        data={"password": CANARY_B64},
    )

    exc = refused(content, f"{SRC}#1", "metadata.namespace", namespace="tenant-b")

    assert "'tenant-a'" in str(exc)
    assert "'tenant-b'" in str(exc)


def test_oversize_secret_is_refused() -> None:
    big = CANARY.encode() + b"x" * MIB

    refused(secret(data={"blob": b64(big)}), f"{SRC}#1", "data", "1 MiB")


def test_size_counts_data_and_string_data_together() -> None:
    half = b"x" * (MIB // 2)
    content = secret(
        data={"a": b64(half)}, stringData={"b": half.decode(), "c": CANARY}
    )

    refused(content, f"{SRC}#1", "1 MiB")


@pytest.mark.parametrize(
    ("secret_type", "data", "fragments"),
    [
        ("kubernetes.io/tls", {"tls.crt": CANARY_B64}, ("data[tls.key]",)),
        ("kubernetes.io/basic-auth", {"user": CANARY_B64}, ("'username'",)),
        ("kubernetes.io/ssh-auth", {"ssh-privatekey": ""}, ("ssh-privatekey",)),
        (
            "kubernetes.io/dockercfg",
            {".dockercfg": b64('{"auth": "' + CANARY)},
            ("data[.dockercfg]", "JSON object"),
        ),
        (
            "kubernetes.io/dockerconfigjson",
            {".dockerconfigjson": b64(f'["{CANARY}"]')},
            ("data[.dockerconfigjson]", "JSON object"),
        ),
        (
            "kubernetes.io/service-account-token",
            {"token": CANARY_B64},
            ("type", "cluster issues"),
        ),
    ],
)
def test_typed_secret_rules(
    secret_type: str, data: dict[str, str], fragments: tuple[str, ...]
) -> None:
    content = secret(type=secret_type, data=data)

    refused(content, f"{SRC}#1", "default/db", secret_type, *fragments)


def test_bad_type_values() -> None:
    refused(secret(type=7, data={"k": CANARY_B64}), f"{SRC}#1", "type")
    refused(secret(type="bad type", data={"k": CANARY_B64}), f"{SRC}#1", "type")


def test_duplicate_secrets_in_one_batch() -> None:
    first = secret(data={"password": CANARY_B64})
    second = secret(
        metadata={"name": "db", "namespace": "default"}, stringData={"p": CANARY}
    )

    exc = refused(f"{first}\n---\n{second}", f"{SRC}#2", "metadata.name")

    assert "default/db" in str(exc)
    assert f"{SRC}#1" in str(exc)


def test_same_name_in_two_namespaces_is_fine() -> None:
    first = secret(metadata={"name": "db", "namespace": "a"})
    second = secret(metadata={"name": "db", "namespace": "b"})

    assert len(parse_manifests(f"{first}\n---\n{second}", SRC).secrets) == 2


def test_one_bad_document_fails_the_whole_batch() -> None:
    good = secret(metadata={"name": "good"}, data={"k": CANARY_B64})
    bad = secret(metadata={"name": "bad"}, data={"k": CANARY})

    refused(f"{good}\n---\n{bad}", f"{SRC}#2", "data.k")


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (f"[{CANARY}]", ("document must be a mapping",)),
        (CANARY, ("document must be a mapping",)),
        (json.dumps({"kind": "Secret", "data": {"k": CANARY_B64}}), ("apiVersion",)),
        (json.dumps({"apiVersion": "v1", "stringData": {"k": CANARY}}), ("kind",)),
        (secret(stringdata={"k": CANARY}), ("'stringdata'", "not a field")),
        (secret(metadata=CANARY), ("metadata must be a mapping",)),
        (secret(data=[CANARY_B64]), ("data must be a mapping",)),
        (
            json.dumps({"apiVersion": "v1", "kind": "List", "items": CANARY}),
            ("items must be a list",),
        ),
    ],
    ids=[
        "list",
        "scalar",
        "no-api-version",
        "no-kind",
        "unknown-field",
        "metadata",
        "data",
        "items",
    ],
)
def test_malformed_documents(content: str, fragments: tuple[str, ...]) -> None:
    refused(content, f"{SRC}#1", *fragments)


@pytest.mark.parametrize(
    ("content", "line", "column"),
    [
        (f'stringData: {{password: "{CANARY}\n', 2, 1),
        (f"a: 1\nb: [{CANARY}\n", 3, 1),
        (f'k: "{CANARY}\\q"\n', 1, len(CANARY) + 6),
        (f"k: *{CANARY}\n", 1, 4),
        (f"k: !{CANARY} x\n", 1, 4),
        (f"k: !!python/object:{CANARY} x\n", 1, 4),
        (f"a: {CANARY}\na: {CANARY}\n", 2, 1),
        (f"k:\n  - {CANARY}\n  x: {CANARY}\n", 3, 3),
    ],
    ids=[
        "unterminated",
        "unclosed-flow",
        "escape",
        "alias",
        "tag",
        "python-tag",
        "duplicate-key",
        "indent",
    ],
)
def test_yaml_errors_report_position_not_snippet(
    content: str, line: int, column: int
) -> None:
    exc = refused(content, f"{SRC}#1", "invalid YAML")

    assert exc.context["line"] == line
    assert exc.context["column"] == column


@pytest.mark.parametrize(
    "content",
    [f"k: *{CANARY}\n", f"k: !{CANARY} x\n", f"k: !!python/object:{CANARY} x\n"],
)
def test_pyyaml_itself_would_have_leaked_these(content: str) -> None:
    # Guards the test above: these inputs do put the canary in PyYAML's
    # own reason, so its absence from ours is the redaction at work.
    with pytest.raises(yaml.MarkedYAMLError) as info:
        list(yaml.safe_load_all(content))

    assert CANARY in (info.value.problem or "")


def test_later_document_syntax_error_names_its_document() -> None:
    content = secret() + f'\n---\nstringData: {{p: "{CANARY}\n'

    refused(content, f"{SRC}#2", "invalid YAML")


@pytest.mark.parametrize(
    "content",
    [
        b"k: " + CANARY.encode() + b"\xff\xfe\n",
        "k: " + CANARY + "\x01\n",
    ],
    ids=["not-utf8", "control-character"],
)
def test_unreadable_input(content: bytes | str) -> None:
    refused(content, SRC, "unreadable input at position")


def test_deep_nesting_is_refused_not_crashed() -> None:
    refused("[" * 5000 + CANARY, SRC, "nested too deeply")


# --- render refusals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"namespace": "Bad!"}, "namespace"),
        ({"name": "Bad_Name"}, "name"),
        ({"secret_type": "bad type"}, "type"),
        ({"data": {"bad key": CANARY.encode()}}, "data key"),
        ({"data": {"k": CANARY}}, "must be bytes"),
        ({"secret_type": "kubernetes.io/tls"}, "'tls.crt'"),
        ({"data": {"k": CANARY.encode() + b"x" * MIB}}, "1 MiB"),
        ({"labels": {"app": "bad value!"}}, "labels"),
        ({"annotations": {"bad key!": "v"}}, "annotations"),
        (
            {
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": CANARY
                }
            },
            "plain text",
        ),
        ({"fmt": "toml"}, "format"),
    ],
)
def test_render_refuses_what_parse_would_refuse(
    arguments: dict[str, Any], fragment: str
) -> None:
    call: dict[str, Any] = {
        "namespace": "tenant-a",
        "name": "db",
        "secret_type": "Opaque",
        "data": {"password": CANARY.encode()},
    }
    call.update(arguments)

    with pytest.raises(ValidationError) as info:
        render_manifest(**call)

    assert fragment in str(info.value)
    assert_no_canary(info.value)
