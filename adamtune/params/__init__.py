"""One trial's parameters: the Adam choices drawn from a space and the model_fn's own ``hp.*``."""

from adamtune.params._adam import (
    CLIPPING,
    RESERVED,
    AdamParams,
    sample_adam_params,
    scale_for_batch,
)
from adamtune.params._hp import HP
from adamtune.params._regularizer import make_regularizer
from adamtune.params._schedule import (
    learning_rate_schedule,
    needs_steps,
    schedule_config,
    schedule_values,
    warmup_steps,
)
from adamtune.params._sources import Condition, DefaultSource, FixedSource, ParamSource

__all__ = [
    "CLIPPING",
    "HP",
    "RESERVED",
    "AdamParams",
    "Condition",
    "DefaultSource",
    "FixedSource",
    "ParamSource",
    "learning_rate_schedule",
    "make_regularizer",
    "needs_steps",
    "sample_adam_params",
    "scale_for_batch",
    "schedule_config",
    "schedule_values",
    "warmup_steps",
]
