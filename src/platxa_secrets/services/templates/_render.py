"""Rendering: a template, a namespace and parameters in, a secret out.

Parameters are checked against the template, defaults are resolved in
dependency order, and each key is filled from its literal, parameter
or generator. Generated keys of an existing secret are kept, which is
what makes re-running a provisioning safe.
"""

from __future__ import annotations

from collections.abc import Mapping

from platxa_secrets.core.names import check_name, check_namespace, check_size
from platxa_secrets.services.generator_spec import parse_generator
from platxa_secrets.services.templates._model import KeySource, Rendered, Template, fail
from platxa_secrets.services.templates._placeholders import placeholders, substitute


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

    secret_name = substitute(template.secret_name, values, source, "secret")
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


def _given(template: Template, params: Mapping[str, str]) -> dict[str, str]:
    """Check the parameters the caller gave against the template."""
    source = f"template {template.name}"
    unknown = sorted(set(params) - set(template.parameters))
    if unknown:
        known = ", ".join(template.parameters) or "none"
        raise fail(
            source,
            "parameters",
            f"unknown parameter(s) {', '.join(unknown)} (known: {known})",
        )

    for name, param in template.parameters.items():
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise fail(source, f"parameters.{name}", "must be text")
        if param.required and not value:
            raise fail(source, f"parameters.{name}", "is required and was not given")
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
            if set(placeholders(default, source, f"parameters.{name}.default"))
            <= set(values)
        }
        if not ready:
            names = ", ".join(pending)
            raise fail(source, "parameters", f"defaults of {names} cannot be resolved")

        for name, default in ready.items():
            where = f"parameters.{name}.default"
            values[name] = substitute(default, values, source, where)
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
    return substitute(key_source.value, values, source, where).encode()
