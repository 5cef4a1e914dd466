"""Models with several outputs: one loss and one set of metrics per output, and one objective.

Keras logs each output's loss as ``<output>_loss`` (and ``val_<output>_loss``): the mean of that
output's loss over the batch's samples (times their sample weights), before its loss weight and
without the L1/L2 penalty, which Keras adds to ``loss`` only. :class:`OutputLossSum` writes their
weighted sum as ``data_loss`` / ``val_data_loss``, so a loss objective ranks trials without the
penalty, as it does for one output. Metrics are named ``<output>_<metric>``: an objective such as
``val_head_a_accuracy`` watches one output.
"""

from __future__ import annotations

from typing import Any

from adamtune._errors import PreflightError
from adamtune.data import Prepared
from adamtune.training._compiled import Compiled, serialized_loss
from adamtune.training._task import DATA_LOSS, LossSpec, infer_loss_and_target

__all__ = [
    "model_io_counts",
    "output_loss_sum",
    "output_names",
    "outputs_loss_spec",
    "several",
]


def output_names(model: Any) -> list[str]:
    """The model's output names, in its order (Keras 3 functional models and Sequentials)."""
    names = getattr(model, "output_names", None)
    if not names:
        raise PreflightError(
            f"{type(model).__name__} returns several outputs but does not name them; build it "
            "with the functional API (keras.Model(inputs, outputs)) so each output has a name"
        )
    return list(names)


def model_io_counts(model: Any) -> tuple[int, int] | None:
    """How many inputs and outputs ``model`` declares; None when it does not say (a subclassed
    model before its first call)."""
    import keras

    if isinstance(model, keras.Sequential):
        return 1, 1
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not inputs or not outputs:
        return None
    return len(inputs), len(outputs)


def _weights_by_name(loss_weights: Any, names: list[str]) -> dict[str, float]:
    if loss_weights is None:
        return dict.fromkeys(names, 1.0)
    if isinstance(loss_weights, dict):
        return {n: float(loss_weights.get(n, 1.0)) for n in names}
    if isinstance(loss_weights, list | tuple):
        return {n: float(w) for n, w in zip(names, loss_weights, strict=True)}
    return dict.fromkeys(names, float(loss_weights))


def output_loss_sum(names: tuple[str, ...], loss_weights: Any = None) -> Any:
    """A callback writing ``data_loss``/``val_data_loss`` into each epoch's logs: the sum of the
    outputs' logged losses times their loss weights. Put it first: later callbacks (the guard,
    the engine's reporter) and the history read the same logs."""
    import keras

    weights = _weights_by_name(loss_weights, list(names))

    class OutputLossSum(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if logs is None:
                return
            for prefix in ("", "val_"):
                keys = [f"{prefix}{n}_loss" for n in names]
                if all(k in logs for k in keys):
                    logs[f"{prefix}{DATA_LOSS}"] = sum(
                        weights[n] * float(logs[k]) for n, k in zip(names, keys, strict=True)
                    )

    return OutputLossSum()


def _per_output(value: Any, names: list[str], what: str) -> dict[str, Any]:
    """``value`` (one for all outputs, a list in output order, or a dict by name) by name."""
    if value is None:
        return {}
    if isinstance(value, dict) and set(value) <= set(names) and value:
        return dict(value)
    if isinstance(value, dict) and "class_name" in value:  # one serialized loss
        return dict.fromkeys(names, value)
    if isinstance(value, dict):
        raise ValueError(
            f"`{what}` names outputs {sorted(set(value) - set(names))} the model does not have. "
            f"Received: {what} keys {sorted(value)}; the model's outputs are {names}"
        )
    if isinstance(value, list | tuple) and len(value) == len(names) and what == "loss":
        return dict(zip(names, value, strict=True))
    if isinstance(value, list | tuple) and what == "loss":
        raise ValueError(
            f"`loss` as a list needs one loss per output ({len(names)}: {names}). Received "
            f"{len(value)}; pass a dict keyed by output name"
        )
    return dict.fromkeys(names, value)


def _metric_lists(metrics: Any, names: list[str]) -> dict[str, list[str]] | None:
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {n: list(_per_output(metrics, names, "metrics").get(n) or []) for n in names}
    return {n: list(metrics) for n in names}


def _view(data: Any, j: int) -> Prepared:
    """Output ``j`` of ``data`` (a ``Multi``) as a one-output ``Prepared`` for the loss rules."""
    return Prepared(
        data.inputs_train[0],
        data.outputs_train[j],
        data.inputs_val[0],
        data.outputs_val[j],
        data.targets[j],
    )


def outputs_loss_spec(
    data: Any,
    model: Any,
    outputs: Any,
    loss: Any,
    metrics: Any,
    compiled: Compiled | None,
    x: Any,
) -> LossSpec:
    """The losses and metrics of a model with several outputs, by output name.

    Per output: ``search(loss=...)`` (one loss for all, a list in output order, or a dict by
    name), else the loss model_fn compiled for it, else the loss its labels and its output imply,
    as for one output. ``data`` (a ``Multi``) gets each output's settled target.
    """
    names = output_names(model)
    if len(names) != data.n_outputs:
        raise PreflightError(
            f"the model has {len(names)} outputs ({', '.join(names)}) but y holds "
            f"{data.n_outputs}; give one y per output, as a list in output order or a dict by name"
        )
    if data.output_names is not None and set(data.output_names) != set(names):
        raise PreflightError(
            f"y is keyed {sorted(data.output_names)} but the model's outputs are named {names}; "
            "key y by the output names (the name= of each output layer)"
        )
    order = (
        [data.output_names.index(n) for n in names]
        if data.output_names
        else list(range(len(names)))
    )
    shapes = [outputs[n] for n in names] if isinstance(outputs, dict) else list(outputs)
    asked = _per_output(loss, names, "loss")
    own = _per_output(None if compiled is None else compiled.loss, names, "loss")
    own_metrics = None if compiled is None else _metric_lists(compiled.output_metrics, names)
    losses: dict[str, Any] = {}
    chosen_metrics: dict[str, list[str]] = {}
    for i, (name, j) in enumerate(zip(names, order, strict=True)):
        raw = asked.get(name, own.get(name))
        view = _view(data, j)
        label = data.output_label(j)
        shape = tuple(shapes[i].shape)
        if view.y_train.ndim == 2 and shape[1:] != view.y_train.shape[1:]:
            raise PreflightError(
                f"output {name!r} has shape {shape} for 2 samples but {label} has shape "
                f"(2, {', '.join(str(d) for d in view.y_train.shape[1:])})"
            )
        try:
            inferred = infer_loss_and_target(view, model, shape, raw, x=x, index=i)
        except PreflightError as exc:
            raise PreflightError(f"output {name!r} ({label}): {exc}") from None
        data.targets[j] = view.target
        data.outputs_train = (*data.outputs_train[:j], view.y_train, *data.outputs_train[j + 1 :])
        data.outputs_val = (*data.outputs_val[:j], view.y_val, *data.outputs_val[j + 1 :])
        losses[name] = (
            inferred.loss if raw is None else serialized_loss(raw, f"the loss of {name!r}")
        )
        chosen_metrics[name] = list(inferred.metrics)
    picked = _metric_lists(metrics, names) or own_metrics or chosen_metrics
    return LossSpec(losses, picked, tuple(names))


def several(out: Any) -> bool:
    """Whether a model's output on a batch is several tensors (a dict, list or tuple)."""
    return isinstance(out, dict | list | tuple)
