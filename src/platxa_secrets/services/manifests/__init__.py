"""Import and export of Kubernetes Secret manifests.

`parse_manifests` reads what `kubectl apply -f` reads: YAML or JSON,
several documents, block or flow style (comments and trailing commas
included), and returns every Secret in it checked by the rules the API
server applies, so that nothing is stored that could not be deployed.
`render_manifest` writes the opposite way, and its output parses back
to exactly the same bytes.

How a manifest is read:

- `data` values are standard base64 with padding. Line breaks (CR, LF)
  inside a value are ignored, as Go's decoder and thus Kubernetes ignore
  them, so a value folded by `base64` without `-w0` is accepted; spaces,
  url-safe characters and padding in the middle are refused.
- `stringData` values are text stored as UTF-8 and override `data` for
  the same key, as the API server merges them.
- A value written as a Python bytes literal (`b'...'`), or one that
  decodes to one, is refused: it is what `str(some_bytes)` produces, and
  storing it would silently corrupt the secret.
- Numbers, booleans, nulls and nested values are refused where a string
  is expected, as kubectl refuses them. Unquoted timestamps stay text,
  as in Kubernetes' YAML reader. A key repeated in one mapping is
  refused rather than letting the last one win unseen.
- The namespace comes from the manifest, else from the `namespace`
  argument (kubectl's `-n`), else "default"; a manifest namespace that
  differs from the argument is an error, as in kubectl.
- Documents of another kind or apiVersion are returned as skipped, with
  the reason; a `v1` `List` is expanded into its items. A Secret field
  that does not exist (a typo such as `stringdata`) is an error, as
  under `kubectl --validate=strict`. `immutable` is accepted and not
  kept. Annotations are not imported: the one kubectl writes on
  client-side apply holds the whole Secret.

Every failure is a `ValidationError` naming the document
("secrets.yaml#2"), the field path ("data.password") and the rule, and
one failure fails the whole batch. No message quotes a value: YAML
syntax errors keep their reason and position but not the snippet, and
errors of third-party code are replaced, never chained: ours are raised
outside the handler, so not even `__context__` holds theirs.
"""

from __future__ import annotations

from platxa_secrets.services.manifests._model import (
    DEFAULT_NAMESPACE,
    ManifestBatch,
    SecretManifest,
    SkippedDocument,
)
from platxa_secrets.services.manifests._parse import parse_manifests
from platxa_secrets.services.manifests._render import render_manifest

__all__ = [
    "DEFAULT_NAMESPACE",
    "ManifestBatch",
    "SecretManifest",
    "SkippedDocument",
    "parse_manifests",
    "render_manifest",
]
