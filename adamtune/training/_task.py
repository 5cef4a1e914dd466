"""Choosing the loss, the metrics and the chance level from the labels and the model's output."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune._errors import PreflightError
from adamtune.data import Prepared, Streamed, Target

__all__ = [
    "DATA_LOSS",
    "REGRESSION_LOSSES",
    "LossSpec",
    "chance_loss",
    "check_loss",
    "infer_loss",
    "infer_loss_and_target",
    "is_regression_loss",
    "monitored_key",
    "output_units_and_activation",
    "sample_output",
]

# The loss without the L1/L2 penalty Keras adds to `loss` and `val_loss`: what adamtune monitors when
# the objective is a loss, so trials with kernel regularizers compete fairly with none and AdamW.
DATA_LOSS = "data_loss"

_PROBABILITY = {"sigmoid", "softmax"}

# Regression losses by normalized name (lower case, no underscores), as keras.losses.get names them.
REGRESSION_LOSSES = frozenset(
    {
        "meansquarederror",
        "mse",
        "meanabsoluteerror",
        "mae",
        "huber",
        "logcosh",
        "meansquaredlogarithmicerror",
        "msle",
        "meanabsolutepercentageerror",
        "mape",
        "poisson",
        "cosinesimilarity",
    }
)


@dataclass(frozen=True)
class LossSpec:
    """A loss as a Keras-serialized config, and the metrics to compile with.

    For a model with several outputs, ``outputs`` names them (in the model's order) and ``loss``
    and ``metrics`` are dicts keyed by those names, as ``compile`` takes them.
    """

    loss: Any
    metrics: Any  # list[str]; dict[str, list[str]] per output with several outputs
    outputs: tuple[str, ...] = ()

    def build_loss(self) -> Any:
        import keras

        def one(loss: Any) -> Any:
            return keras.losses.deserialize(loss) if isinstance(loss, dict) else loss

        if self.outputs:
            return {name: one(self.loss[name]) for name in self.outputs}
        return one(self.loss)

    def trial_metrics(self) -> Any:
        """The user's metrics as ``compile(metrics=...)`` takes them (per output when several)."""
        if self.outputs:
            return {name: list(self.metrics.get(name, [])) for name in self.outputs}
        return list(self.metrics)

    def weighted_metrics(self) -> list[Any] | None:
        """``compile(weighted_metrics=...)``: the unpenalized ``data_loss`` for one output. With
        several outputs it is the sum of Keras's own per-output losses (``OutputLossSum``)."""
        return None if self.outputs else [self.data_loss_metric()]

    def compile_metrics(self) -> Any:
        """The metrics to compile a trial with: the user's, plus the unpenalized ``data_loss``."""
        if self.outputs:
            return self.trial_metrics()
        return [*self.metrics, self.data_loss_metric()]

    def data_loss_metric(self) -> Any:
        """``data_loss``: the mean per-sample loss without the L1/L2 penalty.

        Compiled as a weighted metric (``compile(weighted_metrics=...)``) where the data carries
        sample or class weights, it is their weighted mean (sum of w * loss over sum of w), which
        ranks trials as Keras's weighted ``loss`` does (that one divides by the sample count).
        """
        import keras
        from keras.src.losses.losses import LossFunctionWrapper

        loss = self.build_loss()
        if isinstance(loss, str):
            loss = keras.losses.get(loss)
        if isinstance(loss, keras.losses.Loss):  # per-sample values, so the mean is exact
            per_sample = loss.__class__.from_config({**loss.get_config(), "reduction": None})
        else:
            per_sample = LossFunctionWrapper(loss, reduction=None)
        return keras.metrics.MeanMetricWrapper(per_sample, name=DATA_LOSS)


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


# Layers that pass their input's values through (or drop/noise them only in training): the output
# activation is the one of the layer before them.
_PASS_THROUGH = (
    "Dropout",
    "AlphaDropout",
    "GaussianDropout",
    "GaussianNoise",
    "ActivityRegularization",
    "Reshape",
    "Flatten",
    "Identity",
    "Permute",
)
_UNKNOWN = "?"  # the graph does not say: a layer of unknown effect, or no graph at all


def _layer_activation(layer: Any) -> str | None:
    """The activation ``layer`` applies to its output; ``_UNKNOWN`` when it cannot be read."""
    import keras

    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    config = layer.get_config()
    act = config.get("activation", _UNKNOWN)
    if isinstance(act, dict):  # a serialized function or object: read its name
        act = act.get("config", act.get("class_name", _UNKNOWN))
        act = act if isinstance(act, str) else _UNKNOWN
    return None if act == "linear" else act


def _graph_activation(model: Any, index: int = 0) -> str | None:
    """The output activation read from a Sequential or functional model's graph: walk back from
    the output through activation-free layers (Dropout, Reshape, Flatten, ...) to the layer that
    sets it. ``_UNKNOWN`` for a subclassed model or a layer of unknown effect."""
    import keras

    from adamtune.training._layers import is_rewritable

    if not is_rewritable(model):
        return _UNKNOWN
    passing = tuple(getattr(keras.layers, name) for name in _PASS_THROUGH)
    if isinstance(model, keras.Sequential):
        layer = None
        for layer in reversed(model.layers):
            if not isinstance(layer, passing):
                break
    else:
        layer, node, _ = model.outputs[index]._keras_history
        while isinstance(layer, passing):
            layer, node, _ = layer._inbound_nodes[node].input_tensors[0]._keras_history
    if layer is None or isinstance(layer, (*passing, keras.layers.InputLayer)):
        return None  # the input itself: no activation
    if is_rewritable(layer):
        return _graph_activation(layer)
    return _layer_activation(layer)


def _declares(model: Any, activation: str) -> bool:
    """Whether some layer of ``model`` applies ``activation``."""
    from adamtune.training._layers import walk_layers

    return any(_layer_activation(layer) == activation for layer in walk_layers(model))


def _sample_activation(model: Any, sample: Any) -> str | None:
    """The output activation judged from outputs on a few samples, for a model without a graph.

    Rows in [0, 1] that sum to 1 over several units are a softmax. Values in [0, 1] that do not
    are sigmoids only if the model has a sigmoid layer (a linear output of an untrained model can
    fall in [0, 1] by chance). Anything else is logits.
    """
    values = np.asarray(sample, dtype=np.float64)
    if values.size == 0 or not np.isfinite(values).all():
        return None
    if values.min() < 0.0 or values.max() > 1.0:
        return None
    if values.shape[-1] > 1 and np.allclose(values.sum(axis=-1), 1.0, atol=1e-3):
        return "softmax"
    return "sigmoid" if _declares(model, "sigmoid") else None


def sample_output(model: Any, x: Any, n: int = 32) -> Any:
    """The model's output on the first ``n`` samples of ``x`` (inference mode); None on failure."""
    try:
        return model(x[:n] if isinstance(x, np.ndarray) else x, training=False)
    except Exception:  # the pre-flight has called the model already; this is a second opinion
        return None


def output_units_and_activation(
    model: Any, output_shape: Any = None, x: Any = None, index: int | None = None
) -> tuple[int, str | None]:
    """The number of output units and the output activation (``softmax``, ``sigmoid``, ...;
    ``None`` for a linear output, i.e. logits).

    The activation is read from the model's graph (:func:`_graph_activation`), never from
    ``model.layers[-1]``, so a Dropout after the softmax does not hide it. When the graph does not
    say (a subclassed model, a Lambda at the end), the model is called on a few samples of ``x``
    and its outputs judged (:func:`_sample_activation`); without ``x`` the output counts as logits.
    ``index``: which output of a model with several (``output_shape`` is then that output's).
    """
    shape = _declared_output_shape(model) if output_shape is None else output_shape
    units = int(shape[-1]) if shape[-1] is not None else 1
    activation = _graph_activation(model, index or 0)
    if activation == _UNKNOWN:
        sample = None if x is None else sample_output(model, x)
        if index is not None and sample is not None:
            sample = _nth_output(model, sample, index)
        activation = None if sample is None else _sample_activation(model, sample)
    return units, activation


def _serialize(loss: Any) -> Any:
    import keras

    return keras.losses.serialize(loss)


def _nth_output(model: Any, outputs: Any, index: int) -> Any:
    """Output ``index`` of a model's outputs, given as a dict (by output name) or a list."""
    if isinstance(outputs, dict):
        return outputs[list(model.output_names)[index]]
    return outputs[index]


def infer_loss(
    target: Target, model: Any, output_shape: Any = None, x: Any = None, index: int | None = None
) -> LossSpec:
    """The loss and metrics for ``target`` given the model's output; a mismatch is a clear error.

    ``output_shape`` is the shape of the model's output on a batch; it is needed for models that do
    not declare one (a Sequential without ``keras.Input``, subclassed models). ``x`` (a few input
    samples) lets a model whose graph does not show its output activation (a subclassed model) be
    judged from its outputs; without it such a model's output counts as logits. ``index``: the
    output of a model with several that ``target`` and ``output_shape`` describe.
    """
    import keras

    units, activation = output_units_and_activation(model, output_shape, x, index)
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
                f"Dense({target.n_classes}, activation='softmax'), or, if y is a regression "
                "target, cast it to float (y.astype('float32')) or pass loss='mse'"
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


def _loss_label(loss: Any) -> str:
    """A loss's Keras name (``MeanSquaredError``, ``mean_squared_error``); "" when unknown."""
    import keras

    try:
        obj = keras.losses.get(loss)
    except (ValueError, TypeError):
        return ""
    return (
        type(obj).__name__ if isinstance(obj, keras.losses.Loss) else getattr(obj, "__name__", "")
    )


def _loss_name(loss: Any) -> str:
    """A loss's normalized name (lower case, no underscores): ``meansquarederror``."""
    return _loss_label(loss).lower().replace("_", "")


def is_regression_loss(loss: Any) -> bool:
    """Whether ``loss`` (a name, a function, a ``keras.losses.Loss`` or its config) is one of
    Keras' regression losses."""
    return _loss_name(loss) in REGRESSION_LOSSES


def _is_classification_loss(loss: Any) -> bool:
    name = _loss_name(loss)
    return "crossentropy" in name or name.endswith("hinge")


def _ambiguous_integers(data: Prepared | Streamed, units: int, loss: Any) -> PreflightError:
    """Integer amounts (read as a regression) that the model or the loss reads as classes."""
    values, counts = np.unique(np.concatenate([data.y_train, data.y_val]), return_counts=True)
    says = (
        f"the loss {_loss_label(loss)} is for classes"
        if loss is not None
        else (f"the model outputs {units} units")
    )
    return PreflightError(
        f"y holds {len(values)} distinct integers ({int((counts == 1).sum())} seen once, minimum "
        f"{values[0]}), which adamtune reads as a regression target, but {says}; for a "
        "regression, cast y to float (y.astype('float32')) and end the model with Dense(1); for "
        "a classification, encode the classes as 0..K-1 with at least 2 samples each "
        "(sklearn.preprocessing.LabelEncoder)"
    )


def _settle_target(
    data: Prepared | Streamed, units: int, activation: str | None, loss: Any
) -> Target:
    """The target once the model's output and the loss are known.

    Integer class ids become a regression target when the loss is a regression loss, or when no
    loss is given and the model ends in a single linear unit (it cannot output 3+ classes).
    Integer amounts that ``infer_target`` read as a regression, but that a model with several
    output units or a cross-entropy/hinge loss reads as classes, are a real ambiguity: an error
    that says how to ask for either.
    """
    target, y = data.target, data.y_train
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return target
    if target.kind == "multiclass":
        single_linear = units == 1 and activation not in _PROBABILITY
        if is_regression_loss(loss) if loss is not None else single_linear:
            return Target("regression", None, 1)
        return target
    if target.kind == "regression":
        classifier = _is_classification_loss(loss) if loss is not None else units > 1
        if classifier:
            raise _ambiguous_integers(data, units, loss)
    return target


def infer_loss_and_target(
    data: Prepared | Streamed,
    model: Any,
    output_shape: Any = None,
    loss: Any = None,
    x: Any = None,
    index: int | None = None,
) -> LossSpec:
    """:func:`infer_loss` for the pre-flight, with the target settled by the model and the loss.

    When the model's output or ``loss`` says the integer labels are a regression
    (:func:`_settle_target`), ``data.target`` becomes a regression target; integer regression
    labels become float32. The trials and the stored fingerprint then agree on the target.
    ``x``: a few input samples (``data.x_train`` by default); ``index``: the output of a model with
    several that ``data`` (a one-output view) and ``output_shape`` describe.
    """
    sample = data.x_train if x is None else x
    units, activation = output_units_and_activation(model, output_shape, sample, index)
    data.target = _settle_target(data, units, activation, loss)
    if data.target.kind == "regression" and not np.issubdtype(data.y_train.dtype, np.floating):
        data.y_train = data.y_train.astype(np.float32)
        data.y_val = data.y_val.astype(np.float32)
    return infer_loss(data.target, model, output_shape, sample, index)


def chance_loss(
    target: Target, y: np.ndarray, loss: Any, weights: np.ndarray | None = None
) -> float | None:
    """The loss of a constant prediction at the label frequencies (cross-entropy losses only).

    With per-sample ``weights`` the frequencies are weighted, and so is the mean: the weighted
    ``data_loss`` of the best constant prediction.
    """
    # A loss given by name serializes as class_name "function" with the name in its config.
    name = (
        f"{loss.get('class_name', '')} {loss.get('config', '')}"
        if isinstance(loss, dict)
        else str(loss)
    )
    if "Crossentropy" not in name and "crossentropy" not in name:
        return None
    labels = y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)
    counts = np.bincount(labels, weights=weights)
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
