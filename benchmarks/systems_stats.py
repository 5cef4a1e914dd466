"""The pure arithmetic behind benchmarks/systems.py's figures: round orders, paired ratios, the
RSS slope, trials per hour and the 2-worker speedup, the CPU's busy share, rounding.

No TensorFlow, no Optuna, no I/O: everything here is tested on made-up numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime

RSS_WARM_UP = 10  # trials left out of the RSS slope (first graphs, caches, allocator pools)
RSS_MIN_MEASURED = 100  # fewer measured trials give no per-100-trials figure


def alternating_order(round_index: int, legs: Sequence[str]) -> list[str]:
    """The legs of round ``round_index``: as given in even rounds, reversed in odd ones (ABBA),
    so over a pair of rounds each leg sees the machine's drift from both sides."""
    if isinstance(round_index, bool) or not isinstance(round_index, int) or round_index < 0:
        raise ValueError(
            f"`round_index` must be an int >= 0. Received: {round_index!r}. Count rounds from 0."
        )
    return list(legs) if round_index % 2 == 0 else list(reversed(legs))


def median_of_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median over rounds of ``numerators[i] / denominators[i]`` (paired, round by round)."""
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError(
            "`numerators` and `denominators` must be non-empty and of one length (one pair per "
            f"round). Received: {len(numerators)} and {len(denominators)} values. Pass one "
            "number of each per round."
        )
    bad = [d for d in denominators if not d > 0]
    if bad:
        raise ValueError(
            f"`denominators` must all be > 0 (wall seconds). Received: {bad}. A leg that took "
            "no time was not run; run it again."
        )
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def least_squares_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The slope of the least-squares line through the points ``(xs[i], ys[i])``."""
    if len(xs) != len(ys):
        raise ValueError(
            f"`xs` and `ys` must be of one length. Received: {len(xs)} and {len(ys)} values. "
            "Pass one y per x."
        )
    if len(xs) < 2 or len(set(xs)) < 2:
        raise ValueError(
            f"a slope needs at least 2 distinct `xs`. Received: {list(xs)}. Measure more points."
        )
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


def rss_growth_per_100_trials(
    numbers: Sequence[int], rss_mb: Sequence[float], warm_up: int = RSS_WARM_UP
) -> float:
    """MB per 100 trials: the least-squares slope of ``rss_mb`` against the trial ``numbers``
    over the trials after the first ``warm_up`` (in trial order), times 100."""
    if isinstance(warm_up, bool) or not isinstance(warm_up, int) or warm_up < 0:
        raise ValueError(
            f"`warm_up` must be an int >= 0 (trials left out). Received: {warm_up!r}. "
            f"The benchmark leaves out {RSS_WARM_UP}."
        )
    if len(numbers) != len(rss_mb):
        raise ValueError(
            f"`numbers` and `rss_mb` must be of one length. Received: {len(numbers)} and "
            f"{len(rss_mb)} values. Pass each trial's number with its RSS."
        )
    pairs = sorted(zip(numbers, rss_mb, strict=True))[warm_up:]
    if len(pairs) < 2:
        raise ValueError(
            f"the RSS slope needs at least 2 trials after the {warm_up} warm-up trials. "
            f"Received: {len(numbers)} trials. Run more trials or lower `warm_up`."
        )
    return 100.0 * least_squares_slope([float(n) for n, _ in pairs], [v for _, v in pairs])


def _check_runs(name: str, runs: Sequence[tuple[int, float]]) -> None:
    if not runs:
        raise ValueError(
            f"`{name}` must hold at least one (completed trials, wall seconds) run. Received: "
            f"{list(runs)!r}. Run the CLI at least once with that many workers."
        )
    for trials, wall in runs:
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 0:
            raise ValueError(
                f"`{name}`: completed trials must be an int >= 0. Received: {trials!r}. "
                "Count the study's COMPLETE and PRUNED trials."
            )
        if not (isinstance(wall, int | float) and math.isfinite(wall) and wall > 0):
            raise ValueError(
                f"`{name}`: the wall must be a finite number of seconds > 0. Received: "
                f"{wall!r}. Time the command from its launch to its exit."
            )


def trials_per_hour(runs: Sequence[tuple[int, float]]) -> float:
    """Completed trials per hour of wall, pooled over ``runs`` of (trials, wall seconds)."""
    _check_runs("runs", runs)
    return sum(t for t, _ in runs) / sum(w for _, w in runs) * 3600


def speedup_including_startup(
    one_worker: Sequence[tuple[int, float]], two_workers: Sequence[tuple[int, float]]
) -> float:
    """Trials per hour of the 2-worker runs over that of the 1-worker runs, each pooled over its
    runs of (completed trials, the command's wall from launch to exit, start-up included)."""
    _check_runs("one_worker", one_worker)
    _check_runs("two_workers", two_workers)
    base = trials_per_hour(one_worker)
    if base == 0:
        raise ValueError(
            f"`one_worker` completed no trial: no speedup can be computed. Received: "
            f"{list(one_worker)!r}. Look at the 1-worker run's output."
        )
    return trials_per_hour(two_workers) / base


def busy_share(before: Sequence[int], after: Sequence[int]) -> float:
    """The share of CPU time that was not idle between two readings of ``/proc/stat``'s ``cpu``
    line (user nice system idle iowait irq softirq steal, in ticks); steal counts as busy."""
    if len(before) < 8 or len(after) < 8:
        raise ValueError(
            "`before` and `after` must each hold /proc/stat's first 8 cpu fields (user nice "
            f"system idle iowait irq softirq steal). Received: {len(before)} and {len(after)} "
            "fields. Read the `cpu` line."
        )
    delta = [b - a for a, b in zip(before[:8], after[:8], strict=True)]
    total = sum(delta)
    if total <= 0:
        raise ValueError(
            f"`after` must be read after `before` (the counters only grow). Received: ticks "
            f"{delta}. Read them again after a pause."
        )
    return (total - delta[3] - delta[4]) / total


def seconds_between(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def rounded(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)
