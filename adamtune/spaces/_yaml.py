"""The YAML readers for space and config files: PyYAML's safe loader, with bounds.

:class:`BoundedSafeLoader` (configs) refuses, before any value is built, a document that nests
deeper than :data:`~adamtune.spaces._limits.MAX_DEPTH`, expands through aliases to more values than
it allows (a "billion laughs" file: a 1.4 kB file of nested aliases holds 10**8 values), refers to
itself through an alias, or holds an integer of more than
:data:`~adamtune.spaces._limits.MAX_INT_DIGITS` digits. :class:`StrictSafeLoader` (spaces) also
refuses a key given twice in one mapping: PyYAML's ``safe_load`` keeps the last of two equal keys
without a word, so a space file that sets ``low`` twice would search a range its author never
meant. This module imports PyYAML at the top; it is imported only when a YAML file is read, so
``import adamtune`` stays light.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from adamtune.spaces._limits import (
    MAX_CONFIG_VALUES,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_SPACE_VALUES,
)

__all__ = ["BoundedSafeLoader", "DuplicateKeyError", "LimitError", "StrictSafeLoader"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(Exception):
    """A mapping gives the same key twice. ``field`` is its dotted path from the top level."""

    def __init__(self, field: str, first_line: int, line: int) -> None:
        super().__init__(field, first_line, line)
        self.field = field
        self.first_line = first_line
        self.line = line


class LimitError(Exception):
    """A document beyond the loader's bounds: ``problem`` says which, at ``line`` (1-based)."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem, line)
        self.problem = problem
        self.line = line


def _line(node_or_event: Any) -> int:
    mark = getattr(node_or_event, "start_mark", None)
    return 0 if mark is None else int(mark.line) + 1


class BoundedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (plain values only, no ``!!python/...``) within bounds.

    Nesting is counted while composing, so 100 000 nested brackets stop at the bound instead of at
    Python's recursion limit; the composed tree is then sized with every alias expanded (each
    distinct node sized once, so a billion laughs costs microseconds), before any value is built.
    ``<<`` merge keys are sized like any alias, so they cannot multiply a document either.
    """

    max_values = MAX_CONFIG_VALUES

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self._depth >= MAX_DEPTH:
            raise LimitError(f"nests deeper than {MAX_DEPTH} levels", _line(self.peek_event()))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            _ExpandedSize(self.max_values).size(node, 0)
        return node

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(node.value).replace("_", "").lstrip("+-")
        if len(text) > MAX_INT_DIGITS:
            raise LimitError(
                f"holds an integer of {len(text):,} digits (at most {MAX_INT_DIGITS})", _line(node)
            )
        return super().construct_yaml_int(node)


BoundedSafeLoader.add_constructor("tag:yaml.org,2002:int", BoundedSafeLoader.construct_yaml_int)


class _ExpandedSize:
    """How many values a composed node stands for once every alias is expanded, and how deep it
    nests; refuses past the bounds or on a cycle (an alias inside the node it names)."""

    def __init__(self, max_values: int) -> None:
        self.max_values = max_values
        self.known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)
        self.open: set[int] = set()

    def size(self, node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in self.open:
            raise LimitError(
                "holds an alias inside the very anchor it names (a cycle)", _line(node)
            )
        if key not in self.known:
            self.open.add(key)
            self.known[key] = self._measure(node, depth)
            self.open.discard(key)
        values, height = self.known[key]
        if depth + height > MAX_DEPTH:
            raise LimitError(
                f"nests deeper than {MAX_DEPTH} levels once its aliases are expanded", _line(node)
            )
        return values, height

    def _measure(self, node: Node, depth: int) -> tuple[int, int]:
        if isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            return 1, 0
        values, height = 1, 0
        for child in children:
            child_values, child_height = self.size(child, depth + 1)
            values += child_values
            height = max(height, child_height + 1)
            if values > self.max_values:
                raise LimitError(
                    f"expands to more than {self.max_values:,} values through its aliases "
                    "(*name repeats everything the anchor &name holds)",
                    _line(node),
                )
        return values, height


class StrictSafeLoader(BoundedSafeLoader):
    """:class:`BoundedSafeLoader` for space files: a smaller bound on values, and a key given twice
    in one mapping is refused.

    The duplicate check runs on the composed node tree, before any value is built, at every depth.
    Keys are compared as written, with their resolved tag (so ``"1"`` and ``1`` differ); ``<<``
    merge keys are left alone, since overriding a merged key is what they are for.
    """

    max_values = MAX_SPACE_VALUES

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            _check_unique_keys(node, "", set())
        return node


def _check_unique_keys(node: Node, path: str, seen: set[int]) -> None:
    if id(node) in seen:  # an alias of a node already checked (also ends recursive anchors)
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_lines: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            child = path
            if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                child = f"{path}.{key_node.value}" if path else str(key_node.value)
                key = (key_node.tag, str(key_node.value))
                line = key_node.start_mark.line + 1
                if key in first_lines:
                    raise DuplicateKeyError(child, first_lines[key], line)
                first_lines[key] = line
            _check_unique_keys(value_node, child, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _check_unique_keys(item, f"{path}[{index}]", seen)
