"""A model compiled inside model_fn: what the search keeps from it and what it replaces.

KerasTuner's guides compile in ``build_model``: the loss, loss weights and metrics are kept, the
optimizer is replaced in every trial by the Adam/AdamW being tuned, and a float parameter whose
only use is the compiled optimizer's learning rate (the guides' ``hp.Float("lr", ...)``) is found
here, so trials answer it with their own coupled learning rate instead of searching it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adamtune.params import HP, DefaultSource, sample_adam_params
from adamtune.spaces import Space
from adamtune.training._build import call_user_model, compiled_optimizer_name, is_compiled
from adamtune.training._task import LossSpec

__all__ = [
    "ADAM_FAMILY",
    "Compiled",
    "compiled_notes",
    "compiled_settings",
    "find_lr_params",
    "loss_name",
    "read_compiled",
    "same_loss",
    "serialized_loss",
]


@dataclass(frozen=True)
class Compiled:
    """What a model_fn's own ``model.compile(...)`` set: kept (loss, weights, metrics) or
    replaced (the optimizer)."""

    optimizer: str
    learning_rate: float | None
    loss: Any  # as get_compile_config() holds it; None when compiled without a loss
    loss_weights: Any
    metrics: list[str]
    dropped_metrics: list[str]
    weighted_metrics: bool
    # Per-output metric names of a model with several outputs (compile(metrics={out: [...]})).
    output_metrics: dict[str, list[str]] | None = None


ADAM_FAMILY = ("Adam", "AdamW", "Adamax", "Nadam")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _metric_name(metric: Any) -> str | None:
    """A compiled metric as a name a study can store: a string as it is; a Keras metric object
    by its name when that name gives back the same metric with the same settings."""
    import keras

    if isinstance(metric, str):
        return metric
    if not isinstance(metric, dict) or not isinstance(metric.get("config"), dict):
        return None
    name = _snake(str(metric.get("class_name", "")))
    try:
        again = keras.metrics.get(name)
    except (ValueError, TypeError):
        return None
    if not isinstance(again, keras.metrics.Metric):
        return None
    mine = {k: v for k, v in metric["config"].items() if k != "name"}
    theirs = {k: v for k, v in again.get_config().items() if k != "name"}
    return name if type(again).__name__ == metric.get("class_name") and mine == theirs else None


def _compiled_metrics(metrics: Any) -> tuple[list[str], list[str]]:
    """The compiled metrics a study can store by name, and the others (described)."""
    if metrics is None:
        return [], []
    if not isinstance(metrics, list | tuple):  # per-output metrics: a single output here
        return [], [repr(metrics)]
    names = [_metric_name(m) for m in metrics]
    dropped = [
        str(m.get("class_name")) if isinstance(m, dict) else repr(m)
        for m, name in zip(metrics, names, strict=True)
        if name is None
    ]
    return [n for n in names if n is not None], dropped


def _learning_rate(optimizer: Any) -> float | None:
    try:
        return float(optimizer.learning_rate)
    except (AttributeError, TypeError, ValueError):
        return None


def read_compiled(model: Any) -> Compiled | None:
    """What model_fn compiled into ``model``; None for a model it left uncompiled."""
    import keras

    if not isinstance(model, keras.Model) or not is_compiled(model):
        return None
    return compiled_settings(model)


def compiled_settings(model: Any) -> Compiled:
    """The loss, loss weights, metrics and optimizer of a model compiled in model_fn."""
    try:
        config = model.get_compile_config() or {}
    except Exception:  # a custom object Keras cannot serialize: fall back to what it holds
        config = {"loss": getattr(model, "loss", None)}
    names, dropped = _compiled_metrics(config.get("metrics"))
    return Compiled(
        optimizer=compiled_optimizer_name(model),
        learning_rate=_learning_rate(getattr(model, "optimizer", None)),
        loss=config.get("loss"),
        loss_weights=config.get("loss_weights"),
        metrics=names,
        dropped_metrics=dropped,
        weighted_metrics=bool(config.get("weighted_metrics")),
        output_metrics=_output_metrics(config.get("metrics")),
    )


def _output_metrics(metrics: Any) -> dict[str, list[str]] | None:
    """``compile(metrics={output: [...]})`` as names per output (those a study can store)."""
    if not isinstance(metrics, dict):
        return None
    out: dict[str, list[str]] = {}
    for name, listed in metrics.items():
        listed = listed if isinstance(listed, list | tuple) else [listed]
        out[str(name)] = [m for m in (_metric_name(x) for x in listed) if m is not None]
    return out


def serialized_loss(loss: Any, what: str) -> Any:
    import keras

    try:
        return keras.losses.serialize(keras.losses.get(loss))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{what} is not a Keras loss. Received: loss={loss!r} ({exc})") from None


def _loss_key(serialized: Any) -> tuple[str, Any]:
    """What two losses must share to be the same loss: the name, and the settings when both are
    loss objects (``"categorical_crossentropy"`` equals ``CategoricalCrossentropy()``)."""
    if not isinstance(serialized, dict):
        return str(serialized), None
    config = serialized.get("config")
    if serialized.get("class_name") == "function" or not isinstance(config, dict):
        return str(config), None
    rest = {k: v for k, v in config.items() if k not in ("name", "reduction")}
    return str(config.get("name", _snake(str(serialized.get("class_name"))))), rest


def same_loss(a: Any, b: Any) -> bool:
    (name_a, rest_a), (name_b, rest_b) = _loss_key(a), _loss_key(b)
    return name_a == name_b and (rest_a is None or rest_b is None or rest_a == rest_b)


def loss_name(serialized: Any) -> str:
    """A loss config's name for messages (``categorical_crossentropy``)."""
    return _loss_key(serialized)[0]


class _Moved(DefaultSource):
    """The pre-flight's values, except ``name``: moved to another value of its range, to see
    whether the compiled optimizer's learning rate follows it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def float(
        self, name: str, low: float, high: float, log: bool, *args: Any, **kwargs: Any
    ) -> float:
        value = super().float(name, low, high, log, *args, **kwargs)
        if name != self.name:
            return value
        return low if value != low else high

    def choice(self, name: str, choices: Sequence[Any], **kwargs: Any) -> Any:
        value = super().choice(name, choices, **kwargs)
        if name != self.name or len(choices) < 2:
            return value
        return choices[-1] if value != choices[-1] else choices[0]


def _is_lr(value: Any, learning_rate: float) -> bool:
    return (
        isinstance(value, float) and value > 0 and math.isclose(value, learning_rate, rel_tol=1e-5)
    )


def find_lr_params(
    model_fn: Callable[..., Any], space: Space, hp: HP, compiled: Compiled
) -> frozenset[str]:
    """The float parameters whose value is the compiled optimizer's learning rate, checked by
    building the model again with each one moved: the learning rate must follow it."""
    import keras

    lr = compiled.learning_rate
    if lr is None:
        return frozenset()
    found = set()
    for name, value in hp.user_params.items():
        if not _is_lr(value, lr):
            continue
        source = _Moved(name)
        again = HP(sample_adam_params(space, source), source)
        try:
            model = call_user_model(model_fn, again)
            moved = again.user_params.get(name)
            new_lr = _learning_rate(getattr(model, "optimizer", None))
        finally:
            keras.backend.clear_session()
        if moved != value and new_lr is not None and _is_lr(moved, new_lr):
            found.add(name)
    return frozenset(found)


def compiled_notes(
    compiled: Compiled, spec: LossSpec, lr_params: frozenset[str], metrics_given: bool
) -> list[str]:
    """One line for each thing adamtune takes from, or replaces in, a model compiled in model_fn."""
    lr = "" if compiled.learning_rate is None else f"(learning_rate={compiled.learning_rate:.3g})"
    family = (
        ""
        if compiled.optimizer in ADAM_FAMILY
        else f"; {compiled.optimizer} is not an Adam-family optimizer, its own settings are dropped"
    )
    kept = "kept" if compiled.loss is not None else "none compiled, inferred"
    notes = [
        f"model_fn compiles its model: loss {loss_name(spec.loss)!r} ({kept}), metrics "
        f"{spec.metrics}; its optimizer {compiled.optimizer}{lr} is replaced in every trial by "
        f"adamtune's Adam/AdamW{family}"
    ]
    for name in sorted(lr_params):
        notes.append(
            f"parameter {name!r} is only the compiled optimizer's learning rate: it is not "
            "searched; each trial answers it with its own coupled learning rate (hp.learning_rate)"
        )
    if compiled.loss_weights is not None:
        notes.append(
            f"loss_weights={compiled.loss_weights!r} from model.compile is kept in every trial; "
            "cfg.compile_kwargs() does not carry it: pass it to model.compile yourself"
        )
    if compiled.dropped_metrics and not metrics_given:
        notes.append(
            f"compiled metric(s) {', '.join(compiled.dropped_metrics)} cannot be stored by name "
            "and are not used; pass search(metrics=[...]) with metric names to log them"
        )
    if metrics_given and compiled.metrics:
        notes.append(f"search(metrics=...) replaces the compiled metrics {compiled.metrics}")
    if compiled.weighted_metrics:
        notes.append("weighted_metrics from model.compile are not used by the search")
    return notes
