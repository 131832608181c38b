"""Instance templates: loading, checking and rendering whole secrets."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from platxa_secrets.errors import ValidationError
from platxa_secrets.services.templates import (
    BUILTINS,
    KeySource,
    Parameter,
    Rendered,
    Template,
    get_template,
    load_template,
    render,
)

CANARY = "canary-7f3a9c-do-not-leak"

FULL = """
name: shop
secret: "{app}-{namespace}"
type: kubernetes.io/basic-auth
description: A shop backend.
parameters:
  app:
    default: shop
  host:
    required: true
    description: Database host.
  url:
    default: "postgres://{host}/{db}"
  db:
    default: "{namespace}_db"
  smtp_password:
    secret: true
    required: false
  api_key:
    secret: true
keys:
  HOST: {param: host}
  URL: {param: url}
  PORT: {literal: 5432}
  LABEL: {literal: "{app} in {namespace} {{braced}}"}
  SMTP_PASSWORD: {param: smtp_password}
  API_KEY: {param: api_key}
  TOKEN: {generate: "hex( bytes=16 )"}
"""


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> Path:
    """Write a template file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def minimal(extra: str = "", keys: str = "  A: {literal: a}\n") -> str:
    """A valid template document with room for one broken part."""
    return f"name: t\n{extra}keys:\n{keys}"


@pytest.fixture
def odoo() -> Template:
    """The built-in Odoo template."""
    return get_template("odoo")


# --- the built-in odoo template -----------------------------------------


def test_odoo_template_shape(odoo: Template) -> None:
    assert odoo.secret_name == "odoo"
    assert odoo.type == "Opaque"
    assert list(odoo.keys) == [
        "DB_HOST",
        "DB_NAME",
        "DB_USER",
        "DB_PASSWORD",
        "ADMIN_PASSWORD",
    ]
    assert odoo.parameters["db_host"].required
    assert odoo.parameters["db_name"].default == "{namespace}"
    assert odoo.parameters["db_user"].default == "odoo"
    assert odoo.keys["DB_PASSWORD"] == KeySource(
        "DB_PASSWORD", "generate", "password(length=32)", True
    )
    assert not odoo.keys["DB_HOST"].secret
    assert odoo.secret_parameters == {}


def test_odoo_renders_every_key(odoo: Template) -> None:
    rendered = render(odoo, "tenant-acme", {"db_host": "pg.internal"})

    assert rendered.secret_name == "odoo"
    assert rendered.type == "Opaque"
    assert rendered.data["DB_HOST"] == b"pg.internal"
    assert rendered.data["DB_NAME"] == b"tenant-acme"
    assert rendered.data["DB_USER"] == b"odoo"
    assert len(rendered.data["DB_PASSWORD"]) == 32
    assert len(rendered.data["ADMIN_PASSWORD"]) == 24
    assert rendered.generated == ["DB_PASSWORD", "ADMIN_PASSWORD"]
    assert rendered.kept == []


def test_odoo_passwords_cover_every_class(odoo: Template) -> None:
    for _ in range(50):
        password = render(odoo, "t", {"db_host": "h"}).data["ADMIN_PASSWORD"].decode()

        assert set(password) & set(string.ascii_lowercase)
        assert set(password) & set(string.ascii_uppercase)
        assert set(password) & set(string.digits)
        assert set(password) - set(string.ascii_letters + string.digits)


def test_odoo_defaults_can_be_overridden(odoo: Template) -> None:
    rendered = render(
        odoo, "tenant-acme", {"db_host": "h", "db_name": "x", "db_user": "u"}
    )

    assert rendered.data["DB_NAME"] == b"x"
    assert rendered.data["DB_USER"] == b"u"


def test_each_render_generates_new_passwords(odoo: Template) -> None:
    first = render(odoo, "t", {"db_host": "h"})
    second = render(odoo, "t", {"db_host": "h"})

    assert first.data["DB_PASSWORD"] != second.data["DB_PASSWORD"]


def test_re_render_keeps_generated_values(odoo: Template) -> None:
    first = render(odoo, "tenant-acme", {"db_host": "old-host"})

    second = render(odoo, "tenant-acme", {"db_host": "new-host"}, existing=first.data)

    assert second.data["DB_PASSWORD"] == first.data["DB_PASSWORD"]
    assert second.data["ADMIN_PASSWORD"] == first.data["ADMIN_PASSWORD"]
    assert second.data["DB_HOST"] == b"new-host"
    assert second.kept == ["DB_PASSWORD", "ADMIN_PASSWORD"]
    assert second.generated == []


def test_re_render_fills_generated_keys_that_are_missing_or_empty(
    odoo: Template,
) -> None:
    existing = {"DB_PASSWORD": b"kept-value", "ADMIN_PASSWORD": b"", "OLD": b"x"}

    rendered = render(odoo, "t", {"db_host": "h"}, existing=existing)

    assert rendered.data["DB_PASSWORD"] == b"kept-value"
    assert len(rendered.data["ADMIN_PASSWORD"]) == 24
    assert rendered.kept == ["DB_PASSWORD"]
    assert rendered.generated == ["ADMIN_PASSWORD"]
    assert "OLD" not in rendered.data


def test_re_render_recomputes_non_generated_keys(odoo: Template) -> None:
    existing = {"DB_HOST": b"stale", "DB_USER": b"stale"}

    rendered = render(odoo, "t", {"db_host": "fresh"}, existing=existing)

    assert rendered.data["DB_HOST"] == b"fresh"
    assert rendered.data["DB_USER"] == b"odoo"


def test_missing_required_parameter_is_named(odoo: Template) -> None:
    with pytest.raises(
        ValidationError, match=r"parameters\.db_host: is required"
    ) as info:
        render(odoo, "t", {})

    assert info.value.context["field"] == "parameters.db_host"


def test_empty_required_parameter_is_refused(odoo: Template) -> None:
    with pytest.raises(ValidationError, match="db_host: is required"):
        render(odoo, "t", {"db_host": ""})


def test_unknown_parameter_lists_known_ones(odoo: Template) -> None:
    with pytest.raises(ValidationError) as info:
        render(odoo, "t", {"db_host": "h", "db_pass": CANARY})

    assert "unknown parameter(s) db_pass (known: db_host, db_name, db_user)" in str(
        info.value
    )
    assert CANARY not in str(info.value)


def test_invalid_namespace_is_refused(odoo: Template) -> None:
    with pytest.raises(ValidationError, match="RFC 1123 label"):
        render(odoo, "Tenant_Acme", {"db_host": "h"})


def test_rendered_repr_shows_no_value(odoo: Template) -> None:
    params = {"db_host": CANARY, "db_name": f"{CANARY}-n", "db_user": f"{CANARY}-u"}
    rendered = render(odoo, "t", params)

    shown = repr(rendered) + str(rendered)
    assert "DB_PASSWORD" in shown
    for value in rendered.data.values():
        assert value.decode() not in shown


# --- lookup --------------------------------------------------------------


def test_get_template_finds_builtins_and_files(tmp_path: Path) -> None:
    path = write(tmp_path, minimal())

    assert get_template("odoo") is BUILTINS["odoo"]
    assert get_template(str(path)).name == "t"


def test_get_template_unknown_lists_builtins(tmp_path: Path) -> None:
    with pytest.raises(
        ValidationError, match=r"neither a built-in \(odoo\) nor a file"
    ):
        get_template(str(tmp_path / "absent.yaml"))

    with pytest.raises(ValidationError, match="odoo"):
        get_template("wordpress")


# --- loading files -------------------------------------------------------


def test_full_file_loads(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))

    assert template.name == "shop"
    assert template.type == "kubernetes.io/basic-auth"
    assert template.description == "A shop backend."
    assert template.parameters["host"] == Parameter(
        "host", None, True, False, "Database host."
    )
    assert template.parameters["smtp_password"].required is False
    assert template.keys["PORT"] == KeySource("PORT", "literal", "5432", False)
    assert template.keys["TOKEN"].value == "hex(bytes=16)"
    assert template.keys["API_KEY"].secret
    assert not template.keys["URL"].secret
    assert set(template.secret_parameters) == {"smtp_password", "api_key"}


def test_placeholders_fill_defaults_literals_and_secret_name(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))

    rendered = render(template, "acme", {"host": "db.local", "api_key": CANARY})

    assert rendered.secret_name == "shop-acme"
    assert rendered.data["URL"] == b"postgres://db.local/acme_db"
    assert rendered.data["LABEL"] == b"shop in acme {braced}"
    assert rendered.data["PORT"] == b"5432"
    assert rendered.data["API_KEY"] == CANARY.encode()
    assert len(bytes.fromhex(rendered.data["TOKEN"].decode())) == 16


def test_unset_optional_parameter_leaves_its_key_out(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))

    without = render(template, "acme", {"host": "h", "api_key": "k"})
    with_it = render(
        template, "acme", {"host": "h", "api_key": "k", "smtp_password": "s"}
    )

    assert "SMTP_PASSWORD" not in without.data
    assert with_it.data["SMTP_PASSWORD"] == b"s"


def test_given_values_are_not_substituted(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))

    rendered = render(
        template, "acme", {"host": "{namespace}", "api_key": "p{a}{{", "app": "b"}
    )

    assert rendered.data["HOST"] == b"{namespace}"
    assert rendered.data["URL"] == b"postgres://{namespace}/acme_db"
    assert rendered.data["API_KEY"] == b"p{a}{{"
    assert rendered.secret_name == "b-acme"


def test_secret_name_is_checked_after_substitution(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))

    with pytest.raises(ValidationError, match="secret name 'Bad_App-acme'"):
        render(template, "acme", {"host": "h", "api_key": "k", "app": "Bad_App"})


def test_render_size_error_shows_no_value(tmp_path: Path) -> None:
    template = load_template(write(tmp_path, FULL))
    huge = "x" * (1024 * 1024)

    with pytest.raises(ValidationError, match="1 MiB") as info:
        render(
            template,
            "acme",
            {"host": huge, "api_key": CANARY},
            existing={"TOKEN": CANARY.encode()},
        )

    assert CANARY not in str(info.value)
    assert "x" * 100 not in str(info.value)
    assert CANARY not in repr(info.value.context)


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ("- a\n- b\n", "document", "must be a mapping"),
        ("", "document", "is empty"),
        ("# only a comment\n", "document", "is empty"),
        (minimal("colour: red\n"), "document", "unknown field(s) colour; allowed:"),
        ("keys:\n  A: {literal: a}\n", "name", "is required"),
        ("name: Bad_Name\nkeys:\n  A: {literal: a}\n", "name", "RFC 1123 subdomain"),
        ("name: [t]\nkeys:\n  A: {literal: a}\n", "name", "must be text"),
        (minimal("type: 'a b'\n"), "type", "may contain only"),
        (minimal("description: 3\n"), "description", "must be text"),
        (minimal("secret: Bad_Name\n"), "secret", "RFC 1123 subdomain"),
        (minimal("secret: 'x-{namespace'\n"), "secret", "a brace must open"),
        ("name: t\n", "keys", "must name at least one key"),
        ("name: t\nkeys: {}\n", "keys", "must name at least one key"),
        ("name: t\nkeys: [A]\n", "keys", "must be a mapping"),
        (minimal(keys="  bad key: {literal: a}\n"), "keys.bad key", "must consist of"),
        (minimal(keys="  A: a\n"), "keys.A", "must be a mapping"),
        (minimal(keys="  A: {}\n"), "keys.A", "exactly one of literal, param"),
        (minimal(keys="  A: {value: a}\n"), "keys.A", "exactly one of literal, param"),
        (
            minimal(keys="  A: {literal: a, generate: 'hex()'}\n"),
            "keys.A",
            "exactly one of literal, param",
        ),
        (minimal(keys="  A: {literal: yes}\n"), "keys.A.literal", "text or an integer"),
        (
            minimal(keys="  A: {param: p}\n"),
            "keys.A",
            "unknown parameter 'p' (known: none)",
        ),
        (
            minimal(keys="  A: {generate: 'password(length=0)'}\n"),
            "keys.A",
            "generator 'password(length=0)': password length must be 1 to 4096",
        ),
        (
            minimal(keys="  A: {generate: 'md5()'}\n"),
            "keys.A",
            "unknown generator 'md5'",
        ),
        (
            minimal(keys="  A: {literal: '{nope}'}\n"),
            "keys.A",
            "unknown placeholder {nope} (known: namespace)",
        ),
        (minimal(keys="  A: {literal: 'a}b'}\n"), "keys.A", "a brace must open"),
        (minimal("parameters: [p]\n"), "parameters", "must be a mapping"),
        (minimal("parameters:\n  1p: {}\n"), "parameters.1p", "a parameter name is"),
        (minimal("parameters:\n  namespace: {}\n"), "parameters.namespace", "reserved"),
        (
            minimal("parameters:\n  p: {colour: 1}\n"),
            "parameters.p",
            "unknown field(s)",
        ),
        (
            minimal("parameters:\n  p: {required: 'no'}\n"),
            "parameters.p.required",
            "true or false",
        ),
        (
            minimal("parameters:\n  p: {secret: 1}\n"),
            "parameters.p.secret",
            "true or false",
        ),
        (
            minimal("parameters:\n  p: {default: x, required: true}\n"),
            "parameters.p",
            "a required parameter cannot have a default",
        ),
        (
            minimal("parameters:\n  p: {default: x, secret: true, required: false}\n"),
            "parameters.p",
            "a secret parameter cannot have a default",
        ),
        (
            minimal("parameters:\n  p: {default: [x]}\n"),
            "parameters.p.default",
            "must be text",
        ),
        (
            minimal("parameters:\n  s: {secret: true}\n  p: {default: 'x{s}'}\n"),
            "parameters.p.default",
            "would copy a secret parameter into plain text",
        ),
        (
            minimal("secret: '{s}'\nparameters:\n  s: {secret: true}\n"),
            "secret",
            "would copy a secret parameter",
        ),
        (
            minimal("parameters:\n  o: {required: false}\n", "  A: {literal: '{o}'}\n"),
            "keys.A",
            "refers to an optional parameter without a default",
        ),
        (
            minimal("parameters:\n  a: {default: '{b}'}\n  b: {default: '{a}'}\n"),
            "parameters.a.default",
            "defaults loop: a -> b -> a",
        ),
        (
            minimal("parameters:\n  a: {default: 'x{a}'}\n"),
            "parameters.a.default",
            "defaults loop: a -> a",
        ),
    ],
)
def test_bad_file_names_file_field_and_rule(
    tmp_path: Path, document: str, field: str, rule: str
) -> None:
    path = write(tmp_path, document)

    with pytest.raises(ValidationError) as info:
        load_template(path)

    message = str(info.value)
    assert str(path) in message
    assert f": {field}" in message
    assert rule in message


def test_yaml_error_reports_position_but_no_snippet(tmp_path: Path) -> None:
    path = write(tmp_path, f'name: t\nkeys:\n  A: {{literal: "{CANARY}\n  B: [\n')

    with pytest.raises(ValidationError, match="not valid YAML") as info:
        load_template(path)

    message = str(info.value)
    assert "line " in message
    assert "column " in message
    assert CANARY not in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_yaml_error_position_is_one_based(tmp_path: Path) -> None:
    path = write(tmp_path, "name: t\nkeys:\n\tA: {literal: a}\n")

    with pytest.raises(ValidationError) as info:
        load_template(path)

    assert "at line 3, column 1" in str(info.value)


def test_unreadable_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read") as info:
        load_template(tmp_path / "absent.yaml")

    assert info.value.__cause__ is None


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"name: t\nkeys:\n  A: {literal: \xff\xfe}\n")

    with pytest.raises(ValidationError, match="is not UTF-8 text"):
        load_template(path)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, minimal() + "#" * (1024 * 1024))

    with pytest.raises(ValidationError, match="larger than 1048576 bytes"):
        load_template(path)


def test_python_tags_are_not_constructed(tmp_path: Path) -> None:
    path = write(tmp_path, "name: !!python/object/apply:os.getpid []\nkeys: {}\n")

    with pytest.raises(ValidationError, match="not valid YAML"):
        load_template(path)


def test_placeholder_errors_in_a_hand_built_template_show_at_render() -> None:
    template = Template(
        name="hand",
        secret_name="s-{missing}",
        type="Opaque",
        description="",
        parameters={},
        keys={"A": KeySource("A", "literal", "a", False)},
    )

    with pytest.raises(ValidationError, match=r"placeholder \{missing\} has no value"):
        render(template, "t", {})


def test_rendered_is_a_plain_record() -> None:
    rendered = Rendered("s", "Opaque", {"A": CANARY.encode()}, ["A"], [])

    assert CANARY not in repr(rendered)
    assert rendered.data["A"] == CANARY.encode()
