"""A config's loss and metrics as ``model.compile`` takes them: one, or one per output.

A config file is not trusted: its losses, metrics and optimizer become Keras objects only through
Keras' own deserialization in safe mode (:func:`safe_mode`), and a serialized object may name only
Keras' modules, or an object registered with ``@keras.saving.register_keras_serializable``, so no
module named in a file is ever imported. Keras is imported inside these functions, when a config is
checked or used, so ``import adamtune`` stays light.
"""

from __future__ import annotations

import contextlib
import copy
import types
from collections.abc import Iterator
from typing import Any

__all__ = [
    "check_loss",
    "check_metric_names",
    "check_metrics",
    "check_optimizer",
    "compile_loss",
    "copy_metrics",
    "per_output",
    "safe_mode",
    "show",
]

_SERIALIZED_KEYS = ("module", "class_name", "config", "registered_name")
# compile() picks the accuracy that fits the labels for these names; keras.metrics.get does not
# know "acc" (keras/src/trainers/compile_utils.py::get_metric).
_COMPILE_ONLY_METRICS = ("accuracy", "acc")
_HOW_TO_REGISTER = (
    "a loss or metric of your own must be registered with "
    "@keras.saving.register_keras_serializable, and the module that registers it imported before "
    "load_config"
)


@contextlib.contextmanager
def safe_mode() -> Iterator[None]:
    """Keras deserializes in safe mode inside, even after
    ``keras.config.enable_unsafe_deserialization()``: a ``safe_mode=True`` argument alone yields to
    that process-wide switch, Keras' ``SafeModeScope(True)`` does not."""
    from keras.src.saving.serialization_lib import SafeModeScope

    with SafeModeScope(True):
        yield


def per_output(loss: Any) -> bool:
    """Whether ``loss`` is a dict of losses by output name (not one serialized loss)."""
    return isinstance(loss, dict) and "class_name" not in loss


def compile_loss(loss: Any) -> Any:
    """A Keras loss from its serialized config (a name stays a name); per output when a dict of
    them keyed by output name. Deserialized in Keras' safe mode."""
    import keras

    if per_output(loss):
        return {name: compile_loss(one) for name, one in loss.items()}
    if not isinstance(loss, dict):
        return loss
    with safe_mode():
        return keras.losses.deserialize(loss)


def copy_metrics(metrics: Any) -> Any:
    """A fresh copy: a list of metric names, or a dict of such lists by output name."""
    if isinstance(metrics, dict):
        return {name: list(names) for name, names in metrics.items()}
    return list(metrics)


def check_metrics(metrics: Any) -> str | None:
    """What is wrong with the shape of ``metrics`` (a list of names, or a dict of such lists by
    output name), or None."""

    def names(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(m, str) for m in value)

    if names(metrics):
        return None
    if isinstance(metrics, dict) and all(
        isinstance(k, str) and k and names(v) for k, v in metrics.items()
    ):
        return None
    return (
        "must be a list of metric names, or a mapping of output names to such lists. "
        f"Received: {show(metrics)}"
    )


def check_metric_names(metrics: Any) -> tuple[str, str] | None:
    """For ``metrics`` of the right shape (see :func:`check_metrics`): the first name Keras does
    not know, as ``(field, why)``, or None."""
    import keras

    lists = metrics.items() if isinstance(metrics, dict) else [(None, metrics)]
    for output, names in lists:
        for i, name in enumerate(names):
            where = f"metrics[{i}]" if output is None else f"{_field('metrics', output)}[{i}]"
            if name.lower() in _COMPILE_ONLY_METRICS:
                continue
            try:
                with safe_mode():
                    keras.metrics.get(name)
            except Exception as exc:  # whatever Keras raises for a name it cannot resolve
                return where, (
                    f"is not a Keras metric name ({_keras_says(exc)}). Received: {name[:200]!r}; "
                    f"use a name such as 'mae' or 'accuracy'; {_HOW_TO_REGISTER}"
                )
    return None


def check_loss(loss: Any) -> tuple[str, str] | None:
    """What is wrong with a config's ``loss``, as ``(field, why)``, or None. A loss is a Keras loss
    name, a Keras-serialized loss (a mapping with ``class_name``), or a non-empty mapping of
    output names to such losses; each must deserialize, in Keras' safe mode, to a Keras loss."""
    if not per_output(loss):
        return _check_one_loss(loss, "loss")
    if not loss:
        return "loss", "must name at least one output's loss. Received: {}"
    for name, one in loss.items():
        if not isinstance(name, str) or not name:
            return "loss", f"output names must be non-empty strings. Received: {show(name)}"
        if per_output(one):
            return _field("loss", name), (
                "must be one loss: a name or a serialized loss with 'class_name'. "
                f"Received: {show(one)}"
            )
        problem = _check_one_loss(one, _field("loss", name))
        if problem is not None:
            return problem
    return None


def _check_one_loss(loss: Any, where: str) -> tuple[str, str] | None:
    import keras

    if isinstance(loss, str) and loss:
        try:
            with safe_mode():
                keras.losses.get(loss)
        except Exception as exc:  # whatever Keras raises for a name it cannot resolve
            return where, (
                f"is not a Keras loss name ({_keras_says(exc)}). Received: {loss[:200]!r}; use a "
                f"name such as 'mse', or a serialized loss; {_HOW_TO_REGISTER}"
            )
        return None
    if not isinstance(loss, dict):
        return where, (
            "must be a Keras loss: a name such as 'mse', a Keras-serialized loss (a mapping with "
            "'class_name'), or a mapping of output names to such losses. "
            f"Received: {show(loss)}"
        )
    problem = _check_serialized(loss, where, "loss")
    if problem is not None:
        return problem
    try:
        with safe_mode():
            made = keras.losses.deserialize(loss)
    except Exception as exc:  # a bad config raises anything from TypeError to KeyError
        return where, f"does not deserialize in Keras' safe mode ({_keras_says(exc)})"
    if not isinstance(made, keras.losses.Loss | types.FunctionType):
        return where, (
            "does not deserialize to a Keras loss (Keras gave back a "
            f"{type(made).__name__}). Received: class_name={loss['class_name'][:200]!r}"
        )
    return None


def _either(names: tuple[str, ...]) -> str:
    """``"A"``, ``"A or B"``, ``"A, B or C"``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def check_optimizer(optimizer: Any, allowed: tuple[str, ...]) -> tuple[str, str] | None:
    """What is wrong with a Keras-serialized optimizer whose class must be one of ``allowed``,
    as ``(field, why)``, or None: it must deserialize in Keras' safe mode to that class."""
    import keras

    if not isinstance(optimizer, dict) or optimizer.get("class_name") not in allowed:
        return "optimizer", (
            f"must be a Keras-serialized {_either(allowed)} config. Received: {show(optimizer)}"
        )
    problem = _check_serialized(optimizer, "optimizer", "optimizer")
    if problem is not None:
        return problem
    if optimizer.get("registered_name") is not None:
        return "optimizer.registered_name", (
            f"must be null for Keras' own {optimizer['class_name']}. "
            f"Received: {show(optimizer['registered_name'])}"
        )
    try:
        with safe_mode():
            made = keras.optimizers.deserialize(copy.deepcopy(optimizer))  # it edits in place
    except Exception as exc:  # a bad config raises anything from TypeError to KeyError
        return "optimizer", f"does not deserialize in Keras' safe mode ({_keras_says(exc)})"
    if type(made).__name__ != optimizer["class_name"]:
        return "optimizer", (
            f"deserializes to a {type(made).__name__}, not a {optimizer['class_name']}"
        )
    return None


def _check_serialized(config: dict[Any, Any], where: str, what: str) -> tuple[str, str] | None:
    """A Keras-serialized object's own keys: known, the right types, and a module that is Keras'
    own (or a registered object's), so deserializing it imports nothing named in the file."""
    unknown = [k for k in config if k not in _SERIALIZED_KEYS]
    if unknown:
        return where, (
            f"unknown key(s) {show(unknown)} in a serialized {what}; allowed: "
            f"{', '.join(_SERIALIZED_KEYS)}"
        )
    for key in ("class_name", "module", "registered_name"):
        value = config.get(key)
        if not (isinstance(value, str) or (value is None and key != "class_name")):
            return f"{where}.{key}", f"must be a string. Received: {show(value)}"
    module = config.get("module")
    if module is None or module in ("keras", "builtins") or module.startswith("keras."):
        return None
    import keras

    registered = config.get("registered_name")
    if registered is not None and keras.saving.get_registered_object(registered) is not None:
        return None
    return f"{where}.module", (
        f"names the module {module[:200]!r}: a serialized {what} may name Keras' own modules, or "
        f"an object registered under its registered_name; {_HOW_TO_REGISTER}. Nothing named in a "
        "config file is imported"
    )


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key[:200]!r}]"


def _keras_says(exc: BaseException) -> str:
    return f"Keras: {type(exc).__name__}: {str(exc)[:200]}"


def show(value: Any, cut: int = 200) -> str:
    """``value`` for a message: plain values as written (cut to ``cut`` characters), anything else
    by its type only, so no object's own ``repr`` runs."""
    if value is None or type(value) in (bool, int, float, str, list, dict):
        text = repr(value)
        return f"{text[:cut]}... ({type(value).__name__})" if len(text) > cut else text
    return f"a value of type {type(value).__name__}"
