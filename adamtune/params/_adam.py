"""The Adam-specific parameters of one trial, and the batch-size coupling rules."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from adamtune.params._sources import ParamSource
from adamtune.spaces import RULES, Space

__all__ = ["CLIPPING", "RESERVED", "AdamParams", "sample_adam_params", "scale_for_batch"]

# Names the space's own parameters use in a trial; a model_fn's hp.* names must differ.
RESERVED = frozenset(
    {
        "base_learning_rate",
        "learning_rate",
        "batch_size",
        "regularizer",
        "regularizer_strength",
        "batch_norm",
        "scaling",
        "beta_1",
        "beta_2",
        "epsilon",
        "epochs",
        "class_weight",
        "optimizer",
        "clipping",
        "global_clipnorm",
        "clipnorm",
        "schedule",
        "warmup",
        "decay_to",
        "decay_steps",
    }
    | {f"{kind}_warmup" for kind in ("constant", "cosine")}
    | {f"{kind}_decay_to" for kind in ("cosine", "linear")}
    | {f"{kind}_strength" for kind in ("l1", "l2", "l1_l2", "adamw")}
)


_KINDS = ("learning_rate", "beta_1", "beta_2", "epsilon")


@dataclass(frozen=True)
class AdamParams:
    """Everything adamtune itself sets in a trial. ``learning_rate`` is already scaled.

    ``class_weight`` names the trial's class weighting: ``"none"``, ``"balanced"`` or ``"custom"``
    (a dict given to ``search``); the numbers live with the study and the exported config.
    ``optimizer`` is ``"adam"`` or ``"nadam"`` (either carries the ``adamw`` regularizer's decay);
    ``global_clipnorm`` the norm the gradients are clipped to as a whole, ``clipnorm`` the norm
    each variable's gradient is clipped to on its own; at most one is set (None: no clipping).
    ``schedule`` is how the learning rate runs over the trial's ``decay_steps`` steps (set once
    the trial's data feed knows them): ``"constant"``, ``"cosine"`` or ``"linear"``, after a
    linear ``warmup`` over that share of the steps, falling to ``decay_to`` x the learning rate
    (:func:`adamtune.params.learning_rate_schedule` builds it).
    """

    learning_rate: float
    batch_size: int
    regularizer: str = "none"
    regularizer_strength: float = 0.0
    batch_norm: bool = False
    scaling: str = "none"
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    base_learning_rate: float | None = None
    class_weight: str = "none"
    optimizer: str = "adam"
    global_clipnorm: float | None = None
    clipnorm: float | None = None
    schedule: str = "constant"
    warmup: float = 0.0
    decay_to: float = 0.0
    decay_steps: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scale_for_batch(
    value: float, batch_size: int, reference: int, rule: str, *, kind: str = "learning_rate"
) -> float:
    """Carry a value tuned at ``reference`` batch size to ``batch_size``.

    For the square-root rule (Malladi et al. 2022) with k = batch_size / reference: the learning
    rate grows by sqrt(k), (1 - beta) by k (kept below 1), epsilon shrinks by sqrt(k). The linear
    rule (Goyal et al. 2017) scales only the learning rate, by k.
    """
    if rule not in RULES:
        raise ValueError(
            f"scale_for_batch: `rule` must be one of {', '.join(RULES)}. Received: rule={rule!r}"
        )
    if kind not in _KINDS:
        raise ValueError(
            f"scale_for_batch: `kind` must be one of {', '.join(_KINDS)}. Received: kind={kind!r}"
        )
    k = batch_size / reference
    if rule == "none" or k == 1:
        return value
    if kind == "learning_rate":
        return value * (math.sqrt(k) if rule == "sqrt" else k)
    if rule != "sqrt":
        return value
    if kind in ("beta_1", "beta_2"):
        return 1.0 - min((1.0 - value) * k, 0.999)
    return value / math.sqrt(k)  # epsilon


def _pick(source: ParamSource, name: str, choices: tuple[Any, ...]) -> Any:
    return choices[0] if len(choices) == 1 else source.choice(name, list(choices))


# The ``clipping`` choice's values, by the norm they clip: ``on`` is the global norm (the first
# and, in most spaces, the only way offered), ``per_variable`` each variable's own norm.
CLIPPING = {"global_clipnorm": "on", "clipnorm": "per_variable"}


def _clipping(space: Space, source: ParamSource) -> dict[str, Any]:
    """Whether and how to clip the gradients: a choice ``clipping`` among ``off`` and the ways
    the space offers (``on``: the global norm, ``per_variable``: each variable's), then the norm
    (``global_clipnorm`` or ``clipnorm``, drawn only for its way); empty when the space clips
    neither way."""
    ways = {key: getattr(space, key) for key in CLIPPING if getattr(space, key) is not None}
    if not ways:
        return {}
    mode = source.choice("clipping", ["off", *(CLIPPING[key] for key in ways)])
    for key, rng in ways.items():
        if mode == CLIPPING[key]:
            condition = ("clipping", mode)
            return {key: source.float(key, rng.low, rng.high, rng.log, condition=condition)}
    return {}


def _schedule(space: Space, source: ParamSource) -> dict[str, Any]:
    """The trial's schedule, and its warmup and end where the space searches them (each
    conditional on the schedule: ``cosine_warmup``, ``linear_decay_to``...)."""
    kinds = space.schedule or ("constant",)
    kind = str(_pick(source, "schedule", kinds))
    condition = ("schedule", kind) if len(kinds) > 1 else None
    out: dict[str, Any] = {"schedule": kind}
    for key, rng in space.schedule_ranges(kind).items():
        out[key] = source.float(f"{kind}_{key}", rng.low, rng.high, rng.log, condition=condition)
    return out


def sample_adam_params(
    space: Space, source: ParamSource, *, class_weight: str = "none"
) -> AdamParams:
    """Draw one trial's Adam parameters from ``source``, in a fixed order, coupling them.

    ``class_weight`` is the trial's class weighting when the space does not search it (what
    ``search(class_weight=...)`` fixed); a space with a ``class_weight`` field chooses it instead.
    """
    batch_size = int(_pick(source, "batch_size", space.batch_size))
    lr_space = space.learning_rate
    base = source.float("base_learning_rate", lr_space.low, lr_space.high, True)
    ref, rule = lr_space.reference_batch_size, lr_space.rule
    kinds = tuple(space.regularizer)
    regularizer = str(_pick(source, "regularizer", kinds))
    strength_range = space.regularizer[regularizer]
    strength = 0.0
    if strength_range is not None:
        strength = source.float(
            f"{regularizer}_strength",
            strength_range.low,
            strength_range.high,
            strength_range.log,
            condition=("regularizer", regularizer) if len(kinds) > 1 else None,
        )
    constants: dict[str, Any] = {}
    for key in ("beta_1", "beta_2", "epsilon"):
        rng = getattr(space, key)
        if rng is not None:
            raw = source.float(key, rng.low, rng.high, rng.log)
            constants[key] = scale_for_batch(raw, batch_size, ref, rule, kind=key)
    return AdamParams(
        learning_rate=scale_for_batch(base, batch_size, ref, rule),
        base_learning_rate=base,
        batch_size=batch_size,
        regularizer=regularizer,
        regularizer_strength=strength,
        batch_norm=bool(_pick(source, "batch_norm", space.batch_norm)),
        scaling=str(_pick(source, "scaling", space.scaling)),
        class_weight=(
            class_weight
            if space.class_weight is None
            else str(_pick(source, "class_weight", space.class_weight))
        ),
        optimizer=str(_pick(source, "optimizer", space.optimizer or ("adam",))),
        **_clipping(space, source),
        **_schedule(space, source),
        **constants,
    )
