"""Connect the official client: in-cluster first, then kubeconfig.

The client's debug mode makes `http.client` print request and response
bodies — Secret data — to stdout, so it is forced off and cannot be
turned on from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platxa_secrets.core.config import Config
from platxa_secrets.errors import ConfigError


@dataclass
class KubeApi:
    """The API objects one command uses, and where they point."""

    core: Any
    authorization: Any
    source: str


def connect(config: Config, context: str | None = None) -> KubeApi:
    """In-cluster service account unless a context is named; then kubeconfig."""
    from kubernetes import client
    from kubernetes import config as kube_config

    from platxa_secrets.masking import install

    install()  # the client and urllib3 log through handlers that mask

    configuration = client.Configuration()
    source = ""
    if context is None:
        try:
            kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
            source = "in-cluster service account"
        except kube_config.ConfigException:
            source = ""
    if not source:
        path = config.kubeconfig or Path.home() / ".kube" / "config"
        _load_kubeconfig(kube_config, path, context, configuration)
        source = f"kubeconfig {path}" + (f" context {context}" if context else "")

    configuration.debug = False
    api_client = client.ApiClient(configuration)
    return KubeApi(
        client.CoreV1Api(api_client), client.AuthorizationV1Api(api_client), source
    )


def _load_kubeconfig(
    kube_config: Any, path: Path, context: str | None, configuration: Any
) -> None:
    if not path.is_file():
        raise ConfigError(
            f"no Kubernetes configuration: not in a cluster and no kubeconfig at "
            f"{path} (set KUBECONFIG or PLATXA_SECRETS_KUBECONFIG)",
            field="kubeconfig",
        )
    problem = ""
    try:
        kube_config.load_kube_config(
            config_file=str(path), context=context, client_configuration=configuration
        )
    except kube_config.ConfigException as exc:
        problem = str(exc).splitlines()[0][:200]
    if problem:
        raise ConfigError(f"kubeconfig {path}: {problem}", field="kubeconfig")
