"""The pre-flight: build the model once and train one batch before any trial is stored."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adamtune._errors import PreflightError
from adamtune.data import Prepared
from adamtune.params import HP, DefaultSource, sample_adam_params
from adamtune.spaces import Space
from adamtune.training._build import build_user_model, needs_rewrite, subclassed_error
from adamtune.training._layers import is_rewritable
from adamtune.training._task import LossSpec, infer_loss, monitored_key

__all__ = ["PreflightReport", "preflight"]


@dataclass(frozen=True)
class PreflightReport:
    """What the pre-flight learned: the loss to train with and the model_fn's own parameters."""

    loss: LossSpec
    user_params: dict[str, Any]


def _build_once(model_fn: Callable[..., Any], space: Space) -> tuple[HP, Any]:
    """model_fn's model for middle-of-the-range values; errors in user code become PreflightError."""
    source = DefaultSource()
    hp = HP(sample_adam_params(space, source), source)
    model = build_user_model(model_fn, hp)
    if needs_rewrite(hp, tuple(space.regularizer), space.batch_norm) and not is_rewritable(model):
        raise subclassed_error(model)
    return hp, model


def _output_shape(model: Any, x: Any) -> tuple[int | None, ...]:
    """Call the model on two samples: this builds a Sequential without keras.Input and
    subclassed models, which declare no output shape before their first call."""
    try:
        out = model(x[:2])
    except Exception as exc:
        raise PreflightError(
            f"calling the model on 2 samples of x failed ({type(exc).__name__}: "
            f"{str(exc).strip()[:500]}); check that the model's input shape matches x"
        ) from exc
    if not hasattr(out, "shape"):
        raise PreflightError(
            "model_fn returned a model with several outputs; adamtune tunes single-output models"
        )
    return tuple(out.shape)


def _check_label_shape(out_shape: tuple[int | None, ...], data: Prepared) -> None:
    """One-hot and multi-output regression labels must match the output shape exactly."""
    labels = data.y_train.shape[1:]
    if data.y_train.ndim == 2 and tuple(out_shape[1:]) != tuple(labels):
        raise PreflightError(
            f"the model outputs shape {tuple(out_shape)} for 2 samples but the labels have shape "
            f"(2, {', '.join(str(n) for n in labels)})"
        )


def _loss_spec(
    loss: Any, metrics: list[str] | None, data: Prepared, model: Any, out_shape: tuple[Any, ...]
) -> LossSpec:
    import keras

    inferred = infer_loss(data.target, model, out_shape)
    if loss is None:
        return inferred if metrics is None else LossSpec(inferred.loss, list(metrics))
    try:
        serialized = keras.losses.serialize(keras.losses.get(loss))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"`loss` is not a Keras loss. Received: loss={loss!r} ({exc})") from None
    return LossSpec(serialized, list(metrics) if metrics is not None else inferred.metrics)


def _train_one_batch(model: Any, spec: LossSpec, data: Prepared) -> dict[str, float]:
    """Compile with Adam(1e-3) and fit one batch with validation; the last logged values."""
    import keras

    n = min(32, len(data.x_train))
    try:
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=spec.build_loss(),
            metrics=spec.compile_metrics(),
        )
        history = model.fit(
            data.x_train[:n],
            data.y_train[:n],
            batch_size=n,
            epochs=1,
            verbose=0,
            validation_data=(data.x_val[:n], data.y_val[:n]),
        )
    except Exception as exc:
        raise PreflightError(
            f"one training batch failed ({type(exc).__name__}: {str(exc).strip()[:500]}); "
            "check that the model's input shape matches x and its output matches y"
        ) from exc
    finally:
        keras.backend.clear_session()
    return {k: float(v[-1]) for k, v in history.history.items()}


def preflight(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared,
    objective: str,
    *,
    loss: Any = None,
    metrics: list[str] | None = None,
) -> PreflightReport:
    """Build, compile and fit one batch; report the loss to use. Raise :class:`PreflightError`."""
    hp, model = _build_once(model_fn, space)
    out_shape = _output_shape(model, data.x_train)
    _check_label_shape(out_shape, data)
    spec = _loss_spec(loss, metrics, data, model, out_shape)
    logs = _train_one_batch(model, spec, data)
    if not math.isfinite(logs.get("loss", math.nan)):
        raise PreflightError(
            f"the loss of the first batch is {logs.get('loss')} at a learning rate of 1e-3; "
            "check the labels against the loss and the data for extreme values"
        )
    if monitored_key(objective) not in logs:
        shown = sorted(k for k in logs if "data_loss" not in k)
        raise ValueError(
            f"`objective` {objective!r} is not logged by this model; it logs "
            f"{', '.join(shown)}. Pick one of those, or pass `metrics=` that produce it"
        )
    return PreflightReport(loss=spec, user_params=hp.user_params)
