"""The pre-flight: build the model once and train one batch before any trial is stored.

What it learns goes into :class:`PreflightReport`: the loss to train with (``search(loss=)``, else
what model_fn compiled, else what the labels and the output imply), what a model compiled in
model_fn hands over (``_compiled.py``), and facts about the user's own model read before adamtune
changes anything in it (``_model_facts.py``). Each thing adamtune took over, replaced or dropped is
one line of ``notes``, said once per search.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adamtune._errors import PreflightError
from adamtune.data import Prepared, Streamed
from adamtune.params import HP, DefaultSource, sample_adam_params
from adamtune.spaces import Space
from adamtune.training._build import (
    call_user_model,
    finish_model,
    needs_rewrite,
    subclassed_error,
)
from adamtune.training._compiled import (
    Compiled,
    compiled_notes,
    find_lr_params,
    loss_name,
    read_compiled,
    same_loss,
    serialized_loss,
)
from adamtune.training._layers import is_rewritable
from adamtune.training._model_facts import ModelFacts, model_facts
from adamtune.training._outputs import (
    model_io_counts,
    output_loss_sum,
    outputs_loss_spec,
    several,
)
from adamtune.training._task import LossSpec, infer_loss_and_target, monitored_key

__all__ = ["PreflightReport", "model_io", "preflight"]


@dataclass(frozen=True)
class PreflightReport:
    """What the pre-flight learned: the loss to train with and the model_fn's own parameters.

    ``user_params`` holds the pre-flight's values of the model_fn's searched parameters;
    ``lr_params`` the float parameters that are only a compiled optimizer's learning rate (not
    searched: trials answer them with their coupled learning rate); ``loss_weights`` the compiled
    loss weight (or None); ``facts`` what the user's model is, before any change (its fingerprint,
    token inputs, its own BatchNorm); ``places_batch_norm`` whether model_fn reads
    ``hp.batch_norm``; ``notes`` one line for each thing adamtune took over or replaced, to show
    once per search.
    """

    loss: LossSpec
    user_params: dict[str, Any]
    lr_params: frozenset[str] = frozenset()
    loss_weights: Any = None
    notes: list[str] = field(default_factory=list)
    facts: ModelFacts | None = None
    places_batch_norm: bool = False


@dataclass(frozen=True)
class _Built:
    """The pre-flight's build: the trial-ready model and the user's own, before any rewrite."""

    hp: HP
    model: Any
    raw: Any
    compiled: Compiled | None


def _build_once(model_fn: Callable[..., Any], space: Space) -> _Built:
    """model_fn's model for middle-of-the-range values, and what it compiled itself (if it did);
    errors in user code become PreflightError."""
    source = DefaultSource()
    hp = HP(sample_adam_params(space, source), source)
    raw = call_user_model(model_fn, hp)
    compiled = read_compiled(raw)
    model = finish_model(raw, hp)
    if needs_rewrite(hp, tuple(space.regularizer), space.batch_norm) and not is_rewritable(model):
        raise subclassed_error(model)
    return _Built(hp, model, raw, compiled)


def _inputs(data: Any, n: int, part: str = "train") -> tuple[Any, Any]:
    """The first ``n`` samples ``(x, y)`` of the training (or ``"val"``) data, in fit's form."""
    if hasattr(data, "head"):  # several inputs or outputs
        return data.head(n, part)
    if part == "train":
        return data.x_train[:n], data.y_train[:n]
    return data.x_val[:n], data.y_val[:n]


def model_io(model_fn: Callable[..., Any], space: Space) -> tuple[int, int] | None:
    """The input and output counts of model_fn's model (None when it does not declare them),
    to read an ambiguous ``data`` tuple (``adamtune.data.resolve_reading``)."""
    import keras

    try:
        return model_io_counts(_build_once(model_fn, space).raw)
    finally:
        keras.backend.clear_session()


def _facts(built: _Built, x2: Any, x: Any) -> ModelFacts:
    """The user's model read before any rewrite (called once on the two samples ``x2`` first if
    it was rebuilt unbuilt); ``x``: the training inputs (None for several inputs)."""
    raw = built.raw
    if raw is not built.model and not raw.built:
        try:
            raw(x2)
        except Exception as exc:  # the rewritten copy was callable: say what failed here
            raise PreflightError(
                f"calling model_fn's model on 2 samples of x failed ({type(exc).__name__}: "
                f"{str(exc).strip()[:500]})"
            ) from exc
    names = [*built.hp.user_params]
    return model_facts(raw, x, names)


def _model_output(model: Any, x: Any, data: Any) -> Any:
    """Call the model on two samples ``x``: this builds a Sequential without keras.Input and
    subclassed models, which declare no output shape before their first call. The output: one
    tensor, or a dict/list of them for a model with several outputs (which needs one y each)."""
    try:
        out = model(x)
    except Exception as exc:
        raise PreflightError(
            f"calling the model on 2 samples of x failed ({type(exc).__name__}: "
            f"{str(exc).strip()[:500]}); check that the model's input shape matches x"
        ) from exc
    if several(out) and getattr(data, "n_outputs", 1) == 1:
        raise PreflightError(
            f"the model has {len(out)} outputs but y is one array; give one y per output, as a "
            "list in the model's output order or a dict keyed by output name (as model.fit takes "
            "it), for example (x, [y_a, y_b])"
        )
    if not several(out) and getattr(data, "n_outputs", 1) > 1:
        raise PreflightError(
            f"y holds {data.n_outputs} outputs but the model has one; give one y, or end the "
            "model in one output per y"
        )
    return out


def _output_shape(model: Any, x: Any) -> tuple[int | None, ...]:
    """The output shape on the first two samples of ``x`` (one input, one output: the doctor)."""
    out = _model_output(model, x[:2], None)
    if several(out):
        raise PreflightError(
            f"the model has {len(out)} outputs; this check takes a model with one output"
        )
    return tuple(out.shape)


def _check_label_shape(out_shape: tuple[int | None, ...], data: Prepared | Streamed) -> None:
    """One-hot and multi-output regression labels must match the output shape exactly."""
    labels = data.y_train.shape[1:]
    if data.y_train.ndim == 2 and tuple(out_shape[1:]) != tuple(labels):
        raise PreflightError(
            f"the model outputs shape {tuple(out_shape)} for 2 samples but the labels have shape "
            f"(2, {', '.join(str(n) for n in labels)})"
        )


def _loss_spec(
    loss: Any,
    metrics: list[str] | None,
    data: Prepared | Streamed,
    model: Any,
    out_shape: tuple[Any, ...],
    compiled: Compiled | None = None,
    x: Any = None,
) -> LossSpec:
    """The search's loss and metrics: ``search(loss=, metrics=)`` first, then what model_fn
    compiled, then what the labels and the output imply. A compiled loss that differs from
    ``search(loss=...)`` is an error: which one to train with is the user's call."""
    own = None if compiled is None else compiled.loss
    compiled_loss = None if own is None else serialized_loss(own, "the loss model_fn compiles")
    asked = None if loss is None else serialized_loss(loss, "`loss`")
    if asked is not None and compiled_loss is not None and not same_loss(asked, compiled_loss):
        raise ValueError(
            f"`loss`: model_fn compiles its model with loss {loss_name(compiled_loss)!r}, but "
            f"search(loss=...) asks for {loss_name(asked)!r}; a search trains with one loss. "
            f"Received: loss={loss!r}. Remove the loss from model.compile(...) in model_fn, "
            "or drop search(loss=...), or make them the same"
        )
    inferred = infer_loss_and_target(data, model, out_shape, loss if loss is not None else own, x)
    chosen = asked if asked is not None else compiled_loss
    if chosen is None:
        chosen = inferred.loss
    chosen_metrics = (compiled.metrics if compiled is not None else []) or inferred.metrics
    return LossSpec(chosen, list(metrics) if metrics is not None else list(chosen_metrics))


def _train_one_batch(
    model: Any, spec: LossSpec, data: Prepared | Streamed, loss_weights: Any = None
) -> dict[str, float]:
    """Compile with Adam(1e-3) and fit one batch with validation; the last logged values."""
    import keras

    x, y = _inputs(data, 32)
    callbacks = [output_loss_sum(spec.outputs, loss_weights)] if spec.outputs else []
    try:
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=spec.build_loss(),
            loss_weights=loss_weights,
            metrics=spec.compile_metrics(),
        )
        history = model.fit(
            x,
            y,
            batch_size=32,
            epochs=1,
            verbose=0,
            validation_data=_inputs(data, 32, "val"),
            callbacks=callbacks,
        )
    except Exception as exc:
        raise PreflightError(
            f"one training batch failed ({type(exc).__name__}: {str(exc).strip()[:500]}); "
            "check that the model's input shape matches x and its output matches y"
        ) from exc
    finally:
        keras.backend.clear_session()
    return {k: float(v[-1]) for k, v in history.history.items()}


def _retyped_note(before: str, data: Prepared | Streamed, spec: LossSpec) -> list[str]:
    """Said once when integer labels are trained as a regression rather than as classes."""
    if data.target.kind == before:
        return []
    return [
        f"y holds integers, trained as a {data.target.kind} target with loss "
        f"{loss_name(spec.loss)!r}, not as {before} classes (the loss is a regression loss, or "
        "the model ends in one linear unit); cast y to float to make this explicit"
    ]


def preflight(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared | Streamed,
    objective: str,
    *,
    loss: Any = None,
    metrics: list[str] | None = None,
) -> PreflightReport:
    """Build, compile and fit one batch; report the loss to use. Raise :class:`PreflightError`.

    A model compiled in model_fn gives the search its loss, loss weights and metrics, unless
    ``loss``/``metrics`` are passed (a different ``loss`` is an error); its optimizer is replaced.
    """
    built = _build_once(model_fn, space)
    hp, model, compiled = built.hp, built.model, built.compiled
    x2 = _inputs(data, 2)[0]
    out = _model_output(model, x2, data)
    target_before = ""
    if several(out):
        spec = outputs_loss_spec(data, model, out, loss, metrics, compiled, x2)
    else:
        out_shape = tuple(out.shape)
        _check_label_shape(out_shape, data)
        target_before = data.target.kind
        spec = _loss_spec(loss, metrics, data, model, out_shape, compiled, x2)
    facts = _facts(built, x2, None if hasattr(data, "head") else data.x_train)
    weights = None if compiled is None else compiled.loss_weights
    logs = _train_one_batch(model, spec, data, weights)
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
    notes = _retyped_note(target_before, data, spec) if target_before else []
    lr_params: frozenset[str] = frozenset()
    if compiled is not None:
        lr_params = find_lr_params(model_fn, space, hp, compiled)
        notes += compiled_notes(compiled, spec, lr_params, metrics is not None)
    return PreflightReport(
        loss=spec,
        user_params={k: v for k, v in hp.user_params.items() if k not in lr_params},
        lr_params=lr_params,
        loss_weights=weights,
        notes=notes,
        facts=facts,
        places_batch_norm=hp.used_batch_norm,
    )
