"""The templates that ship with Platxa Secrets, and lookup by name or path.

Built-ins are written in the same YAML as user files and go through
the same loader when this module is imported, so a broken built-in
fails at start-up rather than when an operator first asks for it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from platxa_secrets.errors import ValidationError
from platxa_secrets.services.templates._loader import load_template, parse_template
from platxa_secrets.services.templates._model import Template

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
    "odoo": parse_template(yaml.safe_load(_ODOO), "built-in template 'odoo'"),
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
