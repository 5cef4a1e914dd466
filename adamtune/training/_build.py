"""Building and compiling one model for a trial's parameters; shared by trials and exports."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from adamtune.params import HP, AdamParams, learning_rate_schedule
from adamtune.training._layers import apply_choices, is_rewritable, make_regularizer

__all__ = [
    "build_model",
    "build_user_model",
    "call_user_model",
    "compiled_optimizer_name",
    "finish_model",
    "is_compiled",
    "make_optimizer",
    "needs_rewrite",
    "subclassed_error",
    "takes_hp",
]

ModelFn = Callable[..., Any]


def takes_hp(model_fn: ModelFn) -> bool:
    """Whether ``model_fn`` wants the ``hp`` argument (it takes one positional argument)."""
    if not callable(model_fn):
        raise TypeError(
            f"`model_fn` must be a callable returning an uncompiled keras.Model. "
            f"Received: {model_fn!r} of type {type(model_fn).__name__}"
        )
    try:
        signature = inspect.signature(model_fn)
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is p.empty]
    if len(required) > 1:
        raise TypeError(
            f"`model_fn` must take no argument or one `hp` argument. Received a function with "
            f"required parameters {[p.name for p in required]}"
        )
    return bool(positional) or any(
        p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()
    )


def subclassed_error(model: Any) -> TypeError:
    return TypeError(
        f"model_fn returned a subclassed model ({type(model).__name__}), whose layers adamtune "
        "cannot rebuild to add the trial's regularizer or BatchNorm. Let model_fn take an `hp` "
        "argument and use `hp.regularizer()` for kernel_regularizer and `hp.batch_norm` to place "
        "BatchNormalization, or restrict the space to regularizer none/adamw and batch_norm [false]"
    )


def build_user_model(model_fn: ModelFn, hp: HP) -> Any:
    """``build_model`` for a probe before any trial (pre-flight, LR range test, doctor): an error
    in the user's code becomes a :class:`~adamtune.PreflightError` naming it."""
    return finish_model(call_user_model(model_fn, hp), hp)


def call_user_model(model_fn: ModelFn, hp: HP) -> Any:
    """What ``model_fn`` returns, as it returns it (perhaps compiled); an error in the user's code
    becomes a :class:`~adamtune.PreflightError` naming it."""
    from adamtune._errors import PreflightError

    try:
        return model_fn(hp) if takes_hp(model_fn) else model_fn()
    except Exception as exc:
        raise PreflightError(
            f"model_fn raised {type(exc).__name__}: {exc}{_hp_hint(model_fn)}"
        ) from exc


def _hp_hint(model_fn: ModelFn) -> str:
    """When ``model_fn``'s first parameter has a default and another name than ``hp``, adamtune
    still passed ``hp`` there (takes_hp): say so, the likeliest cause of the error."""
    try:
        first = next(iter(inspect.signature(model_fn).parameters.values()), None)
    except (TypeError, ValueError):
        return ""
    if first is None or first.default is first.empty or first.name == "hp":
        return ""
    return (
        f". Note: adamtune passed its `hp` as model_fn's first argument `{first.name}` (default "
        f"{first.default!r}); take `hp` first, or pass a function of no argument (e.g. "
        f"`lambda: {getattr(model_fn, '__name__', 'model_fn')}()`)"
    )


def build_model(model_fn: ModelFn, hp: HP) -> Any:
    """Call ``model_fn`` and apply the regularizer/BatchNorm it did not apply itself."""
    return finish_model(model_fn(hp) if takes_hp(model_fn) else model_fn(), hp)


def finish_model(model: Any, hp: HP) -> Any:
    """Check what a model_fn returned and apply the choices it left to adamtune.

    A model compiled in model_fn is accepted: the trial compiles it again, with its own Adam or
    AdamW and the search's loss (the compiled loss, found by the pre-flight), and the replaced
    optimizer is recorded in ``hp.changes``.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            "model_fn must return an uncompiled keras.Model. "
            f"It returned: {model!r} of type {type(model).__name__}"
        )
    if is_compiled(model):
        # Its loss and metrics became the search's at the pre-flight; its optimizer goes when the
        # trial compiles the model again with make_optimizer(hp.adam).
        hp.record_change(
            f"optimizer {compiled_optimizer_name(model)} compiled in model_fn replaced by the "
            f"trial's {'AdamW' if hp.adam.regularizer == 'adamw' else 'Adam'}"
        )
    if hp.answered_learning_rate:
        hp.record_change(
            "model_fn's float 'learning_rate' answered with the trial's learning rate, not "
            "sampled from its own range"
        )
    adam = hp.adam
    regularizer = (
        None
        if hp.used_regularizer
        else make_regularizer(adam.regularizer, adam.regularizer_strength)
    )
    batch_norm = adam.batch_norm and not hp.used_batch_norm
    if (regularizer is not None or batch_norm) and not is_rewritable(model):
        raise subclassed_error(model)
    model, changes = apply_choices(model, regularizer, batch_norm)
    for change in changes:
        hp.record_change(change)
    return model


def is_compiled(model: Any) -> bool:
    """Whether ``model`` (a keras.Model) was compiled, in model_fn for instance."""
    return bool(getattr(model, "compiled", False))


def compiled_optimizer_name(model: Any) -> str:
    """The class name of a compiled model's optimizer (``"SGD"``, ``"Adam"``)."""
    return type(getattr(model, "optimizer", None)).__name__


def needs_rewrite(
    hp: HP, space_regularizers: tuple[str, ...], space_batch_norm: tuple[bool, ...]
) -> bool:
    """Whether some trial of the space would have adamtune rebuild the model."""
    layer_regs = any(kind in ("l1", "l2", "l1_l2") for kind in space_regularizers)
    return (layer_regs and not hp.used_regularizer) or (
        True in space_batch_norm and not hp.used_batch_norm
    )


def make_optimizer(adam: AdamParams) -> Any:
    """Adam, Nesterov Adam (Nadam), or AdamW for decoupled weight decay (Nadam with its
    ``weight_decay`` when the trial chose Nadam), with the trial's numbers, learning-rate schedule
    and gradient clipping."""
    import keras

    common: dict[str, Any] = {
        "learning_rate": learning_rate_schedule(adam),
        "beta_1": adam.beta_1,
        "beta_2": adam.beta_2,
        "epsilon": adam.epsilon,
    }
    for key in ("global_clipnorm", "clipnorm"):
        if getattr(adam, key) is not None:
            common[key] = getattr(adam, key)
    if adam.regularizer == "adamw":
        common["weight_decay"] = adam.regularizer_strength
    if adam.optimizer == "nadam":
        return keras.optimizers.Nadam(name="adamtune_nadam", **common)
    if adam.regularizer == "adamw":
        return keras.optimizers.AdamW(name="adamtune_adamw", **common)
    return keras.optimizers.Adam(name="adamtune_adam", **common)
