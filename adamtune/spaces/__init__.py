"""Search spaces: what a study may try, as files in ``search_spaces/`` or as Python objects."""

from adamtune.spaces._load import available, load_space
from adamtune.spaces._space import (
    REGULARIZERS,
    RULES,
    SCALERS,
    FloatRange,
    LearningRate,
    Space,
)

__all__ = [
    "REGULARIZERS",
    "RULES",
    "SCALERS",
    "FloatRange",
    "LearningRate",
    "Space",
    "available",
    "load_space",
]
