"""One trial's parameters: the Adam choices drawn from a space and the model_fn's own ``hp.*``."""

from adamtune.params._adam import RESERVED, AdamParams, sample_adam_params, scale_for_batch
from adamtune.params._hp import HP
from adamtune.params._regularizer import make_regularizer
from adamtune.params._sources import Condition, DefaultSource, FixedSource, ParamSource

__all__ = [
    "HP",
    "RESERVED",
    "AdamParams",
    "Condition",
    "DefaultSource",
    "FixedSource",
    "ParamSource",
    "make_regularizer",
    "sample_adam_params",
    "scale_for_batch",
]
