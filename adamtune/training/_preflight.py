"""The pre-flight: build the model once and train one batch before any trial is stored."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from adamtune._errors import PreflightError
from adamtune.data import Prepared
from adamtune.params import HP, DefaultSource, sample_adam_params
from adamtune.spaces import Space
from adamtune.training._build import build_model, needs_rewrite
from adamtune.training._layers import is_rewritable
from adamtune.training._task import LossSpec, infer_loss

__all__ = ["preflight"]


def _build_once(model_fn: Callable[..., Any], space: Space) -> tuple[HP, Any]:
    source = DefaultSource()
    hp = HP(sample_adam_params(space, source), source)
    try:
        model = build_model(model_fn, hp)
    except TypeError as exc:
        if "model_fn" in str(exc):
            raise
        raise PreflightError(f"model_fn raised {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise PreflightError(f"model_fn raised {type(exc).__name__}: {exc}") from exc
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


def _loss_spec(loss: Any, metrics: list[str] | None, data: Prepared, model: Any) -> LossSpec:
    import keras

    inferred = infer_loss(data.target, model, _output_shape(model, data.x_train))
    if loss is None:
        return inferred if metrics is None else LossSpec(inferred.loss, list(metrics))
    try:
        serialized = keras.losses.serialize(keras.losses.get(loss))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"`loss` is not a Keras loss. Received: loss={loss!r} ({exc})") from None
    return LossSpec(serialized, list(metrics) if metrics is not None else inferred.metrics)


def preflight(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared,
    objective: str,
    *,
    loss: Any = None,
    metrics: list[str] | None = None,
) -> LossSpec:
    """Build, compile and fit one batch; return the loss to use. Raise :class:`PreflightError`."""
    import keras

    hp, model = _build_once(model_fn, space)
    if needs_rewrite(hp, tuple(space.regularizer), space.batch_norm) and not is_rewritable(model):
        from adamtune.training._build import _subclassed_error

        raise _subclassed_error(model)
    spec = _loss_spec(loss, metrics, data, model)
    batch = min(32, len(data.x_train))
    x, y = data.x_train[:batch], data.y_train[:batch]
    xv, yv = data.x_val[:batch], data.y_val[:batch]
    try:
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=spec.build_loss(),
            metrics=list(spec.metrics),
        )
        out = model.predict(x[:2], verbose=0)
        expected = (
            (2, *data.y_train.shape[1:]) if data.target.kind in ("onehot", "regression") else None
        )
        if (
            expected is not None
            and tuple(out.shape) != expected
            and not (
                data.target.kind == "regression" and out.shape == (2, 1) and data.y_train.ndim == 1
            )
        ):
            raise PreflightError(
                f"the model outputs shape {tuple(out.shape)} for 2 samples but the labels need "
                f"{expected}"
            )
        history = model.fit(x, y, batch_size=batch, epochs=1, validation_data=(xv, yv), verbose=0)
    except PreflightError:
        raise
    except Exception as exc:
        raise PreflightError(
            f"one training batch failed ({type(exc).__name__}: {str(exc).strip()[:500]}); "
            "check that the model's input shape matches x and its output matches y"
        ) from exc
    finally:
        keras.backend.clear_session()
    logs = {k: v[-1] for k, v in history.history.items()}
    if not math.isfinite(float(logs.get("loss", math.nan))):
        raise PreflightError(
            f"the loss of the first batch is {logs.get('loss')} at a learning rate of 1e-3; "
            "check the labels against the loss and the data for extreme values"
        )
    if objective not in logs:
        raise ValueError(
            f"`objective` {objective!r} is not logged by this model; it logs "
            f"{', '.join(sorted(logs))}. Pick one of those, or pass `metrics=` that produce it"
        )
    return spec
