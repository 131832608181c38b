"""The manifests that deploy Platxa Secrets itself: valid and least privilege.

Every document under deploy/kubernetes is validated offline against the
Kubernetes schemas that kubernetes-validate ships (strict: unknown fields
fail), then checked for the security properties the README promises.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"

# The newest Kubernetes version whose schemas kubernetes-validate ships.
KUBERNETES_VERSION = "1.37.0"

NAMESPACE = "platxa-secrets"
MASTER_SECRET = "platxa-secrets-master"
MASTER_KEY_FILE = "/var/run/platxa-secrets/master/master.key"
SYNC_VERBS = {"get", "list", "create", "patch", "delete"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

Doc = dict[str, Any]


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def _is_kustomization(path: Path) -> bool:
    return path.stem == "kustomization"


def _load() -> list[tuple[str, Doc]]:
    docs = []
    for path in _yaml_files():
        if _is_kustomization(path):
            continue
        with path.open() as f:
            for index, doc in enumerate(yaml.safe_load_all(f)):
                if doc is None:
                    continue
                where = f"{path.relative_to(DEPLOY)}#{index}"
                what = f"{doc['kind']}/{doc['metadata']['name']}"
                docs.append((f"{where}:{what}", doc))
    return docs


DOCS = _load()


def _of_kind(*kinds: str) -> list[Doc]:
    return [doc for _, doc in DOCS if doc["kind"] in kinds]


def _one(kind: str, name: str) -> Doc:
    (found,) = [d for d in _of_kind(kind) if d["metadata"]["name"] == name]
    return found


def _pod_specs() -> Iterator[tuple[str, Doc]]:
    for doc in _of_kind("Deployment"):
        yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]
    for doc in _of_kind("CronJob"):
        job = doc["spec"]["jobTemplate"]["spec"]
        yield doc["metadata"]["name"], job["template"]["spec"]


def _containers(pod: Doc) -> list[Doc]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _walk(node: Any) -> Iterator[tuple[Any, Any]]:
    """Every (key, value) pair of every mapping in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to resolve or connect while validating."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("schema validation tried to use the network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# -- the set of files -------------------------------------------------------


def test_the_expected_objects_are_there() -> None:
    found = {(doc["kind"], doc["metadata"]["name"]) for _, doc in DOCS}
    assert {
        ("Namespace", NAMESPACE),
        ("ServiceAccount", "platxa-secrets"),
        ("Deployment", "platxa-secrets"),
        ("CronJob", "platxa-secrets-keys-maintain"),
        ("Service", "platxa-secrets"),
        ("NetworkPolicy", "platxa-secrets-default-deny"),
        ("Role", "platxa-secrets-sync"),
        ("RoleBinding", "platxa-secrets-sync"),
        ("ClusterRole", "platxa-secrets-sync"),
        ("ClusterRoleBinding", "platxa-secrets-sync"),
    } <= found


def test_the_schema_version_is_the_newest_shipped() -> None:
    assert kv_utils.latest_version() == KUBERNETES_VERSION


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize(("label", "doc"), DOCS, ids=[label for label, _ in DOCS])
def test_every_document_is_valid_kubernetes(label: str, doc: Doc) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_each_kustomization_lists_exactly_its_manifests() -> None:
    kustomizations = [p for p in _yaml_files() if _is_kustomization(p)]
    assert kustomizations
    for path in kustomizations:
        config = yaml.safe_load(path.read_text())
        assert config["kind"] == "Kustomization", path
        beside = {
            p.name
            for p in path.parent.iterdir()
            if p.suffix in (".yaml", ".yml") and not _is_kustomization(p)
        }
        assert set(config["resources"]) == beside, path


# -- nothing secret in the manifests ----------------------------------------


def test_no_secret_is_defined() -> None:
    assert _of_kind("Secret") == []
    for label, doc in DOCS:
        assert "data" not in doc, label
        assert "stringData" not in doc, label


def test_no_last_applied_annotation() -> None:
    for path in _yaml_files():
        assert LAST_APPLIED not in path.read_text(), path


def test_no_key_material_in_any_file() -> None:
    fernet_key = re.compile(r"[A-Za-z0-9_-]{43}=")
    for path in _yaml_files():
        text = path.read_text()
        assert not fernet_key.search(text), path
        assert "PRIVATE KEY" not in text, path


def test_secret_inputs_are_references_not_values() -> None:
    for name, pod in _pod_specs():
        for container in _containers(pod):
            env = {e["name"]: e for e in container.get("env", [])}
            assert "PLATXA_SECRETS_MASTER_KEY" not in env, name
            if "PLATXA_SECRETS_DATABASE_URL" in env:
                ref = env["PLATXA_SECRETS_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
                assert ref == {"name": "platxa-secrets-database", "key": "url"}


# -- pods -------------------------------------------------------------------


def test_pods_run_unprivileged() -> None:
    specs = list(_pod_specs())
    assert {name for name, _ in specs} == {
        "platxa-secrets",
        "platxa-secrets-keys-maintain",
    }
    for name, pod in specs:
        pod_context = pod["securityContext"]
        assert pod_context["runAsNonRoot"] is True, name
        assert pod_context["runAsUser"] > 0, name
        assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for field in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(field), (name, field)
        assert all("hostPath" not in v for v in pod["volumes"]), name

        for container in _containers(pod):
            where = (name, container["name"])
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context.get("runAsUser", 1) != 0, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert container["resources"]["requests"], where
            assert container["resources"]["limits"], where


def test_images_name_no_registry_host() -> None:
    for name, pod in _pod_specs():
        for container in _containers(pod):
            first = container["image"].split("/")[0]
            assert "." not in first, (name, first)
            assert ":" not in first, (name, first)
            assert first != "localhost", (name, first)


def test_master_key_is_mounted_read_only_with_mode_0400() -> None:
    for name, pod in _pod_specs():
        volumes = {v["name"]: v for v in pod["volumes"]}
        (secret_volume,) = [
            v
            for v in volumes.values()
            if v.get("secret", {}).get("secretName") == MASTER_SECRET
        ]
        assert secret_volume["secret"]["defaultMode"] == 0o400, name
        for item in secret_volume["secret"].get("items", []):
            assert item.get("mode", 0o400) == 0o400, name

        for container in _containers(pod):
            for mount in container.get("volumeMounts", []):
                if mount["name"] == secret_volume["name"]:
                    assert mount["readOnly"] is True, (name, container["name"])

        # The process that uses the key reads it from a read-only mount
        # (the in-memory, owner-only copy the init container made).
        (main,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in main["env"]}
        assert env["PLATXA_SECRETS_MASTER_KEY_FILE"] == MASTER_KEY_FILE
        key_dir = str(Path(MASTER_KEY_FILE).parent)
        (mount,) = [m for m in main["volumeMounts"] if m["mountPath"] == key_dir]
        assert mount["readOnly"] is True, name
        assert volumes[mount["name"]]["emptyDir"]["medium"] == "Memory", name


def test_deployment() -> None:
    deployment = _one("Deployment", "platxa-secrets")
    pod = deployment["spec"]["template"]["spec"]
    (server,) = pod["containers"]

    assert deployment["spec"]["replicas"] == 2
    assert pod["serviceAccountName"] == "platxa-secrets"
    assert pod["automountServiceAccountToken"] is True
    assert server["command"] == ["platxa-secrets", "serve"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["PLATXA_SECRETS_ENV"] == "production"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["ports"] == [
        {"name": "http", "containerPort": 8080, "protocol": "TCP"}
    ]
    assert {m["mountPath"] for m in server["volumeMounts"]} >= {"/tmp"}


def test_cronjob_maintains_keys_hourly_without_an_api_token() -> None:
    cronjob = _one("CronJob", "platxa-secrets-keys-maintain")
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    minute, *rest = cronjob["spec"]["schedule"].split()
    assert minute.isdigit() and rest == ["*", "*", "*", "*"]
    assert container["command"] == ["pxs", "keys", "maintain"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] != "platxa-secrets"


def test_service_accounts_do_not_mount_tokens_by_default() -> None:
    for account in _of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_namespace_enforces_the_restricted_pod_security_profile() -> None:
    labels = _one("Namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# -- network ----------------------------------------------------------------


def test_network_is_denied_unless_allowed() -> None:
    deny = _one("NetworkPolicy", "platxa-secrets-default-deny")["spec"]
    assert deny["podSelector"] == {}
    assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]

    for policy in _of_kind("NetworkPolicy"):
        spec = policy["spec"]
        for rule in spec.get("ingress", []):
            assert [p["port"] for p in rule["ports"]] == [8080]
            for peer in rule["from"]:
                assert "ipBlock" not in peer
                assert peer["namespaceSelector"]["matchLabels"]
                assert peer["podSelector"]["matchLabels"]
        for rule in spec.get("egress", []):
            ports = {p["port"] for p in rule["ports"]}
            assert ports <= {53, 5432, 443, 6443}, policy["metadata"]["name"]
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    cidr = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                    assert cidr.prefixlen >= 16, cidr


def test_kube_api_egress_is_a_documented_placeholder() -> None:
    policy = _one("NetworkPolicy", "platxa-secrets-allow-kube-api")
    (rule,) = policy["spec"]["egress"]
    (peer,) = rule["to"]
    test_net_1 = ipaddress.ip_network("192.0.2.0/24")
    assert ipaddress.ip_network(peer["ipBlock"]["cidr"]).subnet_of(test_net_1)
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector["app.kubernetes.io/component"] == "server"


# -- RBAC -------------------------------------------------------------------


def _rbac(variant: str) -> list[Doc]:
    return [doc for label, doc in DOCS if label.startswith(f"rbac/{variant}/")]


def test_rbac_rules_touch_only_secrets_with_the_sync_verbs() -> None:
    roles = _of_kind("Role", "ClusterRole")
    assert len(roles) == 2
    for role in roles:
        for rule in role["rules"]:
            assert rule["apiGroups"] == [""]
            assert rule["resources"] == ["secrets"]
            assert set(rule["verbs"]) == SYNC_VERBS
            assert "nonResourceURLs" not in rule
        for key, value in _walk(role["rules"]):
            values = value if isinstance(value, list) else [value]
            assert "*" not in values, (role["metadata"]["name"], key)
            for forbidden in ("escalate", "bind", "impersonate", "update", "watch"):
                assert forbidden not in values


def test_namespaced_rbac_grants_nothing_cluster_wide() -> None:
    docs = _rbac("namespaced")
    assert {doc["kind"] for doc in docs} == {"Role", "RoleBinding"}
    for doc in docs:
        assert doc["metadata"]["namespace"] == "tenant-example"
    (binding,) = [d for d in docs if d["kind"] == "RoleBinding"]
    assert binding["roleRef"]["kind"] == "Role"


def test_cluster_rbac_binds_its_own_cluster_role() -> None:
    docs = _rbac("cluster")
    assert {doc["kind"] for doc in docs} == {"ClusterRole", "ClusterRoleBinding"}
    (binding,) = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "platxa-secrets-sync",
    }


def test_bindings_name_only_the_server_service_account() -> None:
    for binding in _of_kind("RoleBinding", "ClusterRoleBinding"):
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "platxa-secrets", "namespace": NAMESPACE}
        ]
