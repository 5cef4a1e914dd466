"""The failure taxonomy: what a trial that ran to its end still got wrong.

The guard labels the runs it stopped (``diverged-nan``, ``diverged-blowup``,
``collapsed-to-chance``) and the engine the crashes (``crashed-oom``, ``crashed-error``) and the
trials a Ctrl-C or SIGTERM stopped (``interrupted``: not a crash; the same parameters are queued
to run first when the search resumes). A trial that trained to the end is ``ok``, unless its
curves show one of two quieter failures:

* ``too-slow``: the training loss ended less than ``TOO_SLOW_GAIN`` (10%) below the first batch's
  loss: Adam barely moved it (learning rate far too low, or a dead model).
* ``overfit``: the validation loss ended more than ``OVERFIT_RISE`` (10%) above its best epoch
  while the training loss kept falling after that epoch.

Both are labels only: the trial keeps its value, and the sampler sees it as usual.

A run the guard stopped flat at chance level is ``collapsed-to-chance`` when its loss had moved
away first (a blow-up that fell back to a constant output), and ``too-slow`` when it never left
its start: the loss sat where it began, within ``TOO_SLOW_GAIN``.
"""

from __future__ import annotations

import math

__all__ = [
    "DIVERGED",
    "OUTCOMES",
    "OVERFIT_RISE",
    "TOO_SLOW_GAIN",
    "label_finished",
    "label_stopped",
]

DIVERGED = ("diverged-nan", "diverged-blowup", "collapsed-to-chance")
OUTCOMES = (
    "ok",
    "pruned",
    *DIVERGED,
    "too-slow",
    "overfit",
    "crashed-oom",
    "crashed-error",
    "interrupted",
)
# Ten per cent of the starting loss in a whole run is what a learning rate 100x too small gives
# on the digits MLP (FACTS.md: lr 1e-6 ends at 0.14 accuracy); a working run gains far more.
TOO_SLOW_GAIN = 0.10
# Epoch-to-epoch noise of a small model's validation loss stays within a few per cent.
OVERFIT_RISE = 0.10


def _finite(values: list[float] | None) -> list[float]:
    return [v for v in values or [] if math.isfinite(v)]


def label_stopped(
    outcome: str, reason: str | None, history: dict[str, list[float]], first_loss: float | None
) -> tuple[str, str | None]:
    """The label of a run the guard stopped: its own, or ``too-slow`` for a run at chance level
    that never moved from its start."""
    raw = _finite(history.get("loss"))
    if outcome != "collapsed-to-chance" or not raw or first_loss is None or first_loss <= 0:
        return outcome, reason
    # Epoch means against each other (one batch is too noisy a start to compare them with), and
    # the first batch not far above them: a run that fell to chance from higher up collapsed.
    base = raw[0] if len(raw) >= 2 else first_loss
    moved = max(abs(v - base) for v in raw)
    if moved <= base * TOO_SLOW_GAIN and first_loss <= raw[0] * (1 + 5 * TOO_SLOW_GAIN):
        return "too-slow", f"{reason}; the loss never left its start ({first_loss:.3g})"
    return outcome, reason


def label_finished(
    history: dict[str, list[float]], first_loss: float | None
) -> tuple[str, str | None]:
    """``("ok", None)``, or ``("too-slow" | "overfit", reason)`` for a trial that ran its epochs."""
    train = _finite(history.get("data_loss") or history.get("loss"))
    raw = _finite(history.get("loss"))
    start = first_loss if first_loss is not None and first_loss > 0 else None
    if raw and start is not None and raw[-1] > start * (1 - TOO_SLOW_GAIN):
        return "too-slow", (
            f"training loss only went from {start:.3g} (first batch) to {raw[-1]:.3g} "
            f"in {len(raw)} epochs, less than {TOO_SLOW_GAIN:.0%} lower"
        )
    val = _finite(history.get("val_data_loss") or history.get("val_loss"))
    if len(val) >= 3 and len(train) == len(val):
        best = min(range(len(val)), key=val.__getitem__)
        if val[-1] > val[best] * (1 + OVERFIT_RISE) and train[-1] < train[best]:
            return "overfit", (
                f"validation loss rose from {val[best]:.3g} (epoch {best + 1}) to {val[-1]:.3g} "
                f"while training loss fell from {train[best]:.3g} to {train[-1]:.3g}"
            )
    return "ok", None
