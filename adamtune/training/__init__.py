"""Training one trial: building, compiling, fitting under a DivergenceGuard, and the pre-flight.

The checks a probe makes before it trains a model (:func:`check_model` and its steps,
``check_output``, ``check_output_shape``, ``check_label_shape``, ``resolve_loss_spec``, and
``check_loss`` for a ``loss`` argument) are public: the pre-flight, the doctor and the LR range
test share them.

``DivergenceGuard`` imports Keras; it is loaded on first use so ``import adamtune`` stays light.
"""

from typing import Any

from adamtune.training._build import build_model, build_user_model, make_optimizer, takes_hp
from adamtune.training._check import (
    ModelCheck,
    check_label_shape,
    check_model,
    check_output,
    check_output_shape,
    middle_hp,
    resolve_loss_spec,
)
from adamtune.training._layers import (
    apply_choices,
    has_batch_norm,
    make_regularizer,
    placement_table,
    user_regularized_layers,
)
from adamtune.training._model_facts import (
    ModelFacts,
    SpaceFit,
    fit_space,
    model_facts,
    token_embeddings,
)
from adamtune.training._outcome import DIVERGED, OUTCOMES
from adamtune.training._preflight import (
    PreflightReport,
    batch_trained_by_parent,
    model_io,
    preflight,
)
from adamtune.training._records import curves, optimizer_config, result_attrs
from adamtune.training._state import custom_gradients, forget_custom_gradients, release
from adamtune.training._task import (
    REGRESSION_LOSSES,
    LossSpec,
    chance_loss,
    check_loss,
    infer_loss,
    infer_loss_and_target,
    monitored_key,
    output_units_and_activation,
)
from adamtune.training._trial import PruneHook, TrialResult, TrialSetup, run_trial

__all__ = [
    "DIVERGED",
    "OUTCOMES",
    "REGRESSION_LOSSES",
    "DivergenceGuard",
    "LossSpec",
    "ModelCheck",
    "ModelFacts",
    "PreflightReport",
    "PruneHook",
    "SpaceFit",
    "TrialResult",
    "TrialSetup",
    "apply_choices",
    "batch_trained_by_parent",
    "build_model",
    "build_user_model",
    "chance_loss",
    "check_label_shape",
    "check_loss",
    "check_model",
    "check_output",
    "check_output_shape",
    "curves",
    "custom_gradients",
    "fit_space",
    "forget_custom_gradients",
    "has_batch_norm",
    "infer_loss",
    "infer_loss_and_target",
    "make_optimizer",
    "make_regularizer",
    "middle_hp",
    "model_facts",
    "model_io",
    "monitored_key",
    "optimizer_config",
    "output_units_and_activation",
    "placement_table",
    "preflight",
    "release",
    "resolve_loss_spec",
    "result_attrs",
    "run_trial",
    "takes_hp",
    "token_embeddings",
    "user_regularized_layers",
]


def __getattr__(name: str) -> Any:
    if name == "DivergenceGuard":
        from adamtune.training._guard import DivergenceGuard

        return DivergenceGuard
    raise AttributeError(f"module 'adamtune.training' has no attribute {name!r}")
