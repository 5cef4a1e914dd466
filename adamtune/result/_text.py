"""Plain-text pieces for printing a Result and a TunedConfig: numbers, parameters, cut lines.

Everything here reads plain values (a study's stored attributes, a config's fields) and formats
them without running any object's own ``repr``: a value that is not a plain one shows as its type.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from adamtune.params import warmup_steps
from adamtune.result._losses import show

__all__ = [
    "WIDTH",
    "adam_words",
    "bare",
    "cut",
    "number",
    "regularizer_words",
    "user_words",
    "wrapped",
]

WIDTH = 99  # every printed line is shorter than 100 characters
# AdamParams' defaults: betas and epsilon are shown only when a trial used other values.
_ADAM_DEFAULTS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
_REGULARIZER_WORDS = {"l1": "L1", "l2": "L2", "l1_l2": "L1+L2", "adamw": "AdamW weight decay"}


def number(value: Any) -> str:
    """A number in 4 significant digits; anything else as :func:`show` gives it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.4g}"
    return show(value, 40)


def bare(value: Any, width: int) -> str:
    """A string as it is (one line, cut to ``width``); any other value as :func:`show` gives it."""
    return cut(value, width) if type(value) is str else show(value, width)


def cut(text: str, width: int = WIDTH) -> str:
    """``text`` on one line of at most ``width`` characters (its indent kept, other runs of
    whitespace, line breaks too, made one space), ``...`` marking a cut."""
    lead = len(text) - len(text.lstrip(" "))
    text = " " * lead + " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def wrapped(label: str, text: str, width: int = WIDTH, max_lines: int = 4) -> list[str]:
    """``label`` then ``text``, wrapped under it to lines of at most ``width`` characters."""
    pad = " " * len(label)
    return textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=label,
        subsequent_indent=pad,
        max_lines=max_lines,
        placeholder=" ...",
        break_long_words=True,
    ) or [label.rstrip()]


def regularizer_words(adam: Mapping[str, Any]) -> str:
    """``"L2 1e-04"``, ``"AdamW weight decay 0.01"``, or ``"none"``."""
    kind = adam.get("regularizer", "none")
    if kind in (None, "none"):
        return "none"
    name = _REGULARIZER_WORDS.get(kind) if isinstance(kind, str) else None
    return f"{name or bare(kind, 20)} {number(adam.get('regularizer_strength'))}"


def schedule_words(adam: Mapping[str, Any]) -> str:
    """``"cosine to 0.1x, 5% warmup"``: a trial's learning-rate schedule in a few words, its
    numbers in 2 digits (the config holds them whole; a value read from a file that is not a
    known word or a number is shown quoted)."""
    kind = adam.get("schedule", "constant")
    words = bare(kind, 12) if kind in ("constant", "cosine", "linear") else show(kind, 20)
    if kind != "constant":
        words += f" to {_two(adam.get('decay_to', 0.0))}x"
    warmup = adam.get("warmup", 0.0)
    if warmup:
        share = _two(100 * warmup) if isinstance(warmup, int | float) else show(warmup, 20)
        words += f", {share}% warmup"
    return words


def _two(value: Any) -> str:
    """A number in 2 significant digits; anything else as :func:`number` gives it."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.2g}"
    return number(value)


def adam_words(adam: Mapping[str, Any]) -> list[str]:
    """The parts of a trial's Adam choices worth a word beside the learning rate and batch size:
    its regularizer, BatchNorm, input scaling, class weights, Nadam, its learning-rate
    schedule, gradient clipping, and
    betas/epsilon when not Adam's defaults. Empty when none of them was used."""
    words = []
    if adam.get("regularizer", "none") != "none":
        words.append(regularizer_words(adam))
    if adam.get("batch_norm"):
        words.append("BatchNorm")
    if adam.get("scaling", "none") != "none":
        words.append(f"{bare(adam.get('scaling'), 20)} scaling")
    if adam.get("class_weight", "none") != "none":
        words.append(f"class_weight={bare(adam.get('class_weight'), 20)}")
    if adam.get("optimizer", "adam") != "adam":
        words.append(
            "Nadam" if adam.get("optimizer") == "nadam" else bare(adam.get("optimizer"), 20)
        )
    if adam.get("schedule", "constant") != "constant" or adam.get("warmup", 0.0):
        words.append(schedule_words(adam))
    words.extend(_clipping(adam))
    for key, default in _ADAM_DEFAULTS.items():
        value = adam.get(key, default)
        if value != default:
            words.append(f"{key}={number(value)}")
    return words


def user_words(user_params: Mapping[str, Any]) -> list[str]:
    """``name=value`` for each of the model_fn's own parameters (numbers in 4 digits)."""
    out = []
    for key, value in user_params.items():
        shown = number(value) if isinstance(value, float) else show(value, 40)
        out.append(f"{bare(key, 30)}={shown}")
    return out


def config_lines(config: Any) -> list[str]:
    """A :class:`~adamtune.result.TunedConfig` as lines of plain text, each under 100 characters:
    where it came from, then one line per tuned setting, then how training code uses it."""
    adam = config.adam.to_dict()
    head = "TunedConfig"
    if config.study_name is not None:
        head += f" of study {bare(config.study_name, 40)!r}"
    if config.trial_number is not None:
        head += f", trial {config.trial_number}"
    if config.value is not None:
        head += f": {bare(config.objective, 30)}={number(config.value)}"
    lines = [cut(head)]
    lines += wrapped("  optimizer:      ", ", ".join(_optimizer_words(config, adam)), max_lines=2)
    if adam.get("schedule", "constant") != "constant" or adam.get("warmup", 0.0):
        steps, warmup = adam.get("decay_steps"), adam.get("warmup", 0.0)
        over = ""
        if isinstance(steps, int) and isinstance(warmup, int | float):  # as the schedule is built
            warm = warmup_steps(warmup, steps)
            over = f" ({warm} warmup steps of {steps})"
        lines += wrapped("  schedule:       ", schedule_words(adam) + over, max_lines=2)
    lines.append(f"  batch_size:     {bare(adam['batch_size'], 20)}")
    lines.append(f"  epochs:         {bare(config.epochs, 20)}")
    lines.append(f"  input scaling:  {bare(adam['scaling'], 20)}")
    lines.append(f"  BatchNorm:      {'on' if adam['batch_norm'] else 'off'}")
    lines.append(f"  regularizer:    {regularizer_words(adam)}")
    weights = config.class_weight
    shown = (
        "none" if weights is None else ", ".join(f"{k}: {number(v)}" for k, v in weights.items())
    )
    lines += wrapped("  class weight:   ", shown, max_lines=2)
    if config.user_params:
        lines += wrapped("  model_fn's own: ", ", ".join(user_words(config.user_params)))
    changes = "; ".join(bare(c, 200) for c in config.changes) or "none"
    lines += wrapped("  changes:        ", changes)
    lines.append("  use: cfg.build(model_fn), cfg.compile_kwargs(), cfg.scaler(), cfg.fit_kwargs()")
    return lines


def _optimizer_words(config: Any, adam: Mapping[str, Any]) -> list[str]:
    """The optimizer's class and learning rate (a schedule's peak); betas, epsilon, weight decay
    and gradient clipping when they are not Adam's defaults."""
    name = config.optimizer.get("class_name") if isinstance(config.optimizer, dict) else None
    words = [bare(name or "Adam", 20), f"learning_rate={number(adam['learning_rate'])}"]
    for key, default in _ADAM_DEFAULTS.items():
        if adam.get(key, default) != default:
            words.append(f"{key}={number(adam[key])}")
    if adam.get("regularizer") == "adamw":
        words.append(f"weight_decay={number(adam.get('regularizer_strength'))}")
    return words + _clipping(adam)


def _clipping(adam: Mapping[str, Any]) -> list[str]:
    """``global_clipnorm=1`` or ``clipnorm=1``: how the gradients are clipped, where they are."""
    return [
        f"{key}={number(adam.get(key))}"
        for key in ("global_clipnorm", "clipnorm")
        if adam.get(key) is not None
    ]
