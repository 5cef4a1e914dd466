"""The optimizer the doctor probes: the user's, as a serialized config a fresh copy is built
from for each probe, its peak learning rate (a schedule's highest value, not its value at step 0,
which a warmup starts at 0), and the two variants the remedy probes train with."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["ProbedOptimizer", "resolve_optimizer"]

# A schedule's peak is read at this many steps, log-spaced over its span (its decay and warmup
# steps when its config has them, else 10^5): a warmup's top and a decay's start are both hit.
PEAK_SAMPLES = 256


@dataclass(frozen=True)
class ProbedOptimizer:
    """The probed optimizer: ``lr`` is its peak learning rate; ``schedule`` the class of its
    learning-rate schedule (None for a constant rate)."""

    config: dict[str, Any]  # keras.optimizers.serialize(...), to build a fresh one per probe
    name: str
    lr: float
    weight_decay: float
    schedule: str | None = None

    def build(self) -> Any:
        import keras

        return keras.optimizers.deserialize(copy.deepcopy(self.config))  # Keras edits it in place

    @property
    def clips(self) -> bool:
        """Whether it already clips its gradients (clipnorm, clipvalue or global_clipnorm)."""
        config = self.config.get("config", {})
        return any(config.get(k) is not None for k in ("clipnorm", "clipvalue", "global_clipnorm"))

    def warmed_up(self, steps: int) -> Any:
        """A fresh copy whose learning rate rises from 0 to ``lr`` over ``steps`` steps and stays
        there (Keras' CosineDecay with alpha=1: no decay after the warmup)."""
        import keras

        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=1, alpha=1.0, warmup_target=self.lr, warmup_steps=steps
        )
        return self._variant(learning_rate=schedule)

    def clipped(self, norm: float) -> Any:
        """A fresh copy clipping the gradients' global norm to ``norm``."""
        return self._variant(global_clipnorm=norm, clipnorm=None, clipvalue=None)

    def _variant(self, **changes: Any) -> Any:
        built = self.build()
        config = {**built.get_config(), **changes}
        return type(built).from_config(config)


_OPTIMIZER_FORMS = (
    "`optimizer` must be None (Keras Adam(1e-3)), a keras.optimizers.Optimizer instance, a name "
    "such as 'adamw', a serialized optimizer ({'class_name': 'AdamW', 'config': {...}}) or Adam "
    "keyword arguments ({'learning_rate': 1e-2})"
)


def resolve_optimizer(optimizer: Any) -> ProbedOptimizer:
    import keras

    if optimizer is None:
        instance = keras.optimizers.Adam(learning_rate=1e-3)
    elif isinstance(optimizer, keras.optimizers.Optimizer):
        instance = optimizer
    elif isinstance(optimizer, str):
        try:
            instance = keras.optimizers.get(optimizer)
        except ValueError as exc:
            raise ValueError(
                f"{_OPTIMIZER_FORMS}. Received: optimizer={optimizer!r} ({exc})"
            ) from None
    elif isinstance(optimizer, dict):
        try:
            if "class_name" in optimizer:
                # A copy: Keras builds a schedule inside the user's dict, in place.
                instance = keras.optimizers.deserialize(copy.deepcopy(optimizer))
            else:
                instance = keras.optimizers.Adam(**optimizer)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{_OPTIMIZER_FORMS}. Received: optimizer={optimizer!r} ({exc})"
            ) from None
    else:
        raise TypeError(
            f"{_OPTIMIZER_FORMS}. Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
        )
    lr, schedule = _peak(instance)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(
            f"`optimizer` must have a positive, finite learning rate. Received: learning_rate={lr!r}"
        )
    return ProbedOptimizer(
        config=keras.optimizers.serialize(instance),
        name=type(instance).__name__,
        lr=lr,
        weight_decay=float(getattr(instance, "weight_decay", None) or 0.0),
        schedule=schedule,
    )


def _peak(instance: Any) -> tuple[float, str | None]:
    """The optimizer's peak learning rate and its schedule's class name (None: constant)."""
    import keras
    import numpy as np

    rate = getattr(instance, "_learning_rate", None)
    if not isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        return float(keras.ops.convert_to_numpy(instance.learning_rate)), None
    config = rate.get_config()
    span = int(config.get("decay_steps") or 0) + int(config.get("warmup_steps") or 0)
    span = span if span > 0 else 100_000
    steps = np.unique(np.concatenate([[0], np.geomspace(1, span, PEAK_SAMPLES).astype(int)]))
    values = [float(keras.ops.convert_to_numpy(rate(int(step)))) for step in steps]
    return max(values), type(rate).__name__
