"""How many epochs an exported config trains for: the latest epoch of the best trial whose
objective is not told apart from its best epoch's by the curve's own noise.

Retraining for the best epoch alone under-trains when the validation curve is still rising through
noise: on a small validation set the best epoch is often one a few epochs before the end by chance,
and a fresh run stopped there is less trained than the search's. On the six standard benchmark
tasks, adamtune's exported configs retrained for the trial's full length instead of its best
epoch scored higher on test on average on every task (+0.001 to +0.018; 23 seeds higher, 6 lower;
``benchmarks/NOTES.md`` section 12).
A curve that turns worse by more than its noise (overfitting) still exports an epoch before the turn.

The noise is estimated from the curve's second differences, in which a linear trend cancels: for
independent normal noise of spread ``s`` on each epoch, ``v[e+1] - 2 v[e] + v[e-1]`` is normal
with spread ``s sqrt(6)``, whose median absolute value is ``0.6745 s sqrt(6)``. The median, not
the mean square, so the one sharp bend a curve has where it stops improving does not count as
noise; and at least :data:`MIN_DIFFERENCES` of them (five epochs), or the best epoch is exported.
An epoch after the best one counts as as good while its value trails the best by at most
:data:`NOISE_SPREADS` spreads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MIN_DIFFERENCES", "NOISE_SPREADS", "ExportedEpochs", "exported_epochs"]

# How many noise spreads a later epoch may trail the best one by and still count as as good.
NOISE_SPREADS = 2.0
# Fewer second differences than this (a curve under five epochs) estimate no noise.
MIN_DIFFERENCES = 3
# The median of |N(0, 6 s^2)| is this times s.
_MEDIAN_ABS = 0.6745 * math.sqrt(6.0)


@dataclass(frozen=True)
class ExportedEpochs:
    """``epochs`` to train (1-based, as Keras counts), the trial's ``best`` epoch (1-based) and the
    ``noise`` spread the rule estimated from the curve (0.0 when the curve was too short)."""

    epochs: int
    best: int
    noise: float

    @property
    def why(self) -> str:
        """In words, for a summary line."""
        if self.epochs == self.best:
            return f"the best epoch ({self.best})"
        later = (
            f"epoch {self.epochs}"
            if self.epochs == self.best + 1
            else f"epochs {self.best + 1}-{self.epochs}"
        )
        return (
            f"the best epoch was {self.best}; {later} stayed within {NOISE_SPREADS:g} x the "
            f"curve's noise ({self.noise:.3g}) of it"
        )


def _value(raw: float | str | None) -> float:
    """A stored value as a float: text ("nan", "inf") as the number it names, anything else NaN."""
    if raw is None:
        return math.nan
    try:
        return float(raw)
    except ValueError:
        return math.nan


def exported_epochs(
    curve: Sequence[float | str | None], best: int, *, minimize: bool
) -> ExportedEpochs:
    """The epochs to export for a trial whose objective per epoch is ``curve`` (as stored:
    non-finite values as text) and whose best epoch is ``best`` (1-based).

    The latest epoch at or after ``best`` whose value trails the best one by at most
    ``NOISE_SPREADS x`` the curve's noise. A non-finite value never counts as within it.
    """
    if not 1 <= best <= len(curve):
        raise ValueError(
            f"`best` must be an epoch of the curve, 1 to {len(curve)}. Received best={best} for a "
            f"curve of {len(curve)} epoch(s)"
        )
    values = [_value(v) for v in curve]
    top = values[best - 1]
    noise = _noise(values)
    if not math.isfinite(top) or noise == 0.0:
        return ExportedEpochs(epochs=best, best=best, noise=noise)
    sign = 1.0 if minimize else -1.0
    last = best
    for epoch in range(best + 1, len(values) + 1):
        value = values[epoch - 1]
        if math.isfinite(value) and sign * (value - top) <= NOISE_SPREADS * noise:
            last = epoch
    return ExportedEpochs(epochs=last, best=best, noise=noise)


def _noise(values: Sequence[float]) -> float:
    """The spread of one epoch's noise, from the median absolute second difference of consecutive
    finite values (0.0 under :data:`MIN_DIFFERENCES` of them)."""
    bends = sorted(
        abs(values[i + 1] - 2 * values[i] + values[i - 1])
        for i in range(1, len(values) - 1)
        if all(math.isfinite(v) for v in values[i - 1 : i + 2])
    )
    if len(bends) < MIN_DIFFERENCES:
        return 0.0
    middle = len(bends) // 2
    median = bends[middle] if len(bends) % 2 else (bends[middle - 1] + bends[middle]) / 2
    return median / _MEDIAN_ABS
