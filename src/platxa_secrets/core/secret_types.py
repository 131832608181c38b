"""The rules Kubernetes enforces on typed Secrets.

A stored secret is eventually applied to a cluster, so the store refuses
what the API server would refuse: a secret accepted here can always be
written there. The rules follow `ValidateSecret` of the Kubernetes API
server (pkg/apis/core/validation), no more and no less:

- `kubernetes.io/basic-auth`: `username` or `password` present (either
  may be empty);
- `kubernetes.io/ssh-auth`: `ssh-privatekey` present and not empty;
- `kubernetes.io/tls`: `tls.crt` and `tls.key` present (whether the PEM
  parses and the key matches is checked before a sync, not here);
- `kubernetes.io/dockercfg`: `.dockercfg` holds a JSON object;
- `kubernetes.io/dockerconfigjson`: `.dockerconfigjson` holds a JSON
  object. Kubernetes does not require an `auths` member, so neither do
  we; a JSON `null` passes too, as Go decodes it to an empty map;
- `Opaque`, `bootstrap.kubernetes.io/token` and any other type: no rule.

One deliberate difference: `kubernetes.io/service-account-token` is
refused. The cluster issues those tokens (the API server only asks for
the service account annotation and a controller fills the rest), so a
copy in the store would be stale or overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from platxa_secrets.errors import ValidationError

# Type and key names as Kubernetes defines them (names, not credentials).
SECRET_TYPE_OPAQUE = "Opaque"
SECRET_TYPE_SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
SECRET_TYPE_DOCKERCFG = "kubernetes.io/dockercfg"
SECRET_TYPE_DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
SECRET_TYPE_BASIC_AUTH = "kubernetes.io/basic-auth"
SECRET_TYPE_SSH_AUTH = "kubernetes.io/ssh-auth"
SECRET_TYPE_TLS = "kubernetes.io/tls"
SECRET_TYPE_BOOTSTRAP_TOKEN = "bootstrap.kubernetes.io/token"

WELL_KNOWN_TYPES = frozenset(
    {
        SECRET_TYPE_OPAQUE,
        SECRET_TYPE_SERVICE_ACCOUNT_TOKEN,
        SECRET_TYPE_DOCKERCFG,
        SECRET_TYPE_DOCKER_CONFIG_JSON,
        SECRET_TYPE_BASIC_AUTH,
        SECRET_TYPE_SSH_AUTH,
        SECRET_TYPE_TLS,
        SECRET_TYPE_BOOTSTRAP_TOKEN,
    }
)

BASIC_AUTH_USERNAME_KEY = "username"
BASIC_AUTH_PASSWORD_KEY = "password"
SSH_AUTH_PRIVATE_KEY = "ssh-privatekey"
TLS_CERT_KEY = "tls.crt"
TLS_PRIVATE_KEY_KEY = "tls.key"
DOCKER_CONFIG_KEY = ".dockercfg"
DOCKER_CONFIG_JSON_KEY = ".dockerconfigjson"


def check_type_rules(secret_type: str, data: Mapping[str, bytes], target: str) -> None:
    """Raise `ValidationError` if `data` breaks the rules of `secret_type`.

    `target` names the secret in the message ("tenant-a/db"). Messages
    name the type and the key or rule, never a value: a failed JSON
    parse reports its position, not the text around it.
    """
    rule = _RULES.get(secret_type)
    if rule is not None:
        rule(secret_type, data, target)


def _refuse_service_account_token(
    secret_type: str, data: Mapping[str, bytes], target: str
) -> None:
    """Refuse a token Secret: only the cluster can issue a valid one."""
    raise ValidationError(
        f"{target}: type {secret_type} cannot be stored; the cluster issues "
        "service account tokens itself (create the Secret in the cluster, or "
        "store the token under another type)",
        target=target,
        secret_type=secret_type,
        field="type",
    )


def _check_basic_auth(secret_type: str, data: Mapping[str, bytes], target: str) -> None:
    """Ask for a username or a password; Kubernetes allows either empty."""
    if BASIC_AUTH_USERNAME_KEY in data or BASIC_AUTH_PASSWORD_KEY in data:
        return

    raise _missing(
        secret_type,
        target,
        f"needs the key {BASIC_AUTH_USERNAME_KEY!r} or "
        f"{BASIC_AUTH_PASSWORD_KEY!r} in data (at least one)",
        BASIC_AUTH_USERNAME_KEY,
    )


def _check_ssh_auth(secret_type: str, data: Mapping[str, bytes], target: str) -> None:
    """Ask for a non-empty private key, the one rule that counts length."""
    if data.get(SSH_AUTH_PRIVATE_KEY):
        return

    raise _missing(
        secret_type,
        target,
        f"needs a non-empty key {SSH_AUTH_PRIVATE_KEY!r} in data",
        SSH_AUTH_PRIVATE_KEY,
    )


def _check_tls(secret_type: str, data: Mapping[str, bytes], target: str) -> None:
    """Ask for both halves of the pair; their content is checked later."""
    for key in (TLS_CERT_KEY, TLS_PRIVATE_KEY_KEY):
        if key not in data:
            raise _missing(secret_type, target, f"needs the key {key!r} in data", key)


def _check_dockercfg(secret_type: str, data: Mapping[str, bytes], target: str) -> None:
    """Ask for `.dockercfg` holding a JSON object."""
    _check_json_object(secret_type, data, target, DOCKER_CONFIG_KEY)


def _check_docker_config_json(
    secret_type: str, data: Mapping[str, bytes], target: str
) -> None:
    """Ask for `.dockerconfigjson` holding a JSON object."""
    _check_json_object(secret_type, data, target, DOCKER_CONFIG_JSON_KEY)


def _check_json_object(
    secret_type: str, data: Mapping[str, bytes], target: str, key: str
) -> None:
    """Parse `data[key]` as Go's `json.Unmarshal` into a map would.

    Invalid UTF-8 inside strings is replaced, as Go does; NaN and
    Infinity are refused, as Go does. The JSON error is reduced to its
    reason and position, since the text around it is the credential.
    """
    if key not in data:
        raise _missing(secret_type, target, f"needs the key {key!r} in data", key)

    reason = _json_object_problem(data[key])
    if reason is not None:
        raise _invalid_json(secret_type, target, key, reason)


def _json_object_problem(value: bytes) -> str | None:
    """Say why `value` is not a JSON object (or null), or None if it is.

    A reason, not an exception: `JSONDecodeError.doc` holds the whole
    value, and must not become the context of the error we raise.
    """
    import json  # only docker config secrets need it; keeps start-up light

    text = value.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    except (ValueError, RecursionError):
        return "unparseable"

    if parsed is not None and not isinstance(parsed, dict):
        return f"a JSON {_JSON_KINDS.get(type(parsed), 'value')}, not an object"
    return None


def _refuse_constant(name: str) -> object:
    """Refuse NaN and Infinity, which Python's JSON accepts and Go does not."""
    raise ValueError("not JSON")


def _invalid_json(
    secret_type: str, target: str, key: str, reason: str
) -> ValidationError:
    """Build the error for a docker config that is not a JSON object."""
    return ValidationError(
        f"{target}: a {secret_type} secret needs a JSON object in data key "
        f"{key!r}; the value is not one ({reason})",
        target=target,
        secret_type=secret_type,
        field="data",
        key=key,
    )


def _missing(secret_type: str, target: str, rule: str, key: str) -> ValidationError:
    """Build the error for a required key that is absent."""
    return ValidationError(
        f"{target}: a {secret_type} secret {rule}",
        target=target,
        secret_type=secret_type,
        field="data",
        key=key,
    )


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
}

_Rule = Callable[[str, Mapping[str, bytes], str], None]

_RULES: dict[str, _Rule] = {
    SECRET_TYPE_SERVICE_ACCOUNT_TOKEN: _refuse_service_account_token,
    SECRET_TYPE_BASIC_AUTH: _check_basic_auth,
    SECRET_TYPE_SSH_AUTH: _check_ssh_auth,
    SECRET_TYPE_TLS: _check_tls,
    SECRET_TYPE_DOCKERCFG: _check_dockercfg,
    SECRET_TYPE_DOCKER_CONFIG_JSON: _check_docker_config_json,
}
