"""``label-loss-mismatch``: the labels, the loss and the model's output layer must agree.

Without ``loss=`` the loss is inferred as a search infers it
(:func:`adamtune.training.infer_loss_and_target`, which also settles integer targets);
with one, the doctor checks it against the labels, where a search would let Keras fail or, worse,
train on a meaningless loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune._errors import PreflightError
from adamtune.data import Prepared, Target
from adamtune.doctor._findings import Finding, sentence
from adamtune.training import (
    REGRESSION_LOSSES,
    LossSpec,
    infer_loss_and_target,
    output_units_and_activation,
)

__all__ = ["LabelCheck", "check_labels", "loss_family"]

_PROBABILITY = ("sigmoid", "softmax")
_LINEAR = (None, "linear")

# Loss families by normalized name (lower case, no underscores).
_FAMILIES = {
    "sparse": {"sparsecategoricalcrossentropy"},
    "categorical": {
        "categoricalcrossentropy",
        "categoricalfocalcrossentropy",
        "categoricalhinge",
        "kldivergence",
        "kld",
        "kullbackleiblerdivergence",
    },
    "binary": {"binarycrossentropy", "binaryfocalcrossentropy", "hinge", "squaredhinge"},
    "regression": set(REGRESSION_LOSSES),
}


@dataclass(frozen=True)
class _Issue:
    severity: str
    blocks: bool  # training would crash or cannot learn: the training probes are skipped
    evidence: str
    advice: str


@dataclass(frozen=True)
class LabelCheck:
    """The loss to train with (``None`` when none fits) and what disagrees."""

    spec: LossSpec | None
    finding: Finding | None
    blocks: bool


def _resolve(loss: Any) -> tuple[str, str, bool]:
    """The loss's name, its normalized name (lower case, no underscores) and whether it expects
    logits."""
    import keras

    obj = keras.losses.get(loss)
    if isinstance(obj, keras.losses.Loss):
        name = type(obj).__name__
        from_logits = bool(obj.get_config().get("from_logits", False))
    else:
        name = getattr(obj, "__name__", str(obj))
        from_logits = False
    return name, name.lower().replace("_", ""), from_logits


def loss_family(normalized: str) -> str:
    """``sparse``, ``categorical``, ``binary``, ``regression`` or ``other``."""
    for family, names in _FAMILIES.items():
        if normalized in names:
            return family
    return "other"


def _describe(target: Target, y: np.ndarray) -> str:
    if target.kind == "regression":
        return f"regression targets (values {float(np.min(y)):.3g} to {float(np.max(y)):.3g})"
    if target.kind == "onehot":
        return f"one-hot labels over {target.n_classes} classes"
    return f"integer labels 0..{int(np.max(y))}"


def _output_issues(
    target: Target, y: np.ndarray, units: int, activation: str | None
) -> list[_Issue]:
    """Output layers that cannot fit the labels whatever the loss."""
    issues = []
    if activation == "softmax" and units == 1:
        issues.append(
            _Issue(
                "error",
                True,
                "The output is a softmax over a single unit, which is 1.0 for every input: the "
                "loss cannot fall.",
                "end the model with Dense(1, activation='sigmoid') for two classes, or "
                "Dense(K, activation='softmax') for K classes",
            )
        )
    if activation == "sigmoid" and target.kind in ("multiclass", "onehot") and units > 1:
        issues.append(
            _Issue(
                "warning",
                False,
                f"The output is {units} independent sigmoids for {target.n_classes} mutually "
                "exclusive classes: the probabilities do not sum to 1.",
                "use activation='softmax' on the output layer",
            )
        )
    if target.kind == "regression" and activation in _PROBABILITY:
        low, high = float(np.min(y)), float(np.max(y))
        if low < 0.0 or high > 1.0:
            issues.append(
                _Issue(
                    "error",
                    True,
                    f"The output activation is {activation} (values in 0..1) but the regression "
                    f"targets span {low:.3g} to {high:.3g}.",
                    "use a linear output (activation=None) for regression, or scale the targets "
                    "into 0..1",
                )
            )
    return issues


def _explicit_issues(
    target: Target, y: np.ndarray, units: int, activation: str | None, loss: Any
) -> list[_Issue]:
    """The user's ``loss=`` against the labels and the output layer."""
    name, normalized, from_logits = _resolve(loss)
    family = loss_family(normalized)
    labels = _describe(target, y)
    classification = family in ("sparse", "categorical", "binary")
    if target.kind == "regression" and classification:
        return [
            _Issue(
                "error",
                True,
                f"The loss {name} is for classes, but y holds {labels}.",
                "use a regression loss (loss='mse' or 'huber'), or encode the classes as integers",
            )
        ]
    issues = _sparse_issues(family, target, y, units, name, labels)
    issues += _family_issues(family, target, units, name, labels)
    if classification and "crossentropy" in normalized:
        issues += _logits_issues(name, from_logits, activation)
    return issues


def _sparse_issues(
    family: str, target: Target, y: np.ndarray, units: int, name: str, labels: str
) -> list[_Issue]:
    """A sparse loss (integer class ids) against one-hot labels, or against more classes than
    the output has units."""
    if family != "sparse":
        return []
    if target.kind == "onehot":
        return [
            _Issue(
                "error",
                True,
                f"The loss {name} expects integer class ids, but y holds {labels}.",
                "use loss='categorical_crossentropy', or pass y.argmax(axis=1) as labels",
            )
        ]
    if target.kind not in ("binary", "multiclass"):
        return []
    top = int(np.max(y))
    if top < units:
        return []
    return [
        _Issue(
            "error",
            True,
            f"y holds {labels} but the model outputs {units} unit(s): class {top} has no "
            "output unit.",
            f"end the model with Dense({top + 1}, activation='softmax')",
        )
    ]


def _family_issues(family: str, target: Target, units: int, name: str, labels: str) -> list[_Issue]:
    """A categorical, binary or regression loss against labels of another kind."""
    issues = []
    if family == "categorical" and target.kind in ("binary", "multiclass"):
        issues.append(
            _Issue(
                "error",
                True,
                f"The loss {name} expects one-hot rows, but y holds {labels}"
                + (" (with one output unit its value is always 0)." if units == 1 else "."),
                "use loss='sparse_categorical_crossentropy' (or one-hot encode y: "
                "keras.utils.to_categorical)",
            )
        )
    if family == "binary" and target.kind in ("multiclass", "onehot"):
        issues.append(
            _Issue(
                "error",
                True,
                f"The loss {name} is for two classes (labels 0/1), but y holds {labels}.",
                "use loss='sparse_categorical_crossentropy' with a softmax output of one unit "
                "per class",
            )
        )
    if family == "regression" and target.kind in ("multiclass", "onehot"):
        issues.append(
            _Issue(
                "warning",
                False,
                f"The loss {name} is a regression loss, but y holds {labels}: class ids are "
                "treated as numbers on a line.",
                "use loss='sparse_categorical_crossentropy' with a softmax output",
            )
        )
    return issues


def _logits_issues(name: str, from_logits: bool, activation: str | None) -> list[_Issue]:
    """A cross-entropy's ``from_logits`` against the output layer's activation."""
    issues = []
    if from_logits and activation in _PROBABILITY:
        issues.append(
            _Issue(
                "warning",
                False,
                f"The loss has from_logits=True but the output layer already applies "
                f"{activation}: probabilities are squashed a second time.",
                "drop the output activation, or use from_logits=False",
            )
        )
    if not from_logits and activation in _LINEAR:
        issues.append(
            _Issue(
                "error",
                False,
                f"The output layer is linear (logits) but the loss {name} has from_logits=False: "
                "Keras clips the outputs into (0, 1), so negative logits get no gradient.",
                "pass the loss with from_logits=True, or end the model with a "
                "softmax/sigmoid activation",
            )
        )
    return issues


def _merge(issues: list[_Issue], data: dict[str, Any]) -> Finding | None:
    if not issues:
        return None
    severity = "error" if any(i.severity == "error" for i in issues) else "warning"
    return Finding(
        "label-loss-mismatch",
        severity,
        " ".join(i.evidence for i in issues),
        "; ".join(dict.fromkeys(i.advice for i in issues)),
        data,
    )


def check_labels(
    prepared: Prepared, model: Any, out_shape: tuple[Any, ...], loss: Any
) -> LabelCheck:
    """The loss a search would train with, checked against the labels and the output layer."""
    import keras

    spec: LossSpec | None = None
    failure: PreflightError | None = None
    try:  # this settles the target as the search's pre-flight does (integer amounts, loss="mse")
        spec = infer_loss_and_target(prepared, model, out_shape, loss)
    except PreflightError as exc:
        failure = exc
    target, y = prepared.target, prepared.y_train
    units, activation = output_units_and_activation(model, out_shape, prepared.x_train)
    data: dict[str, Any] = {
        "target": target.kind,
        "n_classes": target.n_classes,
        "output_units": units,
        "output_activation": activation,
        "loss": None if loss is None else _resolve(loss)[0],
    }
    issues = _output_issues(target, y, units, activation)
    if y.ndim == 2 and tuple(out_shape[1:]) != tuple(y.shape[1:]):
        issues.append(
            _Issue(
                "error",
                True,
                f"The model outputs shape {tuple(out_shape)} for 2 samples but the labels have "
                f"{y.shape[1]} columns.",
                f"end the model with Dense({y.shape[1]})",
            )
        )
    if failure is not None and loss is None:  # its message reads "<what disagrees>; <what to do>"
        what, _, fix = str(failure).partition("; ")
        issues.append(_Issue("error", True, sentence(what), fix))
    if loss is not None:
        issues += _explicit_issues(target, y, units, activation, loss)
        metrics = spec.metrics if spec is not None else []
        spec = LossSpec(keras.losses.serialize(keras.losses.get(loss)), metrics)
    blocks = any(i.blocks for i in issues)
    return LabelCheck(None if blocks else spec, _merge(issues, data), blocks)
