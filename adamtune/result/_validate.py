"""Checking a config mapping read from a file before it becomes a TunedConfig."""

from __future__ import annotations

import math
from typing import Any

from adamtune.data import CLASS_WEIGHT_MODES
from adamtune.params import AdamParams
from adamtune.result._config import FORMAT_VERSION, TunedConfig
from adamtune.result._losses import check_metrics
from adamtune.spaces import REGULARIZERS, SCALERS

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
_OPTIMIZERS = ("Adam", "AdamW")
_FIT = ("batch_size", "epochs", "class_weight")


def _fail(source: str, fieldname: str, message: str) -> ValueError:
    return ValueError(f"{source}: field `{fieldname}`: {message}")


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if key.isidentifier() else f"{where}[{key!r}]"


def _check_finite(value: Any, where: str, source: str | None) -> None:
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
            _check_finite(item, _field(where, str(key)), source)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{where}[{index}]", source)


def check_finite_fields(data: dict[str, Any], source: str | None = None) -> None:
    """Refuse NaN and +/-inf anywhere in a config mapping, naming the field (and ``source``, the
    file or ``<dict>`` it was read from; None when it is being exported).

    JSON has no token for them (``NaN``/``Infinity`` are not JSON, and strict readers refuse them)
    and a ``.py`` literal would need a call, so every format holds finite numbers only: the
    exporter refuses to write one, and ``load_config``/``TunedConfig.from_dict`` refuse a
    hand-edited file or mapping that holds one (JSON's ``NaN``, YAML's ``.inf``).
    """
    for key, value in data.items():
        _check_finite(value, str(key), source)


def _number(source: str, value: Any, fieldname: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, fieldname, f"must be a finite number. Received: {value!r}")
    if positive and value <= 0:
        raise _fail(source, fieldname, f"must be > 0. Received: {value!r}")
    return float(value)


def _adam(source: str, raw: Any) -> AdamParams:
    if not isinstance(raw, dict):
        raise _fail(source, "adam", f"must be a mapping. Received: {raw!r}")
    unknown = sorted(set(raw) - set(AdamParams.__dataclass_fields__))
    if unknown:
        raise _fail(source, "adam", f"unknown key(s) {unknown}")
    for key in ("learning_rate", "batch_size"):
        if key not in raw:
            raise _fail(source, f"adam.{key}", "is required")
    batch = raw["batch_size"]
    if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
        raise _fail(source, "adam.batch_size", f"must be a positive integer. Received: {batch!r}")
    if raw.get("regularizer", "none") not in REGULARIZERS:
        raise _fail(
            source,
            "adam.regularizer",
            f"must be one of {', '.join(REGULARIZERS)}. Received: {raw.get('regularizer')!r}",
        )
    if raw.get("class_weight", "none") not in CLASS_WEIGHT_MODES:
        raise _fail(
            source,
            "adam.class_weight",
            f"must be one of {', '.join(CLASS_WEIGHT_MODES)}. "
            f"Received: {raw.get('class_weight')!r}",
        )
    if raw.get("scaling", "none") not in SCALERS:
        raise _fail(
            source,
            "adam.scaling",
            f"must be one of {', '.join(SCALERS)}. Received: {raw.get('scaling')!r}",
        )
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
        )
        if raw.get(k) is not None
    }
    return AdamParams(**{**raw, **numbers})


def _check_optimizer_matches(source: str, optimizer: dict[str, Any], adam: AdamParams) -> None:
    """The optimizer config is what compile_kwargs() builds: it must agree with ``adam``."""
    config = optimizer.get("config")
    if not isinstance(config, dict):
        raise _fail(source, "optimizer.config", f"must be a mapping. Received: {config!r}")
    expected = "AdamW" if adam.regularizer == "adamw" else "Adam"
    if optimizer["class_name"] != expected:
        raise _fail(
            source,
            "optimizer.class_name",
            f"must be {expected!r} for regularizer "
            f"{adam.regularizer!r}. Received: {optimizer['class_name']!r}",
        )
    pairs = [
        ("learning_rate", adam.learning_rate),
        ("beta_1", adam.beta_1),
        ("beta_2", adam.beta_2),
        ("epsilon", adam.epsilon),
    ]
    if expected == "AdamW":
        pairs.append(("weight_decay", adam.regularizer_strength))
    for key, want in pairs:
        got = config.get(key)
        if not isinstance(got, int | float) or not math.isclose(got, want, rel_tol=1e-6):
            raise _fail(
                source,
                f"optimizer.config.{key}",
                f"must equal adam's value {want!r}. Received: {got!r}",
            )


def _class_weight_pair(source: str, pair: Any, where: str) -> tuple[int, float]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise _fail(source, where, f"must be a [class, weight] pair. Received: {pair!r}"[:300])
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
            f"adam.class_weight={adam.class_weight!r} and fit.class_weight={pairs!r}"[:300],
        )
    if pairs is None:
        return None
    if not isinstance(pairs, list) or not pairs:
        raise _fail(
            source,
            "fit.class_weight",
            f"must be a list of [class, weight] pairs. Received: {pairs!r}",
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
        raise _fail(source, "fit", f"must be a mapping. Received: {fit!r}"[:300])
    unknown = sorted(set(fit) - set(_FIT))
    if unknown:
        raise _fail(source, "fit", f"unknown key(s) {unknown}; allowed: {', '.join(_FIT)}")
    epochs = fit.get("epochs")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
        raise _fail(source, "fit.epochs", f"must be a positive integer. Received: {epochs!r}")
    if fit.get("batch_size") != adam.batch_size:
        raise _fail(
            source,
            "fit.batch_size",
            f"must equal adam.batch_size ({adam.batch_size}). Received: {fit.get('batch_size')!r}",
        )
    return epochs, _class_weight(source, fit, adam)


def config_from_mapping(data: Any, source: str) -> TunedConfig:
    """Validate ``data`` field by field; errors name ``source`` and the field."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: an adamtune config must be a mapping. Received: {data!r}")
    check_finite_fields(data, source)
    unknown = sorted(set(data) - set(_TOP))
    if unknown:
        raise _fail(source, "<top level>", f"unknown key(s) {unknown}; allowed: {', '.join(_TOP)}")
    if data.get("format") != FORMAT_VERSION:
        raise _fail(source, "format", f"must be {FORMAT_VERSION}. Received: {data.get('format')!r}")
    for key in ("adam", "fit", "optimizer", "loss", "metrics"):
        if key not in data:
            raise _fail(source, key, "is required")
    adam = _adam(source, data["adam"])
    epochs, class_weight = _fit(source, data["fit"], adam)
    optimizer = data["optimizer"]
    if not isinstance(optimizer, dict) or optimizer.get("class_name") not in _OPTIMIZERS:
        raise _fail(
            source,
            "optimizer",
            f"must be a Keras-serialized Adam or AdamW config. Received: {optimizer!r}"[:300],
        )
    _check_optimizer_matches(source, optimizer, adam)
    metrics = data["metrics"]
    wrong = check_metrics(metrics)
    if wrong is not None:
        raise _fail(source, "metrics", wrong[:300])
    loss_weights = data.get("loss_weights")
    if loss_weights is not None and not _weights_ok(loss_weights):
        raise _fail(
            source,
            "loss_weights",
            f"must be numbers: a list, or a mapping by output name. Received: {loss_weights!r}"[
                :300
            ],
        )
    user = data.get("user_params") or {}
    if not isinstance(user, dict):
        raise _fail(source, "user_params", f"must be a mapping. Received: {user!r}")
    changes = data.get("changes") or []
    if not isinstance(changes, list) or not all(isinstance(c, str) for c in changes):
        raise _fail(source, "changes", f"must be a list of strings. Received: {changes!r}"[:300])
    value = data.get("value")
    return TunedConfig(
        adam=adam,
        epochs=epochs,
        optimizer=optimizer,
        loss=data["loss"],
        metrics=metrics,
        user_params=user,
        objective=str(data.get("objective", "val_loss")),
        value=None if value is None else _number(source, value, "value"),
        study_name=data.get("study"),
        trial_number=data.get("trial"),
        changes=changes,
        class_weight=class_weight,
        loss_weights=loss_weights,
    )


def _weights_ok(weights: Any) -> bool:
    values = list(weights.values()) if isinstance(weights, dict) else weights
    if not isinstance(values, list):
        return False
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
