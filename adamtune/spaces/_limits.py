"""Bounds on what a config or space file may hold, checked while walking it.

Both kinds of file are small and shallow. Without bounds a small hostile file costs minutes or ends
in an error that names nothing: YAML aliases (``*name`` repeats what the anchor ``&name`` holds)
expand 1.4 kB into 10**8 values, 100 000 nested brackets exhaust Python's recursion limit, and a
5000-digit integer trips Python's int/str conversion limit (4300 digits). :func:`check_bounded`
counts values as it walks (so it stops early, whatever the aliases share) and refuses, naming the
file and the field; the YAML loader in ``_yaml.py`` applies the same bounds before building values.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_CONFIG_VALUES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_SPACE_VALUES",
    "check_bounded",
    "field_path",
    "int_too_long",
]

# Nesting levels, counted from the top-level mapping (a config needs about six).
MAX_DEPTH = 50
# Values in all, after alias expansion. A config holds a few dozen plus two per class weight; a
# space a few dozen (its lists are checked for repeats pairwise, so they must stay short).
MAX_CONFIG_VALUES = 200_000
MAX_SPACE_VALUES = 2_000
# Digits of one integer: far above any batch size, class id or trial number, far below the 4300
# at which Python refuses to convert an int to or from text.
MAX_INT_DIGITS = 100
_INT_LIMIT = 10**MAX_INT_DIGITS


def int_too_long(value: Any) -> bool:
    """Whether ``value`` is an int (not a bool) of more than :data:`MAX_INT_DIGITS` digits,
    decided without converting it to text."""
    return type(value) is not bool and isinstance(value, int) and abs(value) >= _INT_LIMIT


def field_path(parent: str, key: Any) -> str:
    """The name of ``parent``'s entry ``key``: ``adam.batch_size``, ``user_params['a b']``,
    ``metrics[0]``; ``<top level>`` for the whole file. Never calls a non-builtin ``repr``."""
    if key is None:
        return parent or "<top level>"
    if type(key) is str:
        if not parent:
            return key
        return f"{parent}.{key}" if key.isidentifier() else f"{parent}[{key!r}]"
    if type(key) in (int, float, bool) and not int_too_long(key):
        return f"{parent}[{key!r}]"
    return f"{parent}[<a {type(key).__name__} key>]"


def check_bounded(
    data: Any, source: str, *, what: str = "config", max_values: int = MAX_CONFIG_VALUES
) -> None:
    """Refuse ``data`` (a mapping read from ``source``) if it nests deeper than
    :data:`MAX_DEPTH`, holds more than ``max_values`` values in all (a value reached twice, as
    through a YAML alias, counts twice), or holds an integer of more than
    :data:`MAX_INT_DIGITS` digits. Iterative: a cycle or a deep nest never recurses."""
    # Each entry: the value, its parent's path, its key there (None for the top), its depth.
    stack: list[tuple[Any, str, Any, int]] = [(data, "", None, 0)]
    count = 0
    while stack:
        value, parent, key, depth = stack.pop()
        count += 1
        if count > max_values:
            raise _refuse(
                source,
                field_path(parent, key),
                f"holds more than {max_values:,} values in all (a YAML alias, *name, repeats "
                f"everything its anchor holds); a {what} is far smaller. Check that this is the "
                "file you meant",
            )
        if depth > MAX_DEPTH:
            raise _refuse(
                source,
                field_path(parent, key),
                f"nests deeper than {MAX_DEPTH} levels; a {what} is far shallower",
            )
        if int_too_long(value):
            raise _refuse(source, field_path(parent, key), _INT_MESSAGE)
        if isinstance(value, dict):
            where = field_path(parent, key) if key is not None else ""
            for child_key, child in value.items():
                if int_too_long(child_key):
                    raise _refuse(source, field_path(where, None), f"has a key that {_INT_MESSAGE}")
                stack.append((child, where, child_key, depth + 1))
        elif isinstance(value, list | tuple):
            where = field_path(parent, key) if key is not None else ""
            stack.extend((child, where, i, depth + 1) for i, child in enumerate(value))


_INT_MESSAGE = (
    f"is an integer of more than {MAX_INT_DIGITS} digits; no setting needs one that large"
)


def _refuse(source: str, where: str, message: str) -> ValueError:
    return ValueError(f"{source}: field `{where}`: {message}")
