"""Checking a config mapping read from a file before it becomes a TunedConfig.

This module knows the file format, not the class: :func:`config_fields` gives the checked
keyword arguments, and ``TunedConfig.from_dict`` (in ``_config``, which imports this module, never
the other way round) builds the config from them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from adamtune.data import CLASS_WEIGHT_MODES
from adamtune.params import RESERVED, AdamParams, needs_steps, schedule_config
from adamtune.result._losses import (
    check_loss,
    check_metric_names,
    check_metrics,
    check_optimizer,
    show,
)
from adamtune.spaces import OPTIMIZERS, REGULARIZERS, SCALERS, SCHEDULES, check_bounded

# The format number every config file holds (``TunedConfig.to_dict`` writes it); a file with
# another number is refused.
FORMAT_VERSION = 1

_TOP = (
    "format",
    "study",
    "trial",
    "objective",
    "value",
    "adam",
    "fit",
    "optimizer",
    "loss",
    "metrics",
    "loss_weights",
    "user_params",
    "changes",
)
_OPTIMIZERS = ("Adam", "AdamW", "Nadam")
_FIT = ("batch_size", "epochs", "class_weight")
# batch_size and epochs: Keras and TensorFlow count batches and epochs in int32 in places, and no
# training needs more.
_MAX_COUNT = 2**31 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def _fail(source: str, fieldname: str, message: str) -> ValueError:
    return ValueError(f"{source}: field `{fieldname}`: {message}")


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"


def _check_text(text: str, where: str, source: str | None) -> None:
    """Refuse a string holding a surrogate code point: it is not Unicode text, and JSON would read
    a high one followed by a low one back as the single character they encode."""
    found = _SURROGATE.search(text)
    if found is None:
        return
    action = f"cannot export field `{where}`" if source is None else f"{source}: field `{where}`"
    raise ValueError(
        f"{action}: configs hold Unicode text only, and this one holds the surrogate code point "
        f"U+{ord(found.group()):04X} at index {found.start()}, which a file cannot hold as "
        "written. Received: a string with a surrogate. Decode the text that produced it properly"
    )


def _check_finite(value: Any, where: str, source: str | None) -> None:
    if isinstance(value, str):
        _check_text(value, where, source)
    if isinstance(value, float) and not math.isfinite(value):
        action = (
            f"cannot export field `{where}`" if source is None else f"{source}: field `{where}`"
        )
        raise ValueError(
            f"{action}: configs hold finite numbers only (JSON has no NaN or Infinity). "
            f"Received: {where}={value!r}. Replace it with a finite number, or with a string such "
            "as 'inf' that your code converts"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _check_text(key, _field(where, "<key>"), source)
            _check_finite(item, _field(where, str(key)), source)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{where}[{index}]", source)


def check_finite_fields(data: dict[str, Any], source: str | None = None) -> None:
    """Refuse NaN and +/-inf anywhere in a config mapping, and text holding a surrogate code point,
    naming the field (and ``source``, the file or ``<dict>`` it was read from; None when it is
    being exported).

    JSON has no token for them (``NaN``/``Infinity`` are not JSON, and strict readers refuse them)
    and a ``.py`` literal would need a call, so every format holds finite numbers only: the
    exporter refuses to write one, and ``load_config``/``TunedConfig.from_dict`` refuse a
    hand-edited file or mapping that holds one (JSON's ``NaN``, YAML's ``.inf``).
    """
    for key, value in data.items():
        if isinstance(key, str):
            _check_text(key, "<key>", source)
        _check_finite(value, str(key), source)


def _number(source: str, value: Any, fieldname: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, fieldname, f"must be a finite number. Received: {show(value)}")
    if positive and value <= 0:
        raise _fail(source, fieldname, f"must be > 0. Received: {value!r}")
    return float(value)


def _count(source: str, value: Any, fieldname: str) -> int:
    """A positive int up to :data:`_MAX_COUNT` (a batch size, a number of epochs)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(source, fieldname, f"must be a positive integer. Received: {show(value)}")
    if value > _MAX_COUNT:
        raise _fail(source, fieldname, f"must be at most {_MAX_COUNT}. Received: {value}")
    return value


def _unknown(mapping: dict[Any, Any], allowed: tuple[str, ...]) -> list[Any]:
    return [key for key in mapping if key not in allowed]


def _adam(source: str, raw: Any) -> AdamParams:
    if not isinstance(raw, dict):
        raise _fail(source, "adam", f"must be a mapping. Received: {show(raw)}")
    unknown = _unknown(raw, tuple(AdamParams.__dataclass_fields__))
    if unknown:
        raise _fail(source, "adam", f"unknown key(s) {show(unknown)}")
    for key in ("learning_rate", "batch_size"):
        if key not in raw:
            raise _fail(source, f"adam.{key}", "is required")
    _count(source, raw["batch_size"], "adam.batch_size")
    for key, allowed, default in (
        ("regularizer", REGULARIZERS, "none"),
        ("class_weight", CLASS_WEIGHT_MODES, "none"),
        ("scaling", SCALERS, "none"),
        ("optimizer", OPTIMIZERS, "adam"),
        ("schedule", SCHEDULES, "constant"),
    ):
        if raw.get(key, default) not in allowed:
            raise _fail(
                source,
                f"adam.{key}",
                f"must be one of {', '.join(allowed)}. Received: {raw.get(key)!r}",
            )
    if raw.get("decay_steps") is not None:
        _count(source, raw["decay_steps"], "adam.decay_steps")
    if not isinstance(raw.get("batch_norm", False), bool):
        raise _fail(
            source, "adam.batch_norm", f"must be true or false. Received: {raw.get('batch_norm')!r}"
        )
    numbers = {
        k: _number(source, raw[k], f"adam.{k}", positive=k != "regularizer_strength")
        for k in (
            "learning_rate",
            "regularizer_strength",
            "beta_1",
            "beta_2",
            "epsilon",
            "base_learning_rate",
            "global_clipnorm",
            "clipnorm",
        )
        if raw.get(k) is not None
    }
    if "global_clipnorm" in numbers and "clipnorm" in numbers:
        raise _fail(
            source,
            "adam.clipnorm",
            "must be null when adam.global_clipnorm is set (Keras clips one way at a time). "
            f"Received: clipnorm={numbers['clipnorm']!r}, "
            f"global_clipnorm={numbers['global_clipnorm']!r}",
        )
    for key, high in (("warmup", 0.5), ("decay_to", 1.0)):
        if raw.get(key) is not None:
            value = _number(source, raw[key], f"adam.{key}", positive=False)
            if not 0 <= value <= high:
                raise _fail(
                    source, f"adam.{key}", f"must lie in [0, {high:g}]. Received: {value!r}"
                )
            numbers[key] = value
    _check_adam_ranges(source, numbers)
    adam = AdamParams(**{**raw, **numbers})
    if needs_steps(adam) and adam.decay_steps is None:
        raise _fail(
            source,
            "adam.decay_steps",
            f"is required by a {adam.schedule} schedule with warmup {adam.warmup:g}",
        )
    return adam


def _check_adam_ranges(source: str, numbers: dict[str, float]) -> None:
    """Adam's own rules (Keras' too): betas in (0, 1), epsilon > 0; a regularizer strength >= 0."""
    for key in ("beta_1", "beta_2"):
        if key in numbers and not numbers[key] < 1:
            raise _fail(source, f"adam.{key}", f"must be in (0, 1). Received: {numbers[key]!r}")
    strength = numbers.get("regularizer_strength", 0.0)
    if strength < 0:
        raise _fail(source, "adam.regularizer_strength", f"must be >= 0. Received: {strength!r}")


def _check_optimizer_matches(source: str, optimizer: dict[str, Any], adam: AdamParams) -> None:
    """The optimizer config is what compile_kwargs() builds: it must agree with ``adam``."""
    config = optimizer.get("config")
    if not isinstance(config, dict):
        raise _fail(source, "optimizer.config", f"must be a mapping. Received: {show(config)}")
    expected = {"nadam": "Nadam"}.get(
        adam.optimizer, "AdamW" if adam.regularizer == "adamw" else "Adam"
    )
    if optimizer["class_name"] != expected:
        raise _fail(
            source,
            "optimizer.class_name",
            f"must be {expected!r} for optimizer {adam.optimizer!r} and regularizer "
            f"{adam.regularizer!r}. Received: {optimizer['class_name']!r}",
        )
    for key in ("global_clipnorm", "clipnorm"):
        clip, mine = config.get(key), getattr(adam, key)
        if (clip is None) != (mine is None) or (
            clip is not None
            and not (
                isinstance(clip, int | float) and math.isclose(clip, mine or 0.0, rel_tol=1e-6)
            )
        ):
            raise _fail(
                source,
                f"optimizer.config.{key}",
                f"must equal adam's value {mine!r}. Received: {show(clip)}",
            )
    _check_schedule_matches(source, config.get("learning_rate"), adam)
    pairs = [
        ("beta_1", adam.beta_1),
        ("beta_2", adam.beta_2),
        ("epsilon", adam.epsilon),
    ]
    if adam.regularizer == "adamw":
        pairs.append(("weight_decay", adam.regularizer_strength))
    for key, want in pairs:
        got = config.get(key)
        if not isinstance(got, int | float) or not math.isclose(got, want, rel_tol=1e-6):
            raise _fail(
                source,
                f"optimizer.config.{key}",
                f"must equal adam's value {want!r}. Received: {show(got)}",
            )


def _check_schedule_matches(source: str, got: Any, adam: AdamParams) -> None:
    """``optimizer.config.learning_rate``: adam's number, or the Keras schedule adam describes
    (its class and every number of its config)."""
    spec = schedule_config(adam)
    if spec is None:
        if not isinstance(got, int | float) or not math.isclose(
            got, adam.learning_rate, rel_tol=1e-6
        ):
            raise _fail(
                source,
                "optimizer.config.learning_rate",
                f"must equal adam's value {adam.learning_rate!r}. Received: {show(got)}",
            )
        return
    name, want = spec  # Keras' own arguments, known without importing it
    where = "optimizer.config.learning_rate"
    if not isinstance(got, dict) or got.get("class_name") != name:
        raise _fail(
            source,
            where,
            f"must be a Keras-serialized {name} for adam's {adam.schedule} "
            f"schedule with warmup {adam.warmup:g}. Received: {show(got)}",
        )
    config = got.get("config")
    for key, value in want.items():
        have = config.get(key) if isinstance(config, dict) else None
        same = (
            have == value
            if not isinstance(value, float)
            else isinstance(have, int | float) and math.isclose(have, value, rel_tol=1e-6)
        )
        if not same:
            raise _fail(
                source,
                f"{where}.config.{key}",
                f"must be {value!r}, as adam's schedule gives it. Received: {show(have)}",
            )


def _class_weight_pair(source: str, pair: Any, where: str) -> tuple[int, float]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise _fail(source, where, f"must be a [class, weight] pair. Received: {show(pair)}")
    key, weight = pair
    if isinstance(key, bool) or not isinstance(key, int) or key < 0:
        raise _fail(source, f"{where}[0]", f"must be a class id, an int >= 0. Received: {key!r}")
    value = _number(source, weight, f"{where}[1]")
    if value < 0:
        raise _fail(source, f"{where}[1]", f"must be >= 0. Received: {weight!r}")
    return key, value


def _class_weight(source: str, fit: dict[str, Any], adam: AdamParams) -> dict[int, float] | None:
    """``fit.class_weight``: ``[class, weight]`` pairs (JSON keys are strings), distinct classes,
    present exactly when ``adam.class_weight`` names a weighting."""
    pairs = fit.get("class_weight")
    if (pairs is None) != (adam.class_weight == "none"):
        raise _fail(
            source,
            "fit.class_weight",
            f"must be present exactly when adam.class_weight is not 'none'. Received: "
            f"adam.class_weight={adam.class_weight!r} and fit.class_weight={show(pairs)}",
        )
    if pairs is None:
        return None
    if not isinstance(pairs, list) or not pairs:
        raise _fail(
            source,
            "fit.class_weight",
            f"must be a list of [class, weight] pairs. Received: {show(pairs)}",
        )
    weights: dict[int, float] = {}
    for i, pair in enumerate(pairs):
        key, value = _class_weight_pair(source, pair, f"fit.class_weight[{i}]")
        if key in weights:
            raise _fail(source, f"fit.class_weight[{i}]", f"gives class {key} a second time")
        weights[key] = value
    return weights


def _fit(source: str, fit: Any, adam: AdamParams) -> tuple[int, dict[int, float] | None]:
    """The ``fit`` section: the epochs, and the class weights (None when not weighted)."""
    if not isinstance(fit, dict):
        raise _fail(source, "fit", f"must be a mapping. Received: {show(fit)}")
    unknown = _unknown(fit, _FIT)
    if unknown:
        raise _fail(source, "fit", f"unknown key(s) {show(unknown)}; allowed: {', '.join(_FIT)}")
    epochs = _count(source, fit.get("epochs"), "fit.epochs")
    if fit.get("batch_size") != adam.batch_size or type(fit.get("batch_size")) is not int:
        raise _fail(
            source,
            "fit.batch_size",
            f"must equal adam.batch_size ({adam.batch_size}). "
            f"Received: {show(fit.get('batch_size'))}",
        )
    return epochs, _class_weight(source, fit, adam)


def config_fields(data: Any, source: str) -> dict[str, Any]:
    """Validate ``data`` field by field and return ``TunedConfig``'s keyword arguments; errors
    name ``source`` and the field.

    First the whole mapping is bounded (:func:`~adamtune.spaces._limits.check_bounded`: depth,
    values in all, integer length) and held to finite numbers, then each field is checked: its
    type, its range, and for the optimizer, the loss and the metrics, that Keras knows them (in
    its safe mode, importing nothing a file names).
    """
    if not isinstance(data, dict):
        raise ValueError(f"{source}: an adamtune config must be a mapping. Received: {show(data)}")
    check_bounded(data, source)
    check_finite_fields(data, source)
    unknown = _unknown(data, _TOP)
    if unknown:
        raise _fail(
            source, "<top level>", f"unknown key(s) {show(unknown)}; allowed: {', '.join(_TOP)}"
        )
    if type(data.get("format")) is not int or data.get("format") != FORMAT_VERSION:
        raise _fail(
            source, "format", f"must be {FORMAT_VERSION}. Received: {show(data.get('format'))}"
        )
    for key in ("adam", "fit", "optimizer", "loss", "metrics"):
        if key not in data:
            raise _fail(source, key, "is required")
    adam = _adam(source, data["adam"])
    epochs, class_weight = _fit(source, data["fit"], adam)
    optimizer = data["optimizer"]
    _keras_problem(source, check_optimizer(optimizer, _OPTIMIZERS))
    _check_optimizer_matches(source, optimizer, adam)
    _keras_problem(source, check_loss(data["loss"]))
    metrics = data["metrics"]
    wrong = check_metrics(metrics)
    if wrong is not None:
        raise _fail(source, "metrics", wrong[:300])
    _keras_problem(source, check_metric_names(metrics))
    value = data.get("value")
    return {
        "adam": adam,
        "epochs": epochs,
        "optimizer": optimizer,
        "loss": data["loss"],
        "metrics": metrics,
        "user_params": _user_params(source, data.get("user_params")),
        "objective": _objective(source, data.get("objective", "val_loss")),
        "value": None if value is None else _number(source, value, "value"),
        "study_name": _study(source, data.get("study")),
        "trial_number": _trial(source, data.get("trial")),
        "changes": _changes(source, data.get("changes")),
        "class_weight": class_weight,
        "loss_weights": _loss_weights(source, data.get("loss_weights")),
    }


def _keras_problem(source: str, problem: tuple[str, str] | None) -> None:
    if problem is not None:
        raise _fail(source, *problem)


def _objective(source: str, objective: Any) -> str:
    if not isinstance(objective, str) or not objective:
        raise _fail(
            source,
            "objective",
            f"must be a logged metric's name such as 'val_loss'. Received: {show(objective)}",
        )
    return objective


def _study(source: str, study: Any) -> str | None:
    if study is not None and (not isinstance(study, str) or not study):
        raise _fail(
            source,
            "study",
            f"must be a study name (a non-empty string) or null. Received: {show(study)}",
        )
    return study


def _trial(source: str, trial: Any) -> int | None:
    if trial is not None and (isinstance(trial, bool) or not isinstance(trial, int) or trial < 0):
        raise _fail(
            source,
            "trial",
            f"must be a trial number (an integer >= 0) or null. Received: {show(trial)}",
        )
    return trial


def _changes(source: str, changes: Any) -> list[str]:
    if changes is None:
        return []
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise _fail(source, "changes", f"must be a list of strings. Received: {show(changes)}")
    return changes


def _user_params(source: str, user: Any) -> dict[str, Any]:
    """The model_fn's own values: names it may ask for, values a study stores (plain values,
    and lists and mappings of them, as a hand-edited file may hold)."""
    if user is None:
        return {}
    if not isinstance(user, dict):
        raise _fail(source, "user_params", f"must be a mapping. Received: {show(user)}")
    for key, value in user.items():
        if not isinstance(key, str) or not key:
            raise _fail(
                source,
                "user_params",
                f"names must be non-empty strings. Received: {show(key)}",
            )
        if key in RESERVED:
            raise _fail(
                source,
                _field("user_params", key),
                "is a name adamtune uses itself (its value is in `adam` or `fit`); a model_fn "
                "cannot ask for it",
            )
        where = _plain_value(value, _field("user_params", key))
        if where is not None:
            raise _fail(
                source,
                where,
                "must be a plain value (null, true/false, a number, a string) or a list or "
                "mapping (string keys) of them",
            )
    return user


def _plain_value(value: Any, where: str) -> str | None:
    """The field inside ``value`` that is not a plain value, or None. The depth is bounded by
    check_bounded, so this recursion is too."""
    if value is None or type(value) in (bool, int, float, str):
        return None
    if type(value) is list:
        for index, item in enumerate(value):
            found = _plain_value(item, f"{where}[{index}]")
            if found is not None:
                return found
        return None
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                return where
            found = _plain_value(item, _field(where, key))
            if found is not None:
                return found
        return None
    return where


def _loss_weights(source: str, weights: Any) -> Any:
    if weights is None:
        return None
    values = list(weights.values()) if isinstance(weights, dict) else weights
    keys_ok = not isinstance(weights, dict) or all(isinstance(k, str) and k for k in weights)
    if (
        not isinstance(values, list)
        or not keys_ok
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    ):
        raise _fail(
            source,
            "loss_weights",
            f"must be numbers: a list, or a mapping by output name. Received: {show(weights)}",
        )
    return weights
