"""Search spaces: what a study may try, as files in ``search_spaces/`` or as Python objects."""

from adamtune.spaces._load import available, load_space, save_space
from adamtune.spaces._space import (
    CLASS_WEIGHTS,
    REGULARIZERS,
    RULES,
    SCALERS,
    SCHEMA_VERSION,
    FloatRange,
    LearningRate,
    Space,
)

__all__ = [
    "CLASS_WEIGHTS",
    "REGULARIZERS",
    "RULES",
    "SCALERS",
    "SCHEMA_VERSION",
    "FloatRange",
    "LearningRate",
    "Space",
    "available",
    "load_space",
    "save_space",
]
