"""Loading templates: YAML in, a fully checked `Template` out.

Every rule is checked at load time (field names, parameter and key
entries, generator specs, placeholder references, default cycles and
the secret name), so a bad template fails when it is read, never
half-way through a provisioning. Messages name the file and the field,
and YAML errors keep their position but not the offending text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from platxa_secrets.core.names import check_key, check_name, check_type
from platxa_secrets.errors import ValidationError
from platxa_secrets.services.generator_spec import parse_generator
from platxa_secrets.services.templates._model import (
    KeyKind,
    KeySource,
    Parameter,
    Template,
    fail,
)
from platxa_secrets.services.templates._placeholders import placeholders, substitute

MAX_TEMPLATE_BYTES = 1024 * 1024

_PARAM_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOP_FIELDS = {"name", "secret", "type", "description", "parameters", "keys"}
_PARAM_FIELDS = {"default", "required", "secret", "description"}
_KEY_KINDS: tuple[KeyKind, ...] = ("literal", "param", "generate")


def load_template(path: Path) -> Template:
    """Load and check a template file; every problem names file and field."""
    source = f"template file {path}"
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as error:
        raise fail(source, "file", f"cannot be read ({error.strerror})") from None

    if len(data) > MAX_TEMPLATE_BYTES:
        raise fail(source, "file", f"is larger than {MAX_TEMPLATE_BYTES} bytes")

    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise fail(source, "file", "is not UTF-8 text") from None
    except yaml.YAMLError as error:
        raise fail(
            source, "file", f"is not valid YAML: {_yaml_problem(error)}"
        ) from None
    return parse_template(raw, source)


def parse_template(raw: object, source: str) -> Template:
    """Check a loaded YAML document and build the template it describes."""
    if raw is None:
        raise fail(source, "document", "is empty")
    top = _mapping(raw, source, "document")
    _unknown_fields(top, _TOP_FIELDS, source, "document")

    if "name" not in top:
        raise fail(source, "name", "is required")
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
        raise fail(source, "keys", "must name at least one key")
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


def _mapping(raw: object, source: str, where: str) -> dict[str, Any]:
    """Return `raw` as a dict with text keys, treating an empty node as {}."""
    if raw is None:
        return {}

    if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
        raise fail(source, where, "must be a mapping with text keys")
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
    raise fail(source, where, "must be text" + (" or an integer" if numbers else ""))


def _flag(raw: object, source: str, where: str) -> bool:
    """Return `raw` if it is a YAML boolean."""
    if not isinstance(raw, bool):
        raise fail(source, where, "must be true or false")
    return raw


def _unknown_fields(
    entry: dict[str, Any], allowed: set[str], source: str, where: str
) -> None:
    """Refuse fields the format does not define; a typo must not pass."""
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise fail(
            source,
            where,
            f"unknown field(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )


def _parameter(name: str, raw: object, source: str) -> Parameter:
    """Check one `parameters:` entry."""
    where = f"parameters.{name}"
    if not _PARAM_RE.fullmatch(name) or name == "namespace":
        raise fail(
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
        raise fail(source, where, "a required parameter cannot have a default")
    if secret and default is not None:
        raise fail(source, where, "a secret parameter cannot have a default")
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
        raise fail(source, where, "must have exactly one of literal, param, generate")
    kind = kinds[0]

    if kind == "literal":
        text = _text(entry[kind], source, f"{where}.literal", numbers=True)
        return KeySource(key, kind, text, secret=False)

    if kind == "param":
        name = _text(entry[kind], source, f"{where}.param")
        if name not in parameters:
            known = ", ".join(parameters) or "none"
            raise fail(source, where, f"unknown parameter {name!r} (known: {known})")
        return KeySource(key, kind, name, secret=parameters[name].secret)

    spec = _text(entry[kind], source, f"{where}.generate")
    try:
        generator = parse_generator(spec)
    except ValidationError as error:
        raise fail(source, where, error.message) from None
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
        for name in placeholders(text, source, where):
            _check_reference(template, name, source, where)


def _check_reference(template: Template, name: str, source: str, where: str) -> None:
    """Refuse a placeholder that is unknown, secret, or may have no value."""
    if name == "namespace":
        return

    param = template.parameters.get(name)
    if param is None:
        known = ", ".join(["namespace", *template.parameters])
        raise fail(source, where, f"unknown placeholder {{{name}}} (known: {known})")

    if param.secret:
        raise fail(
            source,
            where,
            f"placeholder {{{name}}} would copy a secret parameter into plain text",
        )

    if not param.required and param.default is None:
        raise fail(
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
            raise fail(source, f"parameters.{name}.default", f"defaults loop: {loop}")
        param = template.parameters.get(name)
        if name in done or param is None or param.default is None:
            return
        for ref in placeholders(param.default, source, f"parameters.{name}.default"):
            visit(ref, (*path, name))
        done.add(name)

    for name in template.parameters:
        visit(name, ())


def _check_secret_name(template: Template, source: str) -> None:
    """Check the secret name now, with a stand-in for each placeholder."""
    names = placeholders(template.secret_name, source, "secret")
    trial = substitute(
        template.secret_name, dict.fromkeys(names, "x"), source, "secret"
    )
    check_name(trial, field=f"{source}: secret")
