"""Training one trial: building, compiling, fitting under a DivergenceGuard, and the pre-flight.

``DivergenceGuard`` imports Keras; it is loaded on first use so ``import adamtune`` stays light.
"""

from typing import Any

from adamtune.training._build import build_model, make_optimizer, takes_hp
from adamtune.training._layers import apply_choices, make_regularizer
from adamtune.training._preflight import PreflightReport, preflight
from adamtune.training._task import LossSpec, chance_loss, infer_loss
from adamtune.training._trial import PruneHook, TrialResult, TrialSetup, run_trial

__all__ = [
    "DivergenceGuard",
    "LossSpec",
    "PreflightReport",
    "PruneHook",
    "TrialResult",
    "TrialSetup",
    "apply_choices",
    "build_model",
    "chance_loss",
    "infer_loss",
    "make_optimizer",
    "make_regularizer",
    "preflight",
    "run_trial",
    "takes_hp",
]


def __getattr__(name: str) -> Any:
    if name == "DivergenceGuard":
        from adamtune.training._guard import DivergenceGuard

        return DivergenceGuard
    raise AttributeError(f"module 'adamtune.training' has no attribute {name!r}")
