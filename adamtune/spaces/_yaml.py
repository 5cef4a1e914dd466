"""The YAML reader for space files: PyYAML's safe loader, refusing a key given twice in one mapping.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word, so a space file that sets
``low`` twice would search a range its author never meant. This module imports PyYAML at the top;
it is imported only when a YAML file is read, so ``import adamtune`` stays light.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["DuplicateKeyError", "StrictSafeLoader"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(Exception):
    """A mapping gives the same key twice. ``field`` is its dotted path from the top level."""

    def __init__(self, field: str, first_line: int, line: int) -> None:
        super().__init__(field, first_line, line)
        self.field = field
        self.first_line = first_line
        self.line = line


class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (plain values only, no ``!!python/...``) that refuses duplicate keys.

    The check runs on the composed node tree, before any value is built, at every depth. Keys are
    compared as written, with their resolved tag (so ``"1"`` and ``1`` differ); ``<<`` merge keys
    are left alone, since overriding a merged key is what they are for.
    """

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
