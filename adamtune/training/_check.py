"""The checks every probe of a model makes before it trains: build it, call it, match it to the data.

The pre-flight, the doctor and the LR range test each need the same facts about model_fn's model
(the model itself, its output shape, the loss to train it with); :func:`check_model` learns them
once and hands them over as a :class:`ModelCheck`. Its steps are public checks of their own
(``check_output``, ``check_output_shape``, ``check_label_shape``, ``resolve_loss_spec``), as in
scikit-learn's ``utils/validation.py``: a mismatch is a :class:`~adamtune.PreflightError` (or a
ValueError for an argument) that says what disagrees and how to fix it.
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
    build_user_model,
    call_user_model,
    finish_model,
    needs_rewrite,
    subclassed_error,
)
from adamtune.training._compiled import (
    Compiled,
    loss_name,
    read_compiled,
    same_loss,
    serialized_loss,
)
from adamtune.training._layers import is_rewritable
from adamtune.training._model_facts import ModelFacts, model_facts
from adamtune.training._outputs import outputs_loss_spec, several
from adamtune.training._task import LossSpec, infer_loss_and_target

__all__ = [
    "ModelCheck",
    "check_label_shape",
    "check_model",
    "check_output",
    "check_output_shape",
    "middle_hp",
    "resolve_loss_spec",
]


@dataclass(frozen=True)
class ModelCheck:
    """What :func:`check_model` learned about model_fn's model, for the probe that trains it next.

    Attributes:
        model: the model as a trial builds it (adamtune's regularizer/BatchNorm applied), called
            once on two samples, not compiled by adamtune.
        hp: the ``hp`` it was built with (its ``user_params``, ``used_batch_norm``, ``changes``).
        loss: the loss and metrics to train with; None when ``labels=False`` (the caller judges
            the labels itself, as the doctor does).
        out_shape: the output's shape on two samples; None for a model with several outputs.
        compiled: what model_fn compiled its model with (None: not compiled, or a probe, which
            does not read it).
        facts: the user's own model, read before adamtune changed anything in it (None for a
            probe).
        notes: what the check settled that the user should hear once (integer labels trained as
            a regression).
    """

    model: Any
    hp: HP
    loss: LossSpec | None
    out_shape: tuple[int | None, ...] | None
    compiled: Compiled | None = None
    facts: ModelFacts | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def params(self) -> int:
        """The model's trainable parameter count."""
        return int(sum(int(math.prod(w.shape)) for w in self.model.trainable_weights))


def middle_hp(space: Space) -> HP:
    """The ``hp`` of a probe: the middle of each of ``space``'s ranges (``DefaultSource``), and of
    each of model_fn's own ``hp.*`` ranges as it asks for them."""
    source = DefaultSource()
    return HP(sample_adam_params(space, source), source)


def first_samples(data: Any, n: int, part: str = "train") -> tuple[Any, Any]:
    """The first ``n`` samples ``(x, y)`` of the training (or ``"val"``) data, in fit's form."""
    if hasattr(data, "head"):  # several inputs or outputs
        return data.head(n, part)
    if part == "train":
        return data.x_train[:n], data.y_train[:n]
    return data.x_val[:n], data.y_val[:n]


def check_output(model: Any, x: Any, data: Any = None) -> Any:
    """``model``'s output on two samples ``x``, checked against how many ``y`` ``data`` holds.

    The call builds a Sequential without ``keras.Input`` and a subclassed model, which declare no
    output shape before it. The output is one tensor, or a dict/list of them for a model with
    several outputs (which needs one y each). ``data=None``: any number of outputs.
    """
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


def check_output_shape(model: Any, x: Any) -> tuple[int | None, ...]:
    """The output shape of a model with one output, on the first two samples of ``x``; a model
    with several outputs is a :class:`~adamtune.PreflightError` (the doctor and the LR range test
    take one)."""
    out = check_output(model, x[:2], None)
    if several(out):
        raise PreflightError(
            f"the model has {len(out)} outputs; this check takes a model with one output"
        )
    return tuple(out.shape)


def check_label_shape(out_shape: tuple[int | None, ...], data: Prepared | Streamed) -> None:
    """One-hot and multi-output regression labels must match the output shape ``out_shape`` (on
    two samples) exactly."""
    labels = data.y_train.shape[1:]
    if data.y_train.ndim == 2 and tuple(out_shape[1:]) != tuple(labels):
        raise PreflightError(
            f"the model outputs shape {tuple(out_shape)} for 2 samples but the labels have shape "
            f"(2, {', '.join(str(n) for n in labels)})"
        )


def resolve_loss_spec(
    loss: Any,
    metrics: list[str] | None,
    data: Prepared | Streamed,
    model: Any,
    out_shape: tuple[Any, ...],
    compiled: Compiled | None = None,
    x: Any = None,
) -> LossSpec:
    """The loss and metrics to train a one-output model with: ``loss``/``metrics`` (a search's
    arguments) first, then what model_fn compiled (``compiled``), then what the labels and the
    output imply. Settles an integer target as :func:`infer_loss_and_target` does.

    A compiled loss that differs from ``loss`` is a ValueError: which one to train with is the
    user's call. ``x``: a few input samples, to judge an output activation the graph hides.
    """
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


def check_model(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared | Streamed,
    loss: Any = None,
    *,
    metrics: list[str] | None = None,
    hp: HP | None = None,
    probe: bool = False,
    labels: bool = True,
) -> ModelCheck:
    """Build model_fn's model once and check it against ``data``: what a probe needs to train it.

    The model is built with ``hp`` (by default :func:`middle_hp`: the middle of ``space``), called
    on two training samples (:func:`check_output`), its output matched to the labels
    (:func:`check_label_shape`) and the loss settled (:func:`resolve_loss_spec`; with several
    outputs, one loss per output). Seed Keras before the call for reproducible weights.

    Args:
        model_fn: returns a Keras model; takes no argument or one ``hp``.
        space: the space the model is built for.
        data: the prepared data (``adamtune.data.prepare_input``); an integer target may be
            settled as a regression here, as a search settles it.
        loss: a Keras loss overriding the inferred one (a different compiled one is an error).
        metrics: the metrics to log, overriding the compiled or inferred ones.
        probe: False for a search's pre-flight: a loss model_fn compiled is read, a model that
            some trial of ``space`` would have to rebuild must be rebuildable, and the user's own
            model is read into ``facts``. True for a probe of one model (the doctor, the LR range
            test): none of those, one output only (:func:`check_output_shape`).
        labels: False to build and call the model only (``loss`` is then None): the doctor
            judges the labels itself and turns a mismatch into a finding.

    Raises:
        PreflightError: model_fn raised, the model cannot take x, or its output does not fit y.
        ValueError: ``loss`` differs from the loss model_fn compiles.
    """
    hp = hp or middle_hp(space)
    if probe:
        return _check_probe(build_user_model(model_fn, hp), hp, data, loss, metrics, labels)
    return _check_search(model_fn, space, data, loss, metrics, hp)


def _check_probe(
    model: Any,
    hp: HP,
    data: Prepared | Streamed,
    loss: Any,
    metrics: list[str] | None,
    labels: bool,
) -> ModelCheck:
    out_shape = check_output_shape(model, data.x_train)
    spec = None
    if labels:
        check_label_shape(out_shape, data)
        spec = resolve_loss_spec(loss, metrics, data, model, out_shape)
    return ModelCheck(model, hp, spec, out_shape)


@dataclass(frozen=True)
class _Built:
    """A search's build: the trial-ready model and the user's own, before any rewrite."""

    hp: HP
    model: Any
    raw: Any
    compiled: Compiled | None


def _build_once(model_fn: Callable[..., Any], space: Space, hp: HP | None = None) -> _Built:
    """model_fn's model for ``hp`` (the middle of ``space``), and what it compiled itself (if it
    did); a model that some trial of ``space`` would rebuild must be rebuildable."""
    hp = hp or middle_hp(space)
    raw = call_user_model(model_fn, hp)
    compiled = read_compiled(raw)
    model = finish_model(raw, hp)
    if needs_rewrite(hp, tuple(space.regularizer), space.batch_norm) and not is_rewritable(model):
        raise subclassed_error(model)
    return _Built(hp, model, raw, compiled)


def _check_search(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared | Streamed,
    loss: Any,
    metrics: list[str] | None,
    hp: HP,
) -> ModelCheck:
    built = _build_once(model_fn, space, hp)
    model, compiled = built.model, built.compiled
    x2 = first_samples(data, 2)[0]
    out = check_output(model, x2, data)
    notes: tuple[str, ...] = ()
    out_shape: tuple[int | None, ...] | None = None
    if several(out):
        spec = outputs_loss_spec(data, model, out, loss, metrics, compiled, x2)
    else:
        out_shape = tuple(out.shape)
        check_label_shape(out_shape, data)
        before = data.target.kind
        spec = resolve_loss_spec(loss, metrics, data, model, out_shape, compiled, x2)
        notes = _retyped_note(before, data, spec)
    facts = _facts(built, x2, None if hasattr(data, "head") else data.x_train)
    return ModelCheck(model, built.hp, spec, out_shape, compiled, facts, notes)


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


def _retyped_note(before: str, data: Prepared | Streamed, spec: LossSpec) -> tuple[str, ...]:
    """Said once when integer labels are trained as a regression rather than as classes."""
    if data.target.kind == before:
        return ()
    return (
        f"y holds integers, trained as a {data.target.kind} target with loss "
        f"{loss_name(spec.loss)!r}, not as {before} classes (the loss is a regression loss, or "
        "the model ends in one linear unit); cast y to float to make this explicit",
    )
