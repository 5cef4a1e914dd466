"""Field-by-field validation of a space mapping, with errors that name the file and the field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from adamtune.spaces._limits import MAX_SPACE_VALUES, check_bounded
from adamtune.spaces._parts import (
    CLASS_WEIGHTS,
    OPTIMIZERS,
    REGULARIZERS,
    RULES,
    SCALERS,
    SCHEDULES,
    SCHEMA_VERSION,
    FloatRange,
    LearningRate,
)

_TOP_KEYS = (
    "version",
    "name",
    "description",
    "learning_rate",
    "batch_size",
    "regularizer",
    "batch_norm",
    "scaling",
    "class_weight",
    "optimizer",
    "epochs",
    "beta_1",
    "beta_2",
    "epsilon",
    "global_clipnorm",
    "clipnorm",
    "schedule",
    "warmup",
    "decay_to",
)
_REQUIRED = ("version", "name", "learning_rate", "batch_size", "regularizer")


class _Ctx:
    """Carries the source name so every error says where it came from."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, fieldname: str, message: str) -> ValueError:
        return ValueError(f"{self.source}: field `{fieldname}`: {message}")

    def mapping(self, value: Any, fieldname: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(fieldname, f"must be a mapping. Received: {_show(value)}")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(
                fieldname,
                f"unknown key(s) {', '.join(repr(k) for k in unknown)}; "
                f"allowed: {', '.join(allowed)}",
            )
        return value

    def number(self, value: Any, fieldname: str) -> float:
        if isinstance(value, str):
            hint = ""
            try:
                float(value)
                hint = (
                    " (YAML reads a number such as 1e-5 as text: write 1.0e-5)"
                    if "e" in value.lower()
                    else " (remove the quotes)"
                )
            except ValueError:
                pass
            raise self.fail(fieldname, f"must be a number. Received: {value!r}{hint}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(fieldname, f"must be a number. Received: {_show(value)}")
        if not math.isfinite(value):
            raise self.fail(fieldname, f"must be finite. Received: {value!r}")
        return float(value)

    def boolean(self, value: Any, fieldname: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(fieldname, f"must be true or false. Received: {_show(value)}")
        return value

    def positive_int(self, value: Any, fieldname: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(fieldname, f"must be a positive integer. Received: {_show(value)}")
        return value

    def nonempty_list(self, value: Any, fieldname: str) -> list[Any]:
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise self.fail(fieldname, f"must be a list of choices. Received: {_show(value)}")
        if not value:
            raise self.fail(fieldname, "must list at least one choice. Received: []")
        seen: list[Any] = []
        for item in value:
            if item in seen and type(item) is type(seen[seen.index(item)]):
                raise self.fail(fieldname, f"lists {item!r} twice")
            seen.append(item)
        return list(value)


def _show(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _range(ctx: _Ctx, value: Any, fieldname: str, *, log_default: bool) -> FloatRange:
    raw = ctx.mapping(value, fieldname, ("low", "high", "log"))
    for key in ("low", "high"):
        if key not in raw:
            raise ctx.fail(f"{fieldname}.{key}", "is required")
    low = ctx.number(raw["low"], f"{fieldname}.low")
    high = ctx.number(raw["high"], f"{fieldname}.high")
    log = ctx.boolean(raw.get("log", log_default), f"{fieldname}.log")
    if low > high:
        raise ctx.fail(fieldname, f"low must be <= high. Received: low={low!r}, high={high!r}")
    if log and low <= 0:
        raise ctx.fail(f"{fieldname}.low", f"must be > 0 for a log range. Received: {low!r}")
    return FloatRange(low=low, high=high, log=log)


def _learning_rate(ctx: _Ctx, value: Any) -> LearningRate:
    raw = ctx.mapping(value, "learning_rate", ("low", "high", "reference_batch_size", "rule"))
    rng = _range(
        ctx, {k: raw[k] for k in ("low", "high") if k in raw}, "learning_rate", log_default=True
    )
    ref = ctx.positive_int(
        raw.get("reference_batch_size", 32), "learning_rate.reference_batch_size"
    )
    rule = raw.get("rule", "sqrt")
    if rule not in RULES:
        raise ctx.fail(
            "learning_rate.rule", f"must be one of {', '.join(RULES)}. Received: {rule!r}"
        )
    return LearningRate(low=rng.low, high=rng.high, reference_batch_size=ref, rule=rule)


def _regularizer(ctx: _Ctx, value: Any) -> dict[str, FloatRange | None]:
    raw = ctx.mapping(value, "regularizer", REGULARIZERS)
    if not raw:
        raise ctx.fail("regularizer", f"must list at least one of {', '.join(REGULARIZERS)}")
    out: dict[str, FloatRange | None] = {}
    for kind, rng in raw.items():
        if kind == "none":
            if rng not in (None, {}):
                raise ctx.fail("regularizer.none", f"takes no strength range. Received: {rng!r}")
            out[kind] = None
        else:
            out[kind] = _range(ctx, rng, f"regularizer.{kind}", log_default=True)
    return out


def _adam_constant(ctx: _Ctx, value: Any, key: str) -> FloatRange:
    rng = _range(ctx, value, key, log_default=key == "epsilon")
    if rng.low < 0 or rng.high >= 1 or (key == "epsilon" and rng.low <= 0):
        allowed = "(0, 1)" if key == "epsilon" else "[0, 1)"
        raise ctx.fail(key, f"must lie in {allowed}. Received: low={rng.low!r}, high={rng.high!r}")
    return rng


def _check_beta_scaling(ctx: _Ctx, raw: Mapping[str, Any], batch_sizes: list[int]) -> None:
    """Under the sqrt rule (1 - beta) grows with the batch size; it must stay below 1."""
    lr = raw.get("learning_rate")
    if not isinstance(lr, Mapping) or lr.get("rule", "sqrt") != "sqrt":
        return
    reference = lr.get("reference_batch_size", 32)
    if not isinstance(reference, int) or reference <= 0:
        return
    k = max(batch_sizes) / reference
    for key in ("beta_1", "beta_2"):
        rng = raw.get(key)
        low = rng.get("low") if isinstance(rng, Mapping) else None
        if isinstance(low, int | float) and (1 - low) * k >= 1:
            raise ctx.fail(
                key,
                f"low={low} at batch size {max(batch_sizes)} ({k:g}x the reference "
                f"{reference}) would scale 1 - {key} to {(1 - low) * k:.3g} >= 1 under "
                "the sqrt rule; raise low, or keep batch sizes nearer the reference",
            )


def _words(
    ctx: _Ctx, value: Any, fieldname: str, allowed: tuple[str, ...], hint: str = ""
) -> tuple[str, ...] | None:
    """An optional searched choice among fixed words (absent or null: not searched)."""
    if value is None:
        return None
    choices = ctx.nonempty_list(value, fieldname)
    for i, choice in enumerate(choices):
        if not isinstance(choice, str) or choice not in allowed:
            raise ctx.fail(
                f"{fieldname}[{i}]",
                f"must be one of {', '.join(allowed)}{hint}. Received: {_show(choice)}",
            )
    return tuple(choices)


def _class_weight(ctx: _Ctx, value: Any) -> tuple[str, ...] | None:
    """The optional searched class weighting: a list of ``none`` / ``balanced``."""
    hint = " (write none, not null; a fixed weighting is search(class_weight=...))"
    return _words(ctx, value, "class_weight", CLASS_WEIGHTS, hint)


def _optimizer(ctx: _Ctx, value: Any) -> tuple[str, ...] | None:
    """The optional searched optimizer: a list of ``adam`` / ``nadam``."""
    return _words(ctx, value, "optimizer", OPTIMIZERS, " (AdamW is the regularizer `adamw`)")


def _clipnorm(ctx: _Ctx, value: Any, fieldname: str) -> FloatRange | None:
    """The optional range of a clipped gradient's norm, global or per variable (log by default,
    above 0)."""
    if value is None:
        return None
    rng = _range(ctx, value, fieldname, log_default=True)
    if rng.low <= 0:
        raise ctx.fail(f"{fieldname}.low", f"must be > 0. Received: {rng.low!r}")
    return rng


def _fraction(ctx: _Ctx, value: Any, fieldname: str, high: float) -> FloatRange | None:
    """An optional linear range of a fraction: ``warmup`` of the steps, ``decay_to`` of the peak."""
    if value is None:
        return None
    rng = _range(ctx, value, fieldname, log_default=False)
    if rng.low < 0 or rng.high > high:
        raise ctx.fail(
            fieldname,
            f"must lie in [0, {high:g}]. Received: low={rng.low!r}, high={rng.high!r}",
        )
    return rng


def _warmup(
    ctx: _Ctx, value: Any, kinds: tuple[str, ...]
) -> tuple[FloatRange | None, tuple[str, ...] | None]:
    """``warmup``'s range and, when it names them (``schedules``), the schedules that warm up:
    each listed in ``schedule`` and able to warm up (constant, cosine)."""
    if value is None:
        return None, None
    fields = dict(ctx.mapping(value, "warmup", ("low", "high", "log", "schedules")))
    named = fields.pop("schedules", None)
    rng = _fraction(ctx, fields, "warmup", 0.5)
    if named is None:
        return rng, None
    warms = tuple(k for k in kinds if k != "linear")
    chosen = ctx.nonempty_list(named, "warmup.schedules")
    for i, kind in enumerate(chosen):
        if kind not in warms:
            raise ctx.fail(
                f"warmup.schedules[{i}]",
                f"must be a schedule the space lists that can warm up: one of {list(warms)} "
                f"(Keras' linear decay has no warmup). Received: {_show(kind)}",
            )
    return rng, tuple(chosen)


def _check_schedule_fields(ctx: _Ctx, raw: Mapping[str, Any], kinds: tuple[str, ...]) -> None:
    """``warmup`` needs a constant or cosine schedule to warm up, ``decay_to`` a decaying one."""
    if raw.get("warmup") is not None and not {"constant", "cosine"} & set(kinds):
        raise ctx.fail(
            "warmup",
            f"applies to the constant and cosine schedules (Keras' linear decay has no warmup); "
            f"the space's schedule lists {list(kinds)}. Add one of them, or drop warmup",
        )
    if raw.get("decay_to") is not None and not {"cosine", "linear"} & set(kinds):
        raise ctx.fail(
            "decay_to",
            f"is where a cosine or linear schedule ends; the space's schedule lists "
            f"{list(kinds)}. Add one of them, or drop decay_to",
        )


def space_fields(data: Any, source: str) -> dict[str, Any]:
    """A :class:`~adamtune.spaces.Space`'s keyword arguments from a mapping, every field checked
    (``Space.from_dict`` builds the space from them)."""
    ctx = _Ctx(source)
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: a space must be a mapping of fields. Received: {_show(data)}")
    check_bounded(data, source, what="space", max_values=MAX_SPACE_VALUES)
    raw = ctx.mapping(data, "<top level>", _TOP_KEYS)
    for key in _REQUIRED:
        if key not in raw:
            raise ctx.fail(key, "is required")
    if raw["version"] != SCHEMA_VERSION or type(raw["version"]) is not int:
        raise ctx.fail("version", f"must be {SCHEMA_VERSION}. Received: {raw['version']!r}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise ctx.fail("name", f"must be a non-empty string. Received: {_show(name)}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise ctx.fail("description", f"must be a string. Received: {_show(description)}")
    batch_sizes = ctx.nonempty_list(raw["batch_size"], "batch_size")
    for i, size in enumerate(batch_sizes):
        ctx.positive_int(size, f"batch_size[{i}]")
    batch_norm = ctx.nonempty_list(raw.get("batch_norm", [False, True]), "batch_norm")
    for i, flag in enumerate(batch_norm):
        ctx.boolean(flag, f"batch_norm[{i}]")
    scaling = ctx.nonempty_list(raw.get("scaling", list(SCALERS)), "scaling")
    for i, scaler in enumerate(scaling):
        if scaler not in SCALERS:
            raise ctx.fail(
                f"scaling[{i}]", f"must be one of {', '.join(SCALERS)}. Received: {scaler!r}"
            )
    _check_beta_scaling(ctx, raw, batch_sizes)
    schedule = _words(ctx, raw.get("schedule"), "schedule", SCHEDULES)
    _check_schedule_fields(ctx, raw, schedule or ("constant",))
    warmup, warmup_schedules = _warmup(ctx, raw.get("warmup"), schedule or ("constant",))
    extras = {
        key: _adam_constant(ctx, raw[key], key)
        for key in ("beta_1", "beta_2", "epsilon")
        if raw.get(key) is not None
    }
    return {
        "name": name,
        "description": description,
        "learning_rate": _learning_rate(ctx, raw["learning_rate"]),
        "batch_size": tuple(batch_sizes),
        "regularizer": _regularizer(ctx, raw["regularizer"]),
        "batch_norm": tuple(batch_norm),
        "scaling": tuple(scaling),
        "epochs": ctx.positive_int(raw.get("epochs", 20), "epochs"),
        "version": SCHEMA_VERSION,
        "class_weight": _class_weight(ctx, raw.get("class_weight")),
        "optimizer": _optimizer(ctx, raw.get("optimizer")),
        "global_clipnorm": _clipnorm(ctx, raw.get("global_clipnorm"), "global_clipnorm"),
        "clipnorm": _clipnorm(ctx, raw.get("clipnorm"), "clipnorm"),
        "schedule": schedule,
        "warmup": warmup,
        "warmup_schedules": warmup_schedules,
        "decay_to": _fraction(ctx, raw.get("decay_to"), "decay_to", 1.0),
        **extras,
    }
