"""A trial's learning rate over its steps: constant, or Keras' own schedules (``CosineDecay`` with
its warmup, ``PolynomialDecay`` for a linear decay), sized to the trial's actual step count."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adamtune.params._adam import AdamParams

__all__ = [
    "learning_rate_schedule",
    "needs_steps",
    "schedule_config",
    "schedule_values",
    "warmup_steps",
]


def needs_steps(adam: AdamParams) -> bool:
    """Whether the trial's learning rate changes over its steps (so it needs their number)."""
    return adam.schedule != "constant" or adam.warmup > 0


def schedule_config(adam: AdamParams) -> tuple[str, dict[str, Any]] | None:
    """The trial's Keras schedule as its class name and constructor arguments, without Keras
    (None for a constant rate): what :func:`learning_rate_schedule` builds, and what an
    exported optimizer's ``learning_rate`` config must hold.

    The first ``round(warmup x decay_steps)`` steps rise linearly from 0 to the learning rate
    (``CosineDecay``'s warmup); the rest stay there (``constant``) or fall to ``decay_to`` times
    it, along a cosine or a straight line (``PolynomialDecay``, power 1, which has no warmup).
    """
    if not needs_steps(adam):
        return None
    total = adam.decay_steps
    if total is None or total < 1:
        raise ValueError(
            f"a {adam.schedule} schedule with warmup {adam.warmup:g} needs the trial's number of "
            f"steps. Received: decay_steps={total!r}"
        )
    peak = adam.learning_rate
    if adam.schedule == "linear":
        end = peak * adam.decay_to
        return "PolynomialDecay", {
            "initial_learning_rate": peak,
            "decay_steps": total,
            "end_learning_rate": end,
            "power": 1.0,
            "cycle": False,
        }
    alpha = 1.0 if adam.schedule == "constant" else adam.decay_to
    warm = warmup_steps(adam.warmup, total)
    if warm < 1:
        return "CosineDecay", {
            "initial_learning_rate": peak,
            "decay_steps": total,
            "alpha": alpha,
            "warmup_target": None,
            "warmup_steps": 0,
        }
    return "CosineDecay", {
        "initial_learning_rate": 0.0,
        "decay_steps": total - warm,
        "alpha": alpha,
        "warmup_target": peak,
        "warmup_steps": warm,
    }


def learning_rate_schedule(adam: AdamParams) -> Any:
    """The trial's ``learning_rate`` argument: a float, or the Keras schedule
    :func:`schedule_config` describes, over ``adam.decay_steps`` steps in all (imports Keras
    only then)."""
    spec = schedule_config(adam)
    if spec is None:
        return adam.learning_rate
    import keras

    name, kwargs = spec
    return getattr(keras.optimizers.schedules, name)(**kwargs)


def warmup_steps(warmup: float, total: int) -> int:
    """The steps a schedule over ``total`` steps spends warming up: ``warmup`` of them, rounded,
    and always at least one step left to decay over."""
    return max(min(round(warmup * total), total - 1), 0)


def schedule_values(adam: AdamParams, steps: Sequence[int]) -> list[float]:
    """The learning rate at each of ``steps`` as :func:`learning_rate_schedule` gives it, computed
    without Keras (for the report, which reads a study without TensorFlow): Keras' formulas for
    ``CosineDecay`` (with its linear warmup) and ``PolynomialDecay`` (power 1, no cycle)."""
    peak = adam.learning_rate
    if not needs_steps(adam):
        return [peak for _ in steps]
    total = adam.decay_steps
    if total is None or total < 1:
        raise ValueError(f"a schedule needs the trial's number of steps. Received: {total!r}")
    if adam.schedule == "linear":
        end = peak * adam.decay_to
        return [(peak - end) * (1 - min(s, total) / total) + end for s in steps]
    alpha = 1.0 if adam.schedule == "constant" else adam.decay_to
    warm = warmup_steps(adam.warmup, total)
    decay = total - warm if warm >= 1 else total

    def cosine(step: float) -> float:
        done = min(step, decay) / decay
        return peak * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * done)) + alpha)

    if warm < 1:
        return [cosine(s) for s in steps]
    return [peak * s / warm if s < warm else cosine(s - warm) for s in steps]
