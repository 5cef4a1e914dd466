"""The objective partway through the first epoch, for a pruner whose first rung falls there.

A trial that a pruner would cut after its first epoch costs that whole epoch; a validation pass
a third of the way in lets a pruner whose first rung is there (``asha-third``) cut it for a third
of the cost. The pass is ``model.evaluate`` on the trial's own validation feed. Keras keeps one
set of metric variables for training and evaluation, and ``evaluate`` resets them: the epoch's
running training metrics are saved before it and put back after, so the epoch's logged training
loss and metrics are the same as without the pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["mid_epoch_marks", "value_mid_epoch"]


def mid_epoch_marks(steps: int | None, parts: Sequence[float]) -> dict[int, float]:
    """The batch counts (1-based) inside an epoch of ``steps`` batches at which each of
    ``parts`` (fractions strictly between 0 and 1) falls: ``{batches: part}``. Empty for an
    epoch of unknown length, and for a part that would fall on the first or the last batch
    (no earlier judgement than the epoch's own, or none at all)."""
    if steps is None:
        return {}
    marks: dict[int, float] = {}
    for part in parts:
        if not 0.0 < part < 1.0:
            raise ValueError(f"a mid-epoch part must lie strictly between 0 and 1; got {part!r}")
        at = math.floor(steps * part)
        if 1 <= at < steps:
            marks[at] = part
    return marks


def value_mid_epoch(model: Any, feed: dict[str, Any], monitor: str) -> float | None:
    """``monitor`` (a ``val_*`` key as ``fit`` logs it) measured now on the feed's validation
    data, the running training metrics left as they were; None when ``evaluate`` does not log
    it (a key a callback adds at the epoch's end, such as several outputs' loss sum)."""
    key = monitor.removeprefix("val_")
    saved = [[v.numpy() for v in metric.variables] for metric in model.metrics]
    try:
        logs = model.evaluate(
            feed["validation_data"],
            steps=feed.get("validation_steps"),
            verbose=0,
            return_dict=True,
        )
    finally:
        for metric, values in zip(model.metrics, saved, strict=True):
            for variable, value in zip(metric.variables, values, strict=True):
                variable.assign(value)
    value = logs.get(key)
    return None if value is None else float(value)
