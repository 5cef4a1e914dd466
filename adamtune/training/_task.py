"""Choosing the loss, the metrics and the chance level from the labels and the model's output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune._errors import PreflightError
from adamtune.data import Target

__all__ = ["DATA_LOSS", "LossSpec", "chance_loss", "check_loss", "infer_loss", "monitored_key"]

# The loss without the L1/L2 penalty Keras adds to `loss` and `val_loss`: what adamtune monitors when
# the objective is a loss, so trials with kernel regularizers compete fairly with none and AdamW.
DATA_LOSS = "data_loss"

_PROBABILITY = {"sigmoid", "softmax"}


@dataclass(frozen=True)
class LossSpec:
    """A loss as a Keras-serialized config, and the metrics to compile with."""

    loss: Any
    metrics: list[str]

    def build_loss(self) -> Any:
        import keras

        return keras.losses.deserialize(self.loss) if isinstance(self.loss, dict) else self.loss

    def compile_metrics(self) -> list[Any]:
        """The metrics to compile a trial with: the user's, plus the unpenalized ``data_loss``."""
        import keras
        from keras.src.losses.losses import LossFunctionWrapper

        loss = self.build_loss()
        if isinstance(loss, str):
            loss = keras.losses.get(loss)
        if isinstance(loss, keras.losses.Loss):  # per-sample values, so the mean is exact
            per_sample = loss.__class__.from_config({**loss.get_config(), "reduction": None})
        else:
            per_sample = LossFunctionWrapper(loss, reduction=None)
        return [*self.metrics, keras.metrics.MeanMetricWrapper(per_sample, name=DATA_LOSS)]


def monitored_key(objective: str) -> str:
    """The logged key a search watches for ``objective``: ``val_loss`` means ``val_data_loss``."""
    return {"loss": DATA_LOSS, "val_loss": f"val_{DATA_LOSS}"}.get(objective, objective)


def _declared_output_shape(model: Any) -> Any:
    try:
        declared = model.output_shape
    except AttributeError:
        raise PreflightError(
            f"the output shape of {type(model).__name__} is not known until it is called; pass "
            "output_shape=model(x[:2]).shape, or start the model with keras.Input"
        ) from None
    if isinstance(declared, list):
        raise PreflightError(
            "model_fn returned a model with several outputs; adamtune tunes single-output models"
        )
    return model.outputs[0].shape if getattr(model, "outputs", None) else declared


def _output_units_and_activation(model: Any, output_shape: Any = None) -> tuple[int, str | None]:
    shape = _declared_output_shape(model) if output_shape is None else output_shape
    units = int(shape[-1]) if shape[-1] is not None else 1
    activation = None
    last = model.layers[-1] if model.layers else None
    if last is not None:
        act = last.get_config().get("activation")
        activation = act if isinstance(act, str) else None
        if last.__class__.__name__ in ("Softmax", "Activation") and activation is None:
            activation = "softmax" if last.__class__.__name__ == "Softmax" else None
    return units, activation


def _serialize(loss: Any) -> Any:
    import keras

    return keras.losses.serialize(loss)


def infer_loss(target: Target, model: Any, output_shape: Any = None) -> LossSpec:
    """The loss and metrics for ``target`` given the model's output; a mismatch is a clear error.

    ``output_shape`` is the shape of the model's output on a batch; it is needed for models that do
    not declare one (a Sequential without ``keras.Input``, subclassed models).
    """
    import keras

    units, activation = _output_units_and_activation(model, output_shape)
    logits = activation not in _PROBABILITY
    if target.kind == "binary":
        if units == 1:
            return LossSpec(
                _serialize(keras.losses.BinaryCrossentropy(from_logits=logits)), ["accuracy"]
            )
        if units == 2:
            return LossSpec(
                _serialize(keras.losses.SparseCategoricalCrossentropy(from_logits=logits)),
                ["accuracy"],
            )
        raise PreflightError(
            f"labels are binary (0/1) but the model outputs {units} units; end the model with "
            "Dense(1, activation='sigmoid') or Dense(2, activation='softmax')"
        )
    if target.kind == "multiclass":
        if units < (target.n_classes or 0):
            raise PreflightError(
                f"labels take {target.n_classes} classes (0..{(target.n_classes or 1) - 1}) but the "
                f"model outputs {units} unit(s); end the model with "
                f"Dense({target.n_classes}, activation='softmax')"
            )
        return LossSpec(
            _serialize(keras.losses.SparseCategoricalCrossentropy(from_logits=logits)),
            ["accuracy"],
        )
    if target.kind == "onehot":
        if units != target.n_classes:
            raise PreflightError(
                f"labels are one-hot over {target.n_classes} classes but the model outputs "
                f"{units} unit(s); end the model with Dense({target.n_classes}, activation='softmax')"
            )
        return LossSpec(
            _serialize(keras.losses.CategoricalCrossentropy(from_logits=logits)), ["accuracy"]
        )
    if units != target.n_outputs:
        raise PreflightError(
            f"the regression target has {target.n_outputs} column(s) but the model outputs "
            f"{units} unit(s)"
        )
    return LossSpec(_serialize(keras.losses.MeanSquaredError()), ["mae"])


def chance_loss(target: Target, y: np.ndarray, loss: Any) -> float | None:
    """The loss of a constant prediction at the label frequencies (cross-entropy losses only)."""
    # A loss given by name serializes as class_name "function" with the name in its config.
    name = (
        f"{loss.get('class_name', '')} {loss.get('config', '')}"
        if isinstance(loss, dict)
        else str(loss)
    )
    if "Crossentropy" not in name and "crossentropy" not in name:
        return None
    labels = y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
    counts = np.bincount(labels)
    p = counts[counts > 0] / counts.sum()
    entropy = float(-(p * np.log(p)).sum())
    return entropy if entropy > 0 and math.isfinite(entropy) else None


def check_loss(loss: Any) -> None:
    """Refuse a ``loss`` Keras cannot resolve, before any work."""
    if loss is None:
        return
    import keras

    try:
        keras.losses.get(loss)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"`loss` is not a Keras loss. Received: loss={loss!r} ({exc}); pass None to infer "
            "it from the labels"
        ) from None
