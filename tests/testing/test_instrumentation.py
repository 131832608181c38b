"""Call log, injected failures, accessors, kubeconfig, discovery, threads."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import urllib3
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from platxa_secrets.clock import FrozenClock
from platxa_secrets.testing import KubeEmulator, emulator

from .helpers import APPLY, b64, secret_body, status_of

CANARY = "canary-0b7e55-not-for-stderr"
DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "kubernetes-docs"


def test_calls_are_recorded_with_their_verbs(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    core.create_namespaced_secret("tenant-a", secret_body("db"))
    core.read_namespaced_secret("db", "tenant-a")
    core.list_namespaced_secret("tenant-a")
    core.replace_namespaced_secret("db", "tenant-a", secret_body("db"))
    core.patch_namespaced_secret(
        "db", "tenant-a", secret_body("db"), field_manager="m", _content_type=APPLY
    )
    core.delete_namespaced_secret("db", "tenant-a")

    verbs = [(c.method, c.verb, c.namespace, c.name) for c in kube.calls]

    assert verbs == [
        ("POST", "create", "tenant-a", ""),
        ("GET", "get", "tenant-a", "db"),
        ("GET", "list", "tenant-a", ""),
        ("PUT", "update", "tenant-a", "db"),
        ("PATCH", "patch", "tenant-a", "db"),
        ("DELETE", "delete", "tenant-a", "db"),
    ]
    assert kube.count(verb="get") == 1
    assert kube.count(resource="secrets", namespace="tenant-a") == 6
    kube.reset_calls()
    assert kube.calls == ()


def test_injected_server_errors_then_recovery(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    kube.fail_next(2, status=500, verbs="get")

    for _ in range(2):
        error, _ = status_of(
            lambda: core.read_namespaced_secret("db", "tenant-a"), 500, "InternalError"
        )
        assert isinstance(error, client.exceptions.ServiceException)
    core.list_namespaced_secret("tenant-a")
    read = core.read_namespaced_secret("db", "tenant-a")

    assert read.metadata.name == "db"
    assert [c.status for c in kube.calls] == [500, 500, 200, 200]


def test_the_client_retries_a_503_with_retry_after_on_its_own(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})
    kube.fail_next(1, status=503)
    status_of(
        lambda: core.read_namespaced_secret("db", "tenant-a"), 503, "ServiceUnavailable"
    )

    kube.reset_calls()
    kube.fail_next(1, status=503, retry_after=0)
    core.read_namespaced_secret("db", "tenant-a")

    assert [c.status for c in kube.calls] == [503, 200]


def test_a_closed_connection(core: client.CoreV1Api, kube: KubeEmulator) -> None:
    kube.fail_next(1, close=True, verbs="create")

    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.create_namespaced_secret("tenant-a", secret_body("db"))
    kube.fail_next(1, close=True)
    core.list_namespaced_secret("tenant-a")

    assert [(c.verb, c.status) for c in kube.calls] == [
        ("create", 0),
        ("list", 0),
        ("list", 200),
    ]
    assert kube.secret("tenant-a", "db") is None


def test_accessors_return_copies(kube: KubeEmulator) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})

    copy = kube.secret("tenant-a", "db")
    assert copy is not None
    copy["data"]["k"] = b64("changed")
    kube.secrets("tenant-a")[0]["metadata"]["name"] = "renamed"

    assert kube.secret_data("tenant-a", "db") == {"k": b"v"}
    assert [s["metadata"]["name"] for s in kube.secrets()] == ["db"]


def test_kubeconfig_is_private_and_points_at_loopback(
    kube: KubeEmulator, tmp_path: Path
) -> None:
    path = kube.write_kubeconfig(tmp_path / "kc", context="ctx", namespace="tenant-a")

    document = yaml.safe_load(path.read_text())
    api = client.CoreV1Api(config.new_client_from_config(str(path), context="ctx"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert urlsplit(kube.url).hostname == "127.0.0.1"
    assert document["clusters"][0]["cluster"]["server"] == kube.url
    assert document["contexts"][0]["context"]["namespace"] == "tenant-a"
    assert api.read_namespace("tenant-a").metadata.name == "tenant-a"
    api.api_client.close()


def test_discovery_documents(api_client: client.ApiClient) -> None:
    version = client.VersionApi(api_client).get_code()
    versions = client.CoreApi(api_client).get_api_versions()
    resources = client.CoreV1Api(api_client).get_api_resources()
    groups = client.ApisApi(api_client).get_api_versions()

    address = versions.server_address_by_client_cidrs[0].server_address
    assert version.major == "1"
    assert versions.versions == ["v1"]
    assert f"http://{address}" == api_client.configuration.host
    assert {r.name for r in resources.resources} == {"namespaces", "secrets"}
    assert [g.name for g in groups.groups] == ["authorization.k8s.io"]


def test_concurrent_writes_get_distinct_resource_versions(
    core: client.CoreV1Api, kube: KubeEmulator
) -> None:
    versions: list[str] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        created = core.create_namespaced_secret(
            "tenant-a", secret_body(f"s{index}", stringData={"k": str(index)})
        )
        with lock:
            versions.append(created.metadata.resource_version)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(set(versions)) == 16
    assert len(kube.secrets("tenant-a")) == 16


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.glob("*.yaml")))
def test_kubernetes_docs_examples_round_trip(
    core: client.CoreV1Api, kube: KubeEmulator, name: str
) -> None:
    kube.create_namespace("kube-system")
    for document in yaml.safe_load_all((DOCS / name).read_text()):
        if document.get("kind") != "Secret":
            continue
        namespace = document["metadata"].get("namespace", "tenant-a")
        expected = {k: v.encode() for k, v in document.get("stringData", {}).items()}
        expected |= {k: b64decode(v) for k, v in document.get("data", {}).items()}

        core.patch_namespaced_secret(
            document["metadata"]["name"],
            namespace,
            document,
            field_manager="platxa-secrets",
            _content_type=APPLY,
        )

        assert kube.secret_data(namespace, document["metadata"]["name"]) == expected


def b64decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text)


def test_nothing_is_printed(
    core: client.CoreV1Api, kube: KubeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    core.create_namespaced_secret(
        "tenant-a", secret_body("db", stringData={"k": CANARY})
    )
    with pytest.raises(ApiException):
        core.create_namespaced_secret(
            "tenant-a", secret_body("db", stringData={"k": CANARY})
        )
    with pytest.raises(ApiException):
        core.create_namespaced_secret(
            "tenant-a", secret_body("bad", data={"k": CANARY + "!"})
        )

    out, err = capfd.readouterr()

    assert out == "" and err == ""


def test_context_manager_helper_and_stop() -> None:
    with emulator("tenant-a") as kube:
        url = kube.url
        kube.put_secret("tenant-a", "db", {"k": "v"})
        assert kube.namespaces() == ["tenant-a"]

    with pytest.raises(RuntimeError):
        _ = kube.url
    assert url.startswith("http://127.0.0.1:")
    kube.stop()


def test_list_bodies_match_the_wire(core: client.CoreV1Api, kube: KubeEmulator) -> None:
    kube.put_secret("tenant-a", "db", {"k": "v"})

    raw = core.list_namespaced_secret("tenant-a", _preload_content=False)
    body = json.loads(raw.data)

    assert body["kind"] == "SecretList"
    assert "kind" not in body["items"][0]


def test_plugin_fixtures_and_an_injected_clock(
    kube_emulator: KubeEmulator, kube_kubeconfig: Path
) -> None:
    frozen = FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    with KubeEmulator(clock=frozen, namespaces=["tenant-a"]) as kube:
        api = client.CoreV1Api(
            config.new_client_from_config(
                str(kube.write_kubeconfig(kube_kubeconfig.with_name("frozen")))
            )
        )
        created = api.create_namespaced_secret("tenant-a", secret_body("db"))
        api.api_client.close()

    assert created.metadata.creation_timestamp == frozen.now()
    assert kube_kubeconfig.exists()
    assert kube_emulator.namespaces() == []
