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

from platxa_secrets.services.templates._builtins import BUILTINS, get_template
from platxa_secrets.services.templates._loader import MAX_TEMPLATE_BYTES, load_template
from platxa_secrets.services.templates._model import (
    KeyKind,
    KeySource,
    Parameter,
    Rendered,
    Template,
)
from platxa_secrets.services.templates._render import render

__all__ = [
    "BUILTINS",
    "MAX_TEMPLATE_BYTES",
    "KeyKind",
    "KeySource",
    "Parameter",
    "Rendered",
    "Template",
    "get_template",
    "load_template",
    "render",
]
