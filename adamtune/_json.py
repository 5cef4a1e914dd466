"""One way to make a value JSON-safe, for every record adamtune stores or prints (standard library
only; NumPy values are recognized without importing NumPy)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` as strict-JSON types: mappings with string keys, tuples and arrays as lists, NumPy
    scalars as Python numbers, NaN or infinities as the strings ``"nan"``, ``"inf"``, ``"-inf"``
    (anywhere, lists included), and any other object as its ``str``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if _is_numpy(value):
        value = value.tolist()  # an array -> nested lists, a scalar -> a Python number
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [jsonable(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")
