"""JSON and YAML documents from untrusted text: bounded before anything walks them.

YAML anchors and aliases are refused outright. An alias is a reference, so a few hundred bytes
of nested aliases ("billion laughs") make a document whose expanded size is exponential; any
code that walks it (validation, serialisation, an error message quoting a value) then spends
minutes and gigabytes. Settings and attribute tables never need them. Nesting is bounded too:
the parsers and every walker recurse, and no settings file is more than a few levels deep.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent

MAX_NESTING = 64  # settings files nest ~5 levels deep; GCBM's own JSON files ~8


class DocumentError(ValueError):
    """A document that cannot be read: `line` and `column` (1-based) when known."""

    def __init__(self, message: str, *, line: int | None = None,
                 column: int | None = None) -> None:
        where = f" at line {line} column {column}" if line is not None else ""
        super().__init__(f"{message}{where}")
        self.line, self.column = line, column


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors, aliases and nesting deeper than MAX_NESTING as
    the events arrive, before the document is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        mark = event.start_mark
        if isinstance(event, AliasEvent) or (
                isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor):
            raise DocumentError("YAML anchors and aliases (&name, *name) are not accepted; "
                                "write the values out", line=mark.line + 1, column=mark.column + 1)
        if isinstance(event, CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_NESTING:
                raise DocumentError(f"nested more than {MAX_NESTING} levels deep",
                                    line=mark.line + 1, column=mark.column + 1)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)


def parse_yaml(text: str) -> Any:
    """A YAML document (YAML 1.1, safe types) without anchors or aliases, at most MAX_NESTING
    deep. Raises DocumentError, or yaml.YAMLError for malformed YAML."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_json(text: str) -> Any:
    """A JSON document at most MAX_NESTING deep. Raises DocumentError, or
    json.JSONDecodeError for malformed JSON."""
    try:
        document = json.loads(text)
    except RecursionError as err:  # the C scanner's own guard, ~1000 levels
        raise DocumentError(f"nested more than {MAX_NESTING} levels deep") from err
    check_nesting(document)
    return document


def check_nesting(document: Any, limit: int = MAX_NESTING) -> None:
    """Raise DocumentError if lists and objects nest more than `limit` deep (iteratively, so a
    deep document cannot exhaust the stack here)."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth + 1 > limit:
                raise DocumentError(f"nested more than {limit} levels deep")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
