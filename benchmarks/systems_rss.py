"""Measurement 2: resident memory growth over many trials in one process (see
``rss_growth_mb_per_100_trials`` in benchmarks/systems.py)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from systems_plan import Plan
from systems_setup import (
    digits_split,
    finished_trials,
    run_search,
    space_for,
    trial_outcomes,
    trial_states,
)
from systems_stats import RSS_MIN_MEASURED, rounded, rss_growth_per_100_trials


def _rss_windows(series: Sequence[float], warm_up: int) -> dict[str, Any]:
    """Means of the first and last 10 measured trials (fewer when there are fewer)."""
    measured = list(series[warm_up:])
    w = max(1, min(10, len(measured) // 2))
    first, last = measured[:w], measured[-w:]
    return {
        "window": w,
        "first_window_mean_mb": rounded(statistics.fmean(first), 2) if first else None,
        "last_window_mean_mb": rounded(statistics.fmean(last), 2) if last else None,
        "first_to_last_mb": rounded(statistics.fmean(last) - statistics.fmean(first), 2)
        if first
        else None,
    }


def measure_rss(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """One search of many tiny trials; the slope of the stored ``rss_mb`` per 100 trials."""
    x_tr, y_tr, x_va, y_va = digits_split()
    n_val = max(plan.rss_train // 4, 20)
    data = ((x_tr[: plan.rss_train], y_tr[: plan.rss_train]), (x_va[:n_val], y_va[:n_val]))
    space = space_for(
        "systems-rss",
        batch_size=(32,),
        batch_norm=(False, True),
        scaling=("none", "standard"),
        epochs=1,
    )
    log(
        f"rss: adamtune.search, {plan.rss_warm_up} + {plan.rss_measured} trials x 1 epoch "
        "in this process"
    )
    storage = f"sqlite:///{workdir / 'rss.db'}"
    result, wall, _, _ = run_search(space, data, storage, "systems-rss", plan.rss_trials, 1)
    trials = [t for t in finished_trials(result.study) if "rss_mb" in t.user_attrs]
    numbers = [t.number for t in trials]
    series = [float(t.user_attrs["rss_mb"]) for t in trials]
    measured = max(0, len(series) - plan.rss_warm_up)
    slope = rss_growth_per_100_trials(numbers, series, plan.rss_warm_up) if measured >= 2 else None
    per_100 = slope if measured >= RSS_MIN_MEASURED else None
    log(
        f"rss: {series[0] if series else 0:.0f} -> {series[-1] if series else 0:.0f} MiB, slope "
        f"{slope if slope is not None else math.nan:.1f} MiB per 100 trials over {measured} "
        f"measured trials ({wall:.0f} s)"
    )
    note = None
    if per_100 is None:
        note = (
            f"{measured} measured trials: not a 100-trial figure, so "
            "rss_growth_mb_per_100_trials is None; the slope is only a check of the harness"
        )
    return {
        "per_100": per_100,
        "details": {
            "trials": len(series),
            "warm_up_trials": plan.rss_warm_up,
            "measured_trials": measured,
            "slope_mb_per_100_trials": rounded(slope, 2),
            "method": "least-squares slope of rss_mb on the trial number after the warm-up, x100",
            "note": note,
            **_rss_windows(series, plan.rss_warm_up),
            "train_samples": plan.rss_train,
            "val_samples": n_val,
            "search_wall_s": rounded(wall),
            "states": trial_states(result.study),
            "outcomes": trial_outcomes(trials),
            "rss_mb": series,
        },
    }
