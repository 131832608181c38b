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

import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from yaml.constructor import ConstructorError
from yaml.reader import ReaderError

from platxa_secrets.core.names import (
    check_key,
    check_name,
    check_namespace,
    check_size,
    check_type,
)
from platxa_secrets.core.secret_types import SECRET_TYPE_OPAQUE, check_type_rules
from platxa_secrets.errors import ValidationError

DEFAULT_NAMESPACE = "default"

_SECRET_FIELDS = frozenset(
    {"apiVersion", "kind", "metadata", "type", "data", "stringData", "immutable"}
)
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/=]*")
_BYTES_LITERAL = re.compile(r"""\s*b(['"]).*\1\s*""", re.DOTALL)
_BYTES_LITERAL_RAW = re.compile(rb"""\s*b(['"]).*\1\s*""", re.DOTALL)
_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_GRAMMAR_WORD = re.compile(r"""['"](<[a-z ]+>|[-?:,\[\]{}#&*!|>%@`'"])['"]""")
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PLAIN_SCALAR = re.compile(r"[A-Za-z][-A-Za-z0-9_./]*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True, slots=True)
class SecretManifest:
    """One Secret read from a manifest, checked and decoded."""

    namespace: str
    name: str
    type: str
    data: dict[str, bytes]
    labels: dict[str, str]
    source: str

    def __repr__(self) -> str:
        """Show where the secret is and which keys it has, never a value."""
        return (
            f"SecretManifest(namespace={self.namespace!r}, name={self.name!r}, "
            f"type={self.type!r}, keys={sorted(self.data)!r}, "
            f"labels={self.labels!r}, source={self.source!r})"
        )


@dataclass(frozen=True, slots=True)
class SkippedDocument:
    """A document that is not a v1 Secret, and why it was left out."""

    source: str
    api_version: str
    kind: str
    name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ManifestBatch:
    """The Secrets of one input, in order, and the documents skipped."""

    secrets: list[SecretManifest]
    skipped: list[SkippedDocument]


def parse_manifests(
    content: bytes | str, source: str, namespace: str | None = None
) -> ManifestBatch:
    """Read every Secret of a YAML or JSON input, or raise for all.

    `source` names the input in messages and in `SecretManifest.source`
    (a file name, "-" for stdin); `namespace` is kubectl's `-n`. Any
    invalid document raises `ValidationError` and nothing is returned,
    so a caller that writes the batch writes all of it or none.
    """
    if namespace is not None:
        check_namespace(namespace, field="namespace option")

    batch = ManifestBatch(secrets=[], skipped=[])
    for document_source, document in _load(content, source):
        _collect(document, document_source, namespace, batch)

    _refuse_duplicates(batch.secrets)
    return batch


def render_manifest(
    namespace: str,
    name: str,
    secret_type: str,
    data: Mapping[str, bytes],
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    fmt: Literal["yaml", "json"] = "yaml",
) -> str:
    """Write one Secret as a manifest that `parse_manifests` reads back.

    Keys are sorted and every value is base64, so equal secrets render
    to equal text. The secret is checked as on import; a manifest the
    API server would refuse is never written. The output holds every
    value (base64 is not encryption): it belongs on stdout or in a
    private file, never in a log.
    """
    check_namespace(namespace)
    check_name(name)
    check_type(secret_type)
    values = _checked_values(data)
    target = f"{namespace}/{name}"
    check_type_rules(secret_type, values, target)
    check_size(values, target)

    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = _checked_labels(labels, "labels")
    if annotations:
        metadata["annotations"] = _checked_annotations(annotations)

    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret_type,
        "data": {key: _b64(values[key]) for key in sorted(values)},
    }
    return _dump(document, fmt)


# --- reading -----------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses repeated keys and aliases, keeps timestamps text.

    PyYAML lets the last of two equal keys win; kubectl refuses them.
    PyYAML turns an unquoted timestamp into a datetime; Kubernetes keeps
    the text, which is what a `stringData` value needs.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Refuse aliases: nested ones expand exponentially ("billion laughs").

        Kubernetes manifests have no need for them, and a few hundred bytes
        of aliases can otherwise ask for gigabytes.
        """
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "found an alias; YAML aliases are not accepted in manifests",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Any, Any]:
        """Raise on a key written twice in one mapping (merges excepted)."""
        seen: set[tuple[str, str]] = set()
        for key_node, _value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            identity = (key_node.tag, key_node.value)
            if identity in seen:
                raise ConstructorError(
                    None, None, "found a duplicate mapping key", key_node.start_mark
                )
            seen.add(identity)

        return super().construct_mapping(node, deep=deep)


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    """Keep an unquoted timestamp as the text it was written as."""
    if not isinstance(node, yaml.ScalarNode):
        raise ConstructorError(
            None, None, "a timestamp must be a scalar", node.start_mark
        )
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _load(content: bytes | str, source: str) -> list[tuple[str, object]]:
    """Parse every document, naming each "source#N" (1-based).

    Empty documents keep their number but are dropped, so the numbers
    match what a reader counts in the file. Parser errors keep their
    reason and position only, since the surrounding text holds values;
    ours is raised after the handler has ended, so PyYAML's error is not
    even its `__context__`.
    """
    documents: list[tuple[str, object]] = []
    number = 1
    failure: ValidationError | None = None
    try:
        for document in yaml.load_all(content, Loader=_Loader):
            if document is not None:
                documents.append((f"{source}#{number}", document))
            number += 1
    except yaml.MarkedYAMLError as exc:
        failure = _syntax_error(f"{source}#{number}", exc)
    except ReaderError as exc:
        failure = ValidationError(
            f"{source}: unreadable input at position {exc.position}: {exc.reason}",
            source=source,
        )
    except RecursionError:
        failure = ValidationError(
            f"{source}#{number}: the YAML is nested too deeply", source=source
        )
    except (yaml.YAMLError, ValueError):
        failure = ValidationError(
            f"{source}#{number}: the YAML cannot be read", source=source
        )

    if failure is not None:
        raise failure
    return documents


def _syntax_error(source: str, exc: yaml.MarkedYAMLError) -> ValidationError:
    """Turn a PyYAML error into a message with no quoted input in it."""
    mark = exc.problem_mark or exc.context_mark
    problem = _redact(exc.problem or exc.context or "malformed document")
    if mark is None:
        return ValidationError(f"{source}: invalid YAML: {problem}", source=source)

    line, column = mark.line + 1, mark.column + 1
    return ValidationError(
        f"{source}: invalid YAML at line {line}, column {column}: {problem}",
        source=source,
        line=line,
        column=column,
    )


def _redact(problem: str) -> str:
    """Replace quoted input in a PyYAML reason, keeping grammar words.

    PyYAML quotes the character or tag it stumbled on, which may be part
    of a value; token names such as '<scalar>' and single indicators
    such as ':' say what was expected and are kept.
    """

    def replace(match: re.Match[str]) -> str:
        if _GRAMMAR_WORD.fullmatch(match.group()):
            return match.group()
        return "'…'"

    return _QUOTED.sub(replace, problem)


def _collect(
    document: object, source: str, namespace: str | None, batch: ManifestBatch
) -> None:
    """Add a document to the batch as a Secret, a skip, or List items."""
    obj = _mapping(document, source, "document")
    api_version = _required_text(obj, "apiVersion", source)
    kind = _required_text(obj, "kind", source)

    if api_version == "v1" and kind == "List":
        items = obj.get("items")
        items = [] if items is None else items
        if not isinstance(items, list):
            raise _fail(source, "items", f"must be a list, got {_kind_of(items)}")
        for index, item in enumerate(items):
            _collect(item, f"{source}.items[{index}]", namespace, batch)
        return

    if api_version != "v1" or kind != "Secret":
        reason = f"{_shown(kind)} of {_shown(api_version)} is not a v1 Secret"
        skipped = SkippedDocument(source, api_version, kind, _peek_name(obj), reason)
        batch.skipped.append(skipped)
        return

    batch.secrets.append(_secret(obj, source, namespace))


def _secret(
    obj: dict[Any, Any], source: str, option_namespace: str | None
) -> SecretManifest:
    """Check and decode one Secret document, in the API server's order."""
    for field in obj:
        if field not in _SECRET_FIELDS:
            raise _fail(source, _shown(field), "is not a field of a v1 Secret")

    metadata = _mapping(obj.get("metadata"), source, "metadata")
    name = _metadata_name(metadata, source)
    namespace = _metadata_namespace(metadata, source, option_namespace)
    labels = _labels(metadata.get("labels"), source)
    secret_type = _secret_type(obj.get("type"), source)

    data = _data(obj.get("data"), source)
    data.update(_string_data(obj.get("stringData"), source))

    _check_content(secret_type, data, f"{namespace}/{name}", source)
    return SecretManifest(namespace, name, secret_type, data, labels, source)


def _metadata_name(metadata: dict[Any, Any], source: str) -> str:
    """Read metadata.name; generateName cannot name a stored secret."""
    name = metadata.get("name")
    if name is None or name == "":
        hint = " (generateName is not supported)" if "generateName" in metadata else ""
        raise _fail(source, "metadata.name", f"is required{hint}")

    if not isinstance(name, str):
        raise _fail(source, "metadata.name", f"must be a string, got {_kind_of(name)}")

    with _Located(source):
        return check_name(name, field="metadata.name")


def _metadata_namespace(
    metadata: dict[Any, Any], source: str, option: str | None
) -> str:
    """Resolve the namespace as kubectl does: manifest, then -n, then default."""
    namespace = metadata.get("namespace")
    if namespace is None or namespace == "":
        return option or DEFAULT_NAMESPACE

    if not isinstance(namespace, str):
        kind = _kind_of(namespace)
        raise _fail(source, "metadata.namespace", f"must be a string, got {kind}")

    with _Located(source):
        check_namespace(namespace, field="metadata.namespace")

    if option is not None and option != namespace:
        raise _fail(
            source,
            "metadata.namespace",
            f"is {namespace!r} but the namespace option is {option!r}; kubectl "
            "refuses such a conflict too: drop one or make them agree",
        )
    return namespace


def _secret_type(value: object, source: str) -> str:
    """Read `type`; absent or empty means Opaque, as in Kubernetes."""
    if value is None or value == "":
        return SECRET_TYPE_OPAQUE

    if not isinstance(value, str):
        raise _fail(source, "type", f"must be a string, got {_kind_of(value)}")

    with _Located(source):
        return check_type(value, field="type")


def _data(section: object, source: str) -> dict[str, bytes]:
    """Decode `data`: each value standard base64, refused with a reason."""
    data: dict[str, bytes] = {}
    for key, value in _entries(section, source, "data").items():
        path = _path("data", key)
        if not isinstance(value, str):
            kind = _kind_of(value)
            raise _fail(source, path, f"must be a base64 string, got {kind}")

        if _BYTES_LITERAL.fullmatch(value):
            raise _bytes_literal(source, path)

        decoded = _b64decode(value, source, path)
        if _BYTES_LITERAL_RAW.fullmatch(decoded):
            raise _bytes_literal(source, path, decoded=True)

        data[key] = decoded
    return data


def _string_data(section: object, source: str) -> dict[str, bytes]:
    """Encode `stringData`: each value text, stored as UTF-8."""
    data: dict[str, bytes] = {}
    for key, value in _entries(section, source, "stringData").items():
        path = _path("stringData", key)
        if not isinstance(value, str):
            kind = _kind_of(value)
            raise _fail(source, path, f"must be a string, got {kind} (quote it)")

        if _BYTES_LITERAL.fullmatch(value):
            raise _bytes_literal(source, path)

        encoded = _utf8(value)
        if encoded is None:
            raise _fail(source, path, "holds a lone surrogate, not text")

        data[key] = encoded
    return data


def _utf8(value: str) -> bytes | None:
    """Encode text as UTF-8, or None for a lone surrogate.

    None rather than an exception: the codec error holds the whole
    value (`.object`), and must not become the context of ours.
    """
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _entries(section: object, source: str, field: str) -> dict[str, object]:
    """Return a `data`-like mapping with every key checked."""
    if section is None:
        return {}

    entries = _mapping(section, source, field)
    for key in entries:
        if not isinstance(key, str):
            kind = _kind_of(key)
            raise _fail(source, field, f"has a key that is {kind}, not a string")
        with _Located(source):
            check_key(key, field=f"{field} key")
    return entries


def _b64decode(value: str, source: str, path: str) -> bytes:
    """Decode standard base64 strictly, ignoring CR and LF like Go does."""
    text = value.replace("\r", "").replace("\n", "")
    if not text.isascii() or not _BASE64_CHARS.fullmatch(text):
        raise _fail(
            source,
            path,
            "is not standard base64: only A-Z, a-z, 0-9, '+', '/' and the "
            "'=' padding are allowed (no spaces, no url-safe '-' or '_')",
        )

    if len(text) % 4:
        raise _fail(
            source,
            path,
            f"is not standard base64: {len(text)} characters is not a multiple "
            "of 4 (is the '=' padding missing?)",
        )

    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        pass

    # Raised outside the handler, so binascii's error is not its context.
    raise _fail(source, path, "is not standard base64: the '=' padding is misplaced")


def _labels(section: object, source: str) -> dict[str, str]:
    """Read metadata.labels: Kubernetes label keys and values, all text."""
    if section is None:
        return {}

    labels = _mapping(section, source, "metadata.labels")
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise _fail(
                source,
                "metadata.labels",
                "keys and values must be strings (quote them)",
            )
    return _checked_labels(labels, "metadata.labels", source)


def _check_content(
    secret_type: str, data: dict[str, bytes], target: str, source: str
) -> None:
    """Apply the typed-Secret rules and the 1 MiB limit, naming the source."""
    try:
        check_type_rules(secret_type, data, target)
    except ValidationError as exc:
        key = exc.context.get("key")
        path = _path("data", key) if isinstance(key, str) else "type"
        raise _relocated(exc, source, path) from None

    try:
        check_size(data, target)
    except ValidationError as exc:
        raise _relocated(exc, source, "data") from None


def _refuse_duplicates(secrets: list[SecretManifest]) -> None:
    """Refuse a batch that defines one secret twice; which would win?"""
    first: dict[tuple[str, str], str] = {}
    for secret in secrets:
        identity = (secret.namespace, secret.name)
        if identity in first:
            raise _fail(
                secret.source,
                "metadata.name",
                f"secret {secret.namespace}/{secret.name} is already defined by "
                f"{first[identity]}; a batch may define each secret once",
            )
        first[identity] = secret.source


def _peek_name(obj: dict[Any, Any]) -> str | None:
    """Return a skipped document's metadata.name when it is plain text."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


# --- writing -----------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """A dumper that quotes every string another YAML reader could retype.

    Kubernetes reads YAML 1.1 through Go, where `y`, `n` or `on` are
    booleans and digits are numbers; PyYAML quotes fewer words. So only
    plain words are left bare and everything else is double-quoted.
    """

    def represent_str(self, data: str) -> yaml.ScalarNode:
        """Leave plain words bare, double-quote everything else."""
        if _PLAIN_SCALAR.fullmatch(data) and data.lower() not in _YAML_WORDS:
            return self.represent_scalar("tag:yaml.org,2002:str", data)
        return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')


_Dumper.add_representer(str, _Dumper.represent_str)


def _dump(document: dict[str, Any], fmt: str) -> str:
    """Serialise the document in the asked format, one trailing newline."""
    if fmt == "json":
        return json.dumps(document, indent=2) + "\n"

    if fmt == "yaml":
        return yaml.dump(
            document,
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=float("inf"),
        )

    raise ValidationError(f"format {fmt!r} is not 'yaml' or 'json'", field="fmt")


def _checked_values(data: Mapping[str, bytes]) -> dict[str, bytes]:
    """Check each key and that each value is bytes, not text."""
    values: dict[str, bytes] = {}
    for key, value in data.items():
        check_key(key, field="data key")
        if not isinstance(value, bytes | bytearray):
            raise ValidationError(
                f"data[{key}] must be bytes, got {type(value).__name__}",
                field="data",
                key=key,
            )
        values[key] = bytes(value)
    return values


def _checked_annotations(annotations: Mapping[str, str]) -> dict[str, str]:
    """Check annotation keys; refuse the one that would hold plaintext."""
    if _LAST_APPLIED in annotations:
        raise ValidationError(
            f"annotation {_LAST_APPLIED} would hold the Secret's data in plain "
            "text; it is never written",
            field="annotations",
        )

    for key, value in annotations.items():
        _check_qualified_name(key, "annotations")
        if not isinstance(value, str):
            raise ValidationError(
                f"annotations[{key}] must be a string", field="annotations"
            )
    return {key: annotations[key] for key in sorted(annotations)}


def _checked_labels(
    labels: Mapping[str, str], field: str, source: str | None = None
) -> dict[str, str]:
    """Check Kubernetes label syntax and return the labels sorted by key."""
    with _Located(source):
        for key, value in labels.items():
            _check_qualified_name(key, field)
            if len(value) > 63 or (value and not _LABEL_NAME.fullmatch(value)):
                raise ValidationError(
                    f"{field}[{key}] value {_shown(value)} must be at most 63 "
                    "letters, digits, '-', '_' or '.', starting and ending "
                    "with a letter or digit",
                    field=field,
                )
    return {key: labels[key] for key in sorted(labels)}


def _check_qualified_name(key: str, field: str) -> None:
    """Check a label or annotation key: [DNS subdomain '/'] name (≤ 63)."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        check_name(prefix, field=f"{field} key prefix")

    if len(name) > 63 or not _LABEL_NAME.fullmatch(name):
        raise ValidationError(
            f"{field} key {_shown(key)} must be a name of at most 63 letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or "
            "digit, optionally after a DNS subdomain and '/'",
            field=field,
        )


def _b64(value: bytes) -> str:
    """Encode one value as standard base64 on a single line."""
    return binascii.b2a_base64(value, newline=False).decode("ascii")


# --- errors ------------------------------------------------------------------


class _Located:
    """Prefix the source document to a ValidationError raised inside.

    The name checks of `core.names` know the field but not the file; the
    re-raised error carries both and drops the original (`from None`).
    """

    def __init__(self, source: str | None) -> None:
        self.source = source

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if self.source is not None and isinstance(exc, ValidationError):
            raise _relocated(exc, self.source, None) from None


def _relocated(exc: ValidationError, source: str, path: str | None) -> ValidationError:
    """Copy a ValidationError with the source (and path) in front."""
    where = f"{source}: " if path is None else f"{source}: {path}: "
    context = {**exc.context, "source": source}
    if path is not None:
        context["field"] = path
    return ValidationError(where + exc.message, **context)


def _fail(source: str, path: str, rule: str) -> ValidationError:
    """Build the error for a broken rule at a field of a document."""
    return ValidationError(f"{source}: {path} {rule}", source=source, field=path)


def _bytes_literal(source: str, path: str, *, decoded: bool = False) -> ValidationError:
    """Build the error for a value that is the text of a Python bytes object."""
    shape = "decodes to" if decoded else "is written as"
    return _fail(
        source,
        path,
        f"{shape} a Python bytes literal (b'...'): str() of a bytes object "
        "was probably written instead of the value itself",
    )


def _mapping(value: object, source: str, path: str) -> dict[Any, Any]:
    """Return `value` if it is a mapping, else raise naming its kind."""
    if not isinstance(value, dict):
        raise _fail(source, path, f"must be a mapping, got {_kind_of(value)}")
    return value


def _required_text(obj: dict[Any, Any], field: str, source: str) -> str:
    """Return a required string field of a Kubernetes object."""
    value = obj.get(field)
    if value is None or value == "":
        raise _fail(
            source, field, "is required: the document is not a Kubernetes object"
        )

    if not isinstance(value, str):
        raise _fail(source, field, f"must be a string, got {_kind_of(value)}")
    return value


def _path(section: str, key: str) -> str:
    """Name a key of a section: data.password, or data[tls.crt] when dotted."""
    if _SIMPLE_KEY.fullmatch(key):
        return f"{section}.{key}"
    return f"{section}[{key}]"


def _kind_of(value: object) -> str:
    """Say what YAML made of a value, without showing the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, bytes):
        return "binary data (!!binary)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _shown(text: object) -> str:
    """Quote a name for a message, cut short if it may be a pasted value."""
    shown = str(text)
    return repr(shown) if len(shown) <= 64 else repr(shown[:24] + "…")
