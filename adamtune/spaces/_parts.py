"""The pieces a :class:`~adamtune.spaces.Space` is made of: its fixed choices and its ranges.

Below both ``_space`` (the Space) and ``_validate`` (a mapping's fields), which build on these, so
neither of them imports the other at import time: ``Space.from_dict`` calls ``_validate``, which
never imports ``_space``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLASS_WEIGHTS",
    "OPTIMIZERS",
    "REGULARIZERS",
    "RULES",
    "SCALERS",
    "SCHEDULES",
    "SCHEMA_VERSION",
    "FloatRange",
    "LearningRate",
]

SCHEMA_VERSION = 1
REGULARIZERS = ("none", "l1", "l2", "l1_l2", "adamw")
SCALERS = ("none", "standard", "minmax", "robust")
RULES = ("none", "linear", "sqrt")
CLASS_WEIGHTS = ("none", "balanced")
# Adam, or Nesterov Adam (Keras' Nadam). With the ``adamw`` regularizer either one carries the
# decoupled weight decay (Keras' AdamW is Adam with it; Nadam takes ``weight_decay`` too).
OPTIMIZERS = ("adam", "nadam")
# The learning rate over a trial's steps: constant, or decaying along a cosine or a straight line.
SCHEDULES = ("constant", "cosine", "linear")


@dataclass(frozen=True)
class FloatRange:
    """A closed float range, sampled on a log scale when ``log`` is true."""

    low: float
    high: float
    log: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class LearningRate:
    """Learning-rate range for ``reference_batch_size``, scaled to each trial's batch size.

    ``rule`` is ``"sqrt"`` (Adam's square-root rule, Malladi et al. 2022), ``"linear"`` (Goyal et
    al. 2017, for SGD) or ``"none"``.
    """

    low: float
    high: float
    reference_batch_size: int = 32
    rule: str = "sqrt"

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "reference_batch_size": self.reference_batch_size,
            "rule": self.rule,
        }
