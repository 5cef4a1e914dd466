"""The first trials of a new study: where a search starts before the sampler has anything to learn
from.

``first_trials="auto"`` starts from Adam's textbook settings put into the space: learning rate 1e-3
at batch size 32 (carried to the space's reference batch size by its rule), standardized inputs,
no regularizer and no BatchNorm. The textbook 1e-3 assumes targets of order one; a regression's
learning rate is multiplied by its targets' root mean square when that is larger (targets around
1e4 need the output layer to travel 1e4 times as far, and Adam's steps are about the learning rate
in size whatever the gradient's scale), then clipped to the space. Most models train reasonably
there, so the study has a sound incumbent after one trial and the sampler's random start-up trials
only have to beat it. A list of dicts starts from the user's own settings instead (their current
training config, say).

``first_trials="lr-range"`` (the default) is the same first trial at the geometric middle of the
learning rates the LR range test suggested, where the test ran and narrowed the space: on the
benchmark's grids the textbook 1e-3 sat below the best rate of the textbook configuration on every
held-out task (benchmarks/NOTES.md section 21).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

import numpy as np

from adamtune.params import CLIPPING
from adamtune.params._adam import AdamParams, scale_for_batch
from adamtune.spaces import Space

__all__ = [
    "FIRST_KEYS",
    "clipped_first_rates",
    "first_trial_params",
    "range_middle",
    "regression_lr_scale",
]

# What a user may set: every Adam parameter a trial has, the learning rate at its batch size.
FIRST_KEYS = tuple(
    f.name for f in fields(AdamParams) if f.name not in ("base_learning_rate", "decay_steps")
)
_TEXTBOOK = {"learning_rate": 1e-3, "batch_size": 32, "regularizer": "none", "scaling": "standard"}
_ADAM_CONSTANTS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def _nearest(value: float, choices: Sequence[Any]) -> Any:
    return min(choices, key=lambda c: abs(math.log(float(c)) - math.log(value)))


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _textbook(space: Space, target_scale: float) -> dict[str, Any]:
    """Adam's defaults, each moved to the nearest value the space allows."""
    batch = _nearest(32, space.batch_size)
    kinds = tuple(space.regularizer)
    out: dict[str, Any] = {
        "batch_size": batch,
        "learning_rate": scale_for_batch(1e-3 * target_scale, batch, 32, space.learning_rate.rule),
        "regularizer": "none" if "none" in kinds else kinds[0],
        "batch_norm": False if False in space.batch_norm else space.batch_norm[0],
        "scaling": "standard" if "standard" in space.scaling else space.scaling[0],
    }
    for key, value in _ADAM_CONSTANTS.items():
        if getattr(space, key) is not None:
            out[key] = value
    if space.class_weight is not None:  # the textbook weights no class
        out["class_weight"] = "none" if "none" in space.class_weight else space.class_weight[0]
    if space.optimizer is not None:  # the textbook is Adam, unclipped
        out["optimizer"] = "adam" if "adam" in space.optimizer else space.optimizer[0]
    if space.schedule is not None:  # at a constant rate where the space allows one
        out["schedule"] = "constant" if "constant" in space.schedule else space.schedule[0]
    return out


def _fail(i: int, key: str, allowed: str, got: Any) -> ValueError:
    return ValueError(
        f"`first_trials[{i}]['{key}']` must be {allowed}. Received: {key}={got!r}. Give a value "
        "inside the search space, or leave the key out to take adamtune's starting value."
    )


def _params(
    space: Space, given: Mapping[str, Any], i: int, strict: bool, target_scale: float = 1.0
) -> dict[str, Any]:
    """Optuna parameters (adamtune's names) for one first trial; every value checked against the
    space (a learning rate outside it is clipped instead when not ``strict``)."""
    cfg = {**_textbook(space, target_scale), **given}
    lr_space = space.learning_rate
    batch = cfg["batch_size"]
    if batch not in space.batch_size or isinstance(batch, bool):
        raise _fail(i, "batch_size", f"one of {list(space.batch_size)}", batch)
    lr = cfg["learning_rate"]
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
        raise _fail(i, "learning_rate", "a positive number", lr)
    # The study samples the learning rate at the reference batch size: carry it back there.
    base = lr / scale_for_batch(1.0, batch, lr_space.reference_batch_size, lr_space.rule)
    if strict and "learning_rate" in given and not lr_space.low <= base <= lr_space.high:
        raise _fail(
            i,
            "learning_rate",
            f"in the space's range, {lr_space.low:g} to {lr_space.high:g} at batch size "
            f"{lr_space.reference_batch_size} ({base:.3g} at that batch size here)",
            lr,
        )
    params: dict[str, Any] = {
        "batch_size": batch,
        "base_learning_rate": _clip(base, lr_space.low, lr_space.high),
    }
    kind = cfg["regularizer"]
    if kind not in space.regularizer:
        raise _fail(i, "regularizer", f"one of {list(space.regularizer)}", kind)
    params["regularizer"] = kind
    strength_range = space.regularizer[kind]
    if strength_range is not None:
        low, high = strength_range.low, strength_range.high
        mid = math.sqrt(low * high) if strength_range.log else (low + high) / 2
        strength = cfg.get("regularizer_strength", mid)
        if isinstance(strength, bool) or not isinstance(strength, int | float):
            raise _fail(i, "regularizer_strength", "a number", strength)
        if not low <= strength <= high:
            raise _fail(i, "regularizer_strength", f"{low:g} to {high:g} for {kind}", strength)
        params[f"{kind}_strength"] = float(strength)
    for key, allowed in (("batch_norm", space.batch_norm), ("scaling", space.scaling)):
        if cfg[key] not in allowed or (key == "batch_norm" and not isinstance(cfg[key], bool)):
            raise _fail(i, key, f"one of {list(allowed)}", cfg[key])
        params[key] = cfg[key]
    for key in _ADAM_CONSTANTS:
        rng = getattr(space, key)
        if rng is None:
            if key in given:
                raise _fail(i, key, "left out: the space does not tune it", given[key])
            continue
        # Sampled at the reference batch size too; given at this batch size: clip, not refuse.
        params[key] = _clip(float(cfg[key]), rng.low, rng.high)
    params.update(_class_weight(space, given, cfg, i))
    params.update(_optimizer(space, given, cfg, i))
    params.update(_schedule(space, given, cfg, i))
    return params


def _schedule(
    space: Space, given: Mapping[str, Any], cfg: dict[str, Any], i: int
) -> dict[str, Any]:
    """A first trial's schedule, warmup and end (each the range's low end unless given): only
    where the space searches them."""
    kinds = space.schedule or ("constant",)
    kind = cfg.get("schedule", "constant")
    if kind not in kinds:
        raise _fail(i, "schedule", f"one of {list(kinds)}", kind)
    out: dict[str, Any] = {"schedule": kind} if space.schedule is not None else {}
    ranges = space.schedule_ranges(kind)
    for key in ("warmup", "decay_to"):
        rng = ranges.get(key)
        if rng is None:
            if given.get(key):
                raise _fail(
                    i, key, f"left out: the space does not search it for {kind}", given[key]
                )
            continue
        value = cfg.get(key, rng.low)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(i, key, "a number", value)
        if not rng.low <= value <= rng.high:
            raise _fail(i, key, f"{rng.low:g} to {rng.high:g}", value)
        out[f"{kind}_{key}"] = float(value)
    return out


def _optimizer(
    space: Space, given: Mapping[str, Any], cfg: dict[str, Any], i: int
) -> dict[str, Any]:
    """A first trial's optimizer and gradient clipping: only where the space searches them."""
    out: dict[str, Any] = {}
    if space.optimizer is None:
        if given.get("optimizer", "adam") != "adam":
            raise _fail(i, "optimizer", "'adam': the space does not search it", given["optimizer"])
    elif cfg["optimizer"] not in space.optimizer:
        raise _fail(i, "optimizer", f"one of {list(space.optimizer)}", cfg["optimizer"])
    else:
        out["optimizer"] = cfg["optimizer"]
    return {**out, **_clipping(space, cfg, i)}


def _clipping(space: Space, cfg: dict[str, Any], i: int) -> dict[str, Any]:
    """A first trial's ``clipping`` choice and its norm (``global_clipnorm`` or ``clipnorm``):
    only a way the space offers; unclipped (``off``) unless one is given."""
    given = {key: cfg[key] for key in CLIPPING if cfg.get(key) is not None}
    if len(given) > 1:
        raise _fail(
            i,
            "clipnorm",
            "None when global_clipnorm is given (Keras clips one way)",
            given["clipnorm"],
        )
    for key, clip in given.items():
        rng = getattr(space, key)
        if rng is None:
            raise _fail(i, key, "None: the space does not search it", clip)
        if (
            isinstance(clip, bool)
            or not isinstance(clip, int | float)
            or not rng.low <= clip <= rng.high
        ):
            raise _fail(i, key, f"None or {rng.low:g} to {rng.high:g}", clip)
        return {"clipping": CLIPPING[key], key: float(clip)}
    offered = any(getattr(space, key) is not None for key in CLIPPING)
    return {"clipping": "off"} if offered else {}


def _class_weight(
    space: Space, given: Mapping[str, Any], cfg: dict[str, Any], i: int
) -> dict[str, Any]:
    """The class weighting of a first trial: only where the space searches it."""
    if space.class_weight is None:
        if "class_weight" in given:
            raise _fail(
                i, "class_weight", "left out: the space does not search it", given["class_weight"]
            )
        return {}
    if cfg["class_weight"] not in space.class_weight:
        raise _fail(i, "class_weight", f"one of {list(space.class_weight)}", cfg["class_weight"])
    return {"class_weight": cfg["class_weight"]}


def clipped_first_rates(first_trials: Any, space: Space) -> list[str]:
    """Notes for the user's own first trials (a list, checked already) whose learning rate lies
    outside ``space``'s range, narrowed by the LR range test: each is tried at the nearest end."""
    if isinstance(first_trials, str | bytes) or not isinstance(first_trials, Sequence):
        return []
    lr_space, notes = space.learning_rate, []
    for i, given in enumerate(first_trials):
        if "learning_rate" not in given:
            continue
        batch = given.get("batch_size", _textbook(space, 1.0)["batch_size"])
        factor = scale_for_batch(1.0, batch, lr_space.reference_batch_size, lr_space.rule)
        base = float(given["learning_rate"]) / factor
        kept = _clip(base, lr_space.low, lr_space.high)
        if kept != base:
            notes.append(
                f"first_trials[{i}]'s learning_rate {given['learning_rate']:g} is outside the "
                f"range the LR range test narrowed the space to ({lr_space.low * factor:.2g}.."
                f"{lr_space.high * factor:.2g} at batch size {batch}): it is tried at "
                f"{kept * factor:.2g} (lr_range=None keeps it as given)"
            )
    return notes


def regression_lr_scale(y: Any, regression: bool) -> float:
    """What the textbook learning rate is multiplied by: a regression's target RMS when above 1."""
    if not regression or len(y) == 0:
        return 1.0
    rms = float(np.sqrt(np.mean(np.square(np.asarray(y, dtype="float64")))))
    return rms if math.isfinite(rms) and rms > 1.0 else 1.0


def range_middle(space: Space) -> float:
    """The learning rate ``first_trials="lr-range"`` starts at: the geometric middle of the
    space's range at its reference batch size (after the LR range test narrowed it)."""
    return math.sqrt(space.learning_rate.low * space.learning_rate.high)


def first_trial_params(
    first_trials: Any,
    space: Space,
    strict: bool = True,
    target_scale: float = 1.0,
    suggested: bool = False,
) -> list[dict[str, Any]]:
    """The parameters to enqueue in a new study for ``first_trials`` (``"auto"``, ``"lr-range"``,
    ``None`` or a list of dicts); raises ``ValueError``/``TypeError`` naming the bad entry.
    ``strict=False`` clips a learning rate to the space (after ``lr_range`` narrowed it) instead of
    refusing it. ``target_scale`` multiplies the ``"auto"`` learning rate (see
    :func:`regression_lr_scale`). ``"lr-range"`` is ``"auto"`` at :func:`range_middle`'s learning
    rate where the LR range test narrowed ``space`` to its suggestion (``suggested``), and ``"auto"``
    where it did not.
    """
    if first_trials is None:
        return []
    if first_trials in ("auto", "lr-range"):
        params = _params(space, {}, 0, strict, target_scale)
        if first_trials == "lr-range" and suggested:
            params["base_learning_rate"] = range_middle(space)
        return [params]
    if isinstance(first_trials, str | bytes) or not isinstance(first_trials, Sequence):
        raise TypeError(
            "`first_trials` must be 'auto', 'lr-range', None or a list of dicts like "
            "[{'learning_rate': 3e-4, 'batch_size': 64}]. "
            f"Received: first_trials={first_trials!r}"
        )
    out = []
    for i, given in enumerate(first_trials):
        if not isinstance(given, Mapping):
            raise TypeError(f"`first_trials[{i}]` must be a dict of settings. Received: {given!r}")
        unknown = sorted(set(given) - set(FIRST_KEYS))
        if unknown:
            raise ValueError(
                f"`first_trials[{i}]` has unknown keys {unknown}; allowed: "
                f"{', '.join(FIRST_KEYS)}. Received: {dict(given)!r}"
            )
        out.append(_params(space, given, i, strict))
    return out
