"""Search spaces: what a study may try, as files in ``search_spaces/`` or as Python objects."""

import importlib
import typing

from adamtune.spaces._limits import MAX_DEPTH, MAX_INT_DIGITS, check_bounded
from adamtune.spaces._load import available, load_space, save_space
from adamtune.spaces._space import (
    CLASS_WEIGHTS,
    OPTIMIZERS,
    REGULARIZERS,
    RULES,
    SCALERS,
    SCHEDULES,
    SCHEMA_VERSION,
    FloatRange,
    LearningRate,
    Space,
)

if typing.TYPE_CHECKING:
    from adamtune.spaces._yaml import BoundedSafeLoader as BoundedSafeLoader
    from adamtune.spaces._yaml import LimitError as LimitError

__all__ = [
    "CLASS_WEIGHTS",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "OPTIMIZERS",
    "REGULARIZERS",
    "RULES",
    "SCALERS",
    "SCHEDULES",
    "SCHEMA_VERSION",
    "BoundedSafeLoader",
    "FloatRange",
    "LearningRate",
    "LimitError",
    "Space",
    "available",
    "check_bounded",
    "load_space",
    "save_space",
]

# The YAML loaders need PyYAML: imported on first use, so ``import adamtune.spaces`` stays light.
_YAML = frozenset({"BoundedSafeLoader", "LimitError"})


def __getattr__(name: str) -> typing.Any:
    if name in _YAML:
        return getattr(importlib.import_module("adamtune.spaces._yaml"), name)
    raise AttributeError(f"module 'adamtune.spaces' has no attribute {name!r}")
