"""Manifest text in and out: a hardened YAML loader and a careful dumper.

JSON is read as the YAML it is. The loader refuses aliases and repeated
keys and keeps timestamps as text; its errors keep PyYAML's reason and
position but never the quoted input. The dumper quotes every string
that another YAML reader, Kubernetes' among them, could read as a
boolean, number or null.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.reader import ReaderError

from platxa_secrets.errors import ValidationError

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_GRAMMAR_WORD = re.compile(r"""['"](<[a-z ]+>|[-?:,\[\]{}#&*!|>%@`'"])['"]""")
_PLAIN_SCALAR = re.compile(r"[A-Za-z][-A-Za-z0-9_./]*")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


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


def load_documents(content: bytes | str, source: str) -> list[tuple[str, object]]:
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


def dump(document: dict[str, Any], fmt: str) -> str:
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
