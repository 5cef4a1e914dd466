"""Second runs of a new best (``search(confirm=N)``): each trial that beats every earlier one is
run ``N`` more times with other seeds, and the study's best is judged by the mean over a
config's runs, so one lucky run does not crown a config that is fragile to its seed.

A repeat is an ordinary Optuna trial queued with the same parameters and the user attribute
:data:`REPEAT_ATTR` (the number of the trial it repeats); its Keras seed differs because a
trial's seed is the search's plus its number. The engine's pruner never stops a repeat (a
divergence still does, and disqualifies the config). Reading works on any study: one without
repeats is judged as before, by its single best trial.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["REPEAT_ATTR", "Judged", "QueueRepeats", "judged_best", "repeat_of"]

REPEAT_ATTR = "repeat_of"


def repeat_of(trial: Any) -> int | None:
    """The number of the trial ``trial`` repeats, or None for a trial of its own."""
    value = trial.user_attrs.get(REPEAT_ATTR)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclasses.dataclass(frozen=True)
class Judged:
    """The study's best config: ``trial`` (the first run of it, whose curve and attributes are
    exported), ``value`` (the mean over its runs), and every run's number and value
    (``runs``: the trial's own first). ``runs`` has one entry when the study has no repeats."""

    trial: Any
    value: float
    runs: tuple[tuple[int, float], ...]

    @property
    def repeated(self) -> bool:
        return len(self.runs) > 1


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def judged_best(trials: Sequence[Any], maximize: bool) -> Judged | None:
    """The best config of a study's ``trials`` (every state), or None without a complete one.

    Without repeats: the best complete trial. With them: among the trials whose repeats all
    finished, the best mean over a trial and its repeats; a repeat that ended without a value
    (diverged, stopped as too slow) rules its config out, one that crashed does not count (it is
    queued again). Trials still waiting for a repeat count only when no config has been repeated
    yet, and a config ruled out only when nothing else completed."""
    complete = [t for t in trials if t.state.name == "COMPLETE" and _finite(t.value)]
    if not complete:
        return None
    sign = 1.0 if maximize else -1.0
    repeats: dict[int, list[Any]] = {}
    for t in trials:
        number = repeat_of(t)
        if number is not None and t.state.name != "FAIL":  # a crashed repeat is queued again
            repeats.setdefault(number, []).append(t)
    groups: list[Judged] = []
    ruled_out: set[int] = set()
    for t in complete:
        runs = repeats.get(t.number)
        if repeat_of(t) is not None or not runs:
            continue
        if any(r.state.name in ("RUNNING", "WAITING") for r in runs):
            continue  # still being judged
        if not all(r.state.name == "COMPLETE" and _finite(r.value) for r in runs):
            ruled_out.add(t.number)  # a run of it diverged: fragile, not exported
            continue
        values = [(t.number, float(t.value))] + [(r.number, float(r.value)) for r in runs]
        mean = statistics.fmean(v for _, v in values)
        groups.append(Judged(t, mean, tuple(values)))
    if groups:
        return max(groups, key=lambda g: (sign * g.value, -g.trial.number))
    originals = [t for t in complete if repeat_of(t) is None] or complete
    singles = [t for t in originals if t.number not in ruled_out] or originals
    best = max(singles, key=lambda t: (sign * float(t.value), -t.number))
    return Judged(best, float(best.value), ((best.number, float(best.value)),))


class QueueRepeats:
    """A per-trial callback: a complete trial whose value beats every earlier trial's of its own
    (repeats left out) is queued ``count`` more times with the same parameters."""

    def __init__(self, count: int, maximize: bool) -> None:
        self.count = count
        self.sign = 1.0 if maximize else -1.0

    def __call__(self, study: Any, trial: Any) -> None:
        if trial.state.name != "COMPLETE" or not _finite(trial.value):
            return
        if repeat_of(trial) is not None:
            return
        value = self.sign * float(trial.value)
        others = [
            self.sign * float(other.value)
            for other in study.get_trials(deepcopy=False)
            if other.number != trial.number
            and repeat_of(other) is None
            and other.state.name == "COMPLETE"
            and _finite(other.value)
        ]
        if any(other >= value for other in others):
            return  # not a new best
        for _ in range(self.count):
            study.enqueue_trial(trial.params, user_attrs={REPEAT_ATTR: trial.number})
