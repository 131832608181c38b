"""Instance templates: one call fills every key of a tenant's secret.

A template names a secret, its type, the parameters an operator gives
and, for each key, where the value comes from: a literal, a parameter,
or a generator spec (see `generators`). Built-in templates and user
files share one YAML format and one loader:

    name: odoo
    secret: odoo                     # default: the template name
    type: Opaque                     # default: Opaque
    description: Credentials of one Odoo instance.
    parameters:
      db_host: {required: true, description: PostgreSQL host}
      db_name: {default: "{namespace}"}
      smtp_password: {secret: true, required: false}
    keys:
      DB_HOST: {param: db_host}
      DB_NAME: {param: db_name}
      DB_PORT: {literal: "5432"}
      DB_PASSWORD: {generate: "password(length=32)"}
      SMTP_PASSWORD: {param: smtp_password}

`{namespace}` and `{<parameter>}` placeholders may appear in defaults,
literals and the secret name; `{{` and `}}` stand for literal braces.
A parameter without a default is required unless `required: false`;
an optional parameter left unset leaves its keys out of the secret.

A *secret* parameter is one whose value must not travel on a command
line (argv is readable by every user of the host). It cannot have a
default, since the file would then hold a value, and no placeholder
may copy it into a name or literal. Generated keys are always secret.

Rendering is idempotent when given the secret as it stands: a generated
key that already has a value keeps it, so re-running a provisioning
never silently changes a password; every other key is recomputed.
Keys of the existing secret that the template does not name are not
carried into the result; merging is the caller's decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from platxa_secrets.core.names import (
    check_key,
    check_name,
    check_namespace,
    check_size,
    check_type,
)
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.generators import parse_generator

MAX_TEMPLATE_BYTES = 1024 * 1024

KeyKind = Literal["literal", "param", "generate"]

_PARAM_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN_RE = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|[{}]")
_TOP_FIELDS = {"name", "secret", "type", "description", "parameters", "keys"}
_PARAM_FIELDS = {"default", "required", "secret", "description"}
_KEY_KINDS: tuple[KeyKind, ...] = ("literal", "param", "generate")


@dataclass(frozen=True)
class Parameter:
    """A value the operator supplies when rendering a template."""

    name: str
    default: str | None
    required: bool
    secret: bool
    description: str


@dataclass(frozen=True)
class KeySource:
    """Where one key's value comes from; `value` is text, name or spec."""

    key: str
    kind: KeyKind
    value: str
    secret: bool


@dataclass(frozen=True)
class Template:
    """A checked template, ready to render for any namespace."""

    name: str
    secret_name: str
    type: str
    description: str
    parameters: dict[str, Parameter]
    keys: dict[str, KeySource]

    @property
    def secret_parameters(self) -> dict[str, Parameter]:
        """Parameters that must come from stdin, a file or a prompt."""
        return {name: p for name, p in self.parameters.items() if p.secret}


@dataclass(frozen=True)
class Rendered:
    """A secret ready to write; its repr names keys but shows no value."""

    secret_name: str
    type: str
    data: dict[str, bytes] = field(repr=False)
    generated: list[str]
    kept: list[str]


def _fail(source: str, where: str, rule: str) -> ValidationError:
    """Build the one error shape: which template, which field, which rule."""
    return ValidationError(f"{source}: {where}: {rule}", field=where, template=source)


# --- placeholders --------------------------------------------------------


def _placeholders(text: str, source: str, where: str) -> list[str]:
    """Return the names `text` refers to; raise on a stray brace."""
    names = []
    for match in _TOKEN_RE.finditer(text):
        if match.group(0) in ("{", "}"):
            raise _fail(
                source,
                where,
                "a brace must open a {placeholder} or be doubled ({{ or }})",
            )
        if match.group(1):
            names.append(match.group(1))
    return names


def _substitute(text: str, values: Mapping[str, str], source: str, where: str) -> str:
    """Replace placeholders in `text` by the values given."""

    def replace(match: re.Match[str]) -> str:
        token, name = match.group(0), match.group(1)
        if name is None:
            return token[0] if token in ("{{", "}}") else token
        if name not in values:
            raise _fail(source, where, f"placeholder {{{name}}} has no value")
        return values[name]

    _placeholders(text, source, where)
    return _TOKEN_RE.sub(replace, text)


# --- loading -------------------------------------------------------------


def _mapping(raw: object, source: str, where: str) -> dict[str, Any]:
    """Return `raw` as a dict with text keys, treating an empty node as {}."""
    if raw is None:
        return {}

    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise _fail(source, where, "must be a mapping with text keys")
    return raw


def _text(raw: object, source: str, where: str, numbers: bool = False) -> str:
    """Return `raw` as text; integers are accepted where `numbers` is set.

    Booleans are refused even then: YAML reads `yes` and `on` as true, a
    classic way for a literal to change meaning unnoticed.
    """
    if isinstance(raw, str):
        return raw

    if numbers and isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    raise _fail(source, where, "must be text" + (" or an integer" if numbers else ""))


def _flag(raw: object, source: str, where: str) -> bool:
    """Return `raw` if it is a YAML boolean."""
    if not isinstance(raw, bool):
        raise _fail(source, where, "must be true or false")
    return raw


def _unknown_fields(
    entry: dict[str, Any], allowed: set[str], source: str, where: str
) -> None:
    """Refuse fields the format does not define; a typo must not pass."""
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _fail(
            source,
            where,
            f"unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )


def _parameter(name: str, raw: object, source: str) -> Parameter:
    """Check one `parameters:` entry."""
    where = f"parameters.{name}"
    if not _PARAM_RE.fullmatch(name) or name == "namespace":
        raise _fail(
            source,
            where,
            "a parameter name is a letter or '_' then letters, digits or '_', "
            "and 'namespace' is reserved",
        )

    entry = _mapping(raw, source, where)
    _unknown_fields(entry, _PARAM_FIELDS, source, where)

    default = None
    if entry.get("default") is not None:
        default = _text(entry["default"], source, f"{where}.default", numbers=True)
    required = _flag(
        entry.get("required", default is None), source, f"{where}.required"
    )
    secret = _flag(entry.get("secret", False), source, f"{where}.secret")
    description = _text(entry.get("description", ""), source, f"{where}.description")

    if required and default is not None:
        raise _fail(source, where, "a required parameter cannot have a default")
    if secret and default is not None:
        raise _fail(source, where, "a secret parameter cannot have a default")
    return Parameter(name, default, required, secret, description)


def _key_source(
    key: str, raw: object, parameters: dict[str, Parameter], source: str
) -> KeySource:
    """Check one `keys:` entry: exactly one of literal, param, generate."""
    where = f"keys.{key}"
    check_key(key, field=f"{source}: {where}")

    entry = _mapping(raw, source, where)
    kinds = [kind for kind in _KEY_KINDS if kind in entry]
    if len(kinds) != 1 or len(entry) != 1:
        raise _fail(source, where, "must have exactly one of literal, param, generate")
    kind = kinds[0]

    if kind == "literal":
        text = _text(entry[kind], source, f"{where}.literal", numbers=True)
        return KeySource(key, kind, text, secret=False)

    if kind == "param":
        name = _text(entry[kind], source, f"{where}.param")
        if name not in parameters:
            known = ", ".join(parameters) or "none"
            raise _fail(source, where, f"unknown parameter {name!r} (known: {known})")
        return KeySource(key, kind, name, secret=parameters[name].secret)

    spec = _text(entry[kind], source, f"{where}.generate")
    try:
        generator = parse_generator(spec)
    except ValidationError as error:
        raise _fail(source, where, error.message) from None
    return KeySource(key, kind, generator.spec, secret=True)


def _check_references(template: Template, source: str) -> None:
    """Check every placeholder names a usable, non-secret value."""
    texts = [("secret", template.secret_name)]
    texts += [
        (f"keys.{k}", s.value) for k, s in template.keys.items() if s.kind == "literal"
    ]
    texts += [
        (f"parameters.{p.name}.default", p.default)
        for p in template.parameters.values()
        if p.default is not None
    ]

    for where, text in texts:
        for name in _placeholders(text, source, where):
            _check_reference(template, name, source, where)


def _check_reference(template: Template, name: str, source: str, where: str) -> None:
    """Refuse a placeholder that is unknown, secret, or may have no value."""
    if name == "namespace":
        return

    param = template.parameters.get(name)
    if param is None:
        known = ", ".join(["namespace", *template.parameters])
        raise _fail(source, where, f"unknown placeholder {{{name}}} (known: {known})")

    if param.secret:
        raise _fail(
            source,
            where,
            f"placeholder {{{name}}} would copy a secret parameter into plain text",
        )

    if not param.required and param.default is None:
        raise _fail(
            source,
            where,
            f"placeholder {{{name}}} refers to an optional parameter without a default",
        )


def _check_cycles(template: Template, source: str) -> None:
    """Refuse defaults that refer to each other in a loop."""
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            loop = " -> ".join([*path[path.index(name) :], name])
            raise _fail(source, f"parameters.{name}.default", f"defaults loop: {loop}")
        param = template.parameters.get(name)
        if name in done or param is None or param.default is None:
            return
        for ref in _placeholders(param.default, source, f"parameters.{name}.default"):
            visit(ref, (*path, name))
        done.add(name)

    for name in template.parameters:
        visit(name, ())


def _check_secret_name(template: Template, source: str) -> None:
    """Check the secret name now, with a stand-in for each placeholder."""
    names = _placeholders(template.secret_name, source, "secret")
    trial = _substitute(
        template.secret_name, dict.fromkeys(names, "x"), source, "secret"
    )
    check_name(trial, field=f"{source}: secret")


def _parse_template(raw: object, source: str) -> Template:
    """Check a loaded YAML document and build the template it describes."""
    if raw is None:
        raise _fail(source, "document", "is empty")
    top = _mapping(raw, source, "document")
    _unknown_fields(top, _TOP_FIELDS, source, "document")

    if "name" not in top:
        raise _fail(source, "name", "is required")
    name = check_name(_text(top["name"], source, "name"), field=f"{source}: name")
    secret_name = _text(top.get("secret", name), source, "secret")
    secret_type = check_type(
        _text(top.get("type", "Opaque"), source, "type"), field=f"{source}: type"
    )
    description = _text(top.get("description", ""), source, "description")

    parameters = {
        p: _parameter(p, entry, source)
        for p, entry in _mapping(top.get("parameters"), source, "parameters").items()
    }
    raw_keys = _mapping(top.get("keys"), source, "keys")
    if not raw_keys:
        raise _fail(source, "keys", "must name at least one key")
    keys = {
        k: _key_source(k, entry, parameters, source) for k, entry in raw_keys.items()
    }

    template = Template(name, secret_name, secret_type, description, parameters, keys)
    _check_references(template, source)
    _check_cycles(template, source)
    _check_secret_name(template, source)
    return template


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Describe a YAML error by its rule and position, never its snippet.

    PyYAML's own text quotes the offending lines, and a template file
    may sit beside values, so only the problem and the mark are kept.
    """
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return f"{error.problem or 'malformed'}{where}"
    return "malformed"


def load_template(path: Path) -> Template:
    """Load and check a template file; every problem names file and field."""
    source = f"template file {path}"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as error:
        raise _fail(source, "file", f"cannot be read ({error.strerror})") from None

    if len(data) > MAX_TEMPLATE_BYTES:
        raise _fail(source, "file", f"is larger than {MAX_TEMPLATE_BYTES} bytes")

    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(source, "file", "is not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise _fail(
            source, "file", f"is not valid YAML: {_yaml_problem(error)}"
        ) from None
    return _parse_template(raw, source)


# --- built-ins -----------------------------------------------------------

_ODOO = """
name: odoo
secret: odoo
type: Opaque
description: Database and administrator credentials of one Odoo instance.
parameters:
  db_host:
    required: true
    description: PostgreSQL host the instance connects to.
  db_name:
    default: "{namespace}"
    description: Database of the instance; one per tenant namespace.
  db_user:
    default: odoo
    description: PostgreSQL role the instance logs in as.
keys:
  DB_HOST: {param: db_host}
  DB_NAME: {param: db_name}
  DB_USER: {param: db_user}
  DB_PASSWORD: {generate: "password(length=32)"}
  ADMIN_PASSWORD: {generate: "password(length=24)"}
"""

BUILTINS: dict[str, Template] = {
    "odoo": _parse_template(yaml.safe_load(_ODOO), "built-in template 'odoo'"),
}


def get_template(name_or_path: str) -> Template:
    """Return a built-in template by name, else load the file at that path."""
    if name_or_path in BUILTINS:
        return BUILTINS[name_or_path]

    path = Path(name_or_path)
    if path.is_file():
        return load_template(path)

    raise ValidationError(
        f"template {name_or_path!r} is neither a built-in ({', '.join(BUILTINS)}) "
        "nor a file",
        field="template",
    )


# --- rendering -----------------------------------------------------------


def _given(template: Template, params: Mapping[str, str]) -> dict[str, str]:
    """Check the parameters the caller gave against the template."""
    source = f"template {template.name}"
    unknown = sorted(set(params) - set(template.parameters))
    if unknown:
        known = ", ".join(template.parameters) or "none"
        raise _fail(
            source,
            "parameters",
            f"unknown parameter(s) {', '.join(unknown)} (known: {known})",
        )

    for name, param in template.parameters.items():
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise _fail(source, f"parameters.{name}", "must be text")
        if param.required and not value:
            raise _fail(source, f"parameters.{name}", "is required and was not given")
    return dict(params)


def _resolve(
    template: Template, namespace: str, given: dict[str, str]
) -> dict[str, str]:
    """Return every parameter that has a value, defaults substituted.

    Given values are taken verbatim: a value from the operator is data,
    and substituting inside it would corrupt a password holding braces.
    """
    source = f"template {template.name}"
    values = {"namespace": namespace, **given}
    pending = {
        name: param.default
        for name, param in template.parameters.items()
        if name not in given and param.default is not None
    }

    while pending:
        ready = {
            name: default
            for name, default in pending.items()
            if set(_placeholders(default, source, f"parameters.{name}.default"))
            <= set(values)
        }
        if not ready:
            names = ", ".join(pending)
            raise _fail(source, "parameters", f"defaults of {names} cannot be resolved")

        for name, default in ready.items():
            where = f"parameters.{name}.default"
            values[name] = _substitute(default, values, source, where)
            del pending[name]
    return values


def _plain_value(
    key_source: KeySource, values: Mapping[str, str], source: str
) -> bytes | None:
    """Return a literal or parameter key's value; None if the parameter is unset."""
    if key_source.kind == "param":
        value = values.get(key_source.value)
        return None if value is None else value.encode()

    where = f"keys.{key_source.key}"
    return _substitute(key_source.value, values, source, where).encode()


def render(
    template: Template,
    namespace: str,
    params: Mapping[str, str],
    existing: Mapping[str, bytes] | None = None,
) -> Rendered:
    """Fill every key of `template` for `namespace`.

    Pass the stored secret as `existing` when it already exists: its
    generated keys are then kept, so provisioning can be re-run without
    changing a password a running instance depends on.
    """
    check_namespace(namespace)
    source = f"template {template.name}"
    values = _resolve(template, namespace, _given(template, params))

    secret_name = _substitute(template.secret_name, values, source, "secret")
    check_name(secret_name, field=f"{source}: secret name")

    data: dict[str, bytes] = {}
    generated: list[str] = []
    kept: list[str] = []
    for key, key_source in template.keys.items():
        if key_source.kind != "generate":
            value = _plain_value(key_source, values, source)
            if value is not None:
                data[key] = value
        elif existing and existing.get(key):
            data[key] = existing[key]
            kept.append(key)
        else:
            data[key] = parse_generator(key_source.value).generate().encode()
            generated.append(key)

    check_size(data, f"secret {namespace}/{secret_name}")
    return Rendered(secret_name, template.type, data, generated, kept)
