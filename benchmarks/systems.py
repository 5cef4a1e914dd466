"""System measurements of adamtune: search overhead, memory growth per trial, parallel speedup.

    python benchmarks/systems.py [smoke|quick|standard|full]      # prints the JSON

Three measurements, all on scikit-learn's digits (``X / 16``) and a small MLP, in the order
parallel (subprocesses, while this process is still idle), overhead, memory:

* ``overhead_ratio_vs_bare_fit``: the wall time of ``adamtune.search`` running N trials (random
  sampler, no pruner, a learning-rate range that cannot diverge, a fresh SQLite study) divided by
  the wall time of a hand-written loop that fits the very configs the search ran (read back from
  the study) **fed the way adamtune feeds ``fit``**: plain ``tf.data`` (a repeating, reshuffled
  dataset of indices gathered per batch, ``steps_per_epoch`` and ``validation_steps`` set, see
  ``adamtune/training/_feed.py``), no adamtune code in the loop. The same loop fed NumPy arrays
  (Keras makes new iterators every epoch) is ``details.overhead.ratio_vs_numpy_fed_fit``. The
  three legs (search, tf.data loop, NumPy loop) run ``overhead_rounds`` times, in alternating
  order (S T N, N T S, ...), each leg in a process of its own after its own warm-up (a fit of its
  feed, or a one-trial search: TensorFlow's import and first traces are in none); each figure is
  the median of the per-round ratios.
* ``search_wall_over_in_trial_time``: the same searches' wall over the sum of their trials' own
  durations (``datetime_complete - datetime_start`` in the study): what adamtune spends outside
  its trials (study set-up, sampling, storage) as a ratio; median over the rounds.
* ``rss_growth_mb_per_100_trials``: one search of many tiny trials in this process; adamtune
  stores each trial's resident memory (``rss_mb``). The growth is the least-squares slope of
  ``rss_mb`` against the trial number over the trials after a warm-up (10), times 100, from at
  least 100 measured trials; the means of the first and last 10 measured trials are in details.
  The smoke suite measures a handful of trials only: its figure is None and details say so.
* ``parallel_speedup_2_workers``: trials per hour of the real CLI (``python -m adamtune search
  ... --workers 2``) over the same with ``--workers 1``, where trials per hour is completed trials
  / the command's own wall, from launching it to its exit (interpreter, imports and the helpers'
  start-up included). The runs go in ABBA order and the rates are pooled over them. The span from
  the first trial's start to the last one's end (start-up left out) gives
  ``details.parallel.speedup_without_startup``. Before each run the load average and the CPU
  share used by everything over 2 s (``/proc/stat``) are recorded; more than 0.5 busy cores per
  core is a warning, in the log and in ``details.warnings``. The CPU share is the judge, not the
  1-minute load average, which lags by a minute and still carries the previous run of this very
  measurement.

The parts, each importing only those listed after it (never this module):

* ``systems_overhead``, ``systems_rss``, ``systems_parallel``: the three measurements;
* ``systems_bare``: the hand-written ``fit`` loop and its two feeds (tf.data, NumPy);
* ``systems_setup``: digits, the MLP, the space, ``adamtune.search`` as the measurements call it,
  the parallel runs' CLI target file;
* ``systems_idle``: the idle check before timed runs;
* ``systems_plan``: ``Plan``, ``SUITES`` and ``check_suite``;
* ``systems_stats``: the pure arithmetic (slopes, paired ratios, speedups, busy share).

TensorFlow is imported inside the functions only: importing this module stays light.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from systems_idle import idle_check, load_average, warn_if_busy
from systems_overhead import measure_overhead
from systems_parallel import measure_parallel
from systems_plan import check_suite
from systems_rss import measure_rss
from systems_stats import rounded

__all__ = ["measure_systems"]


def measure_systems(
    suite: str, workdir: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the three system measurements at ``suite`` size (a key of ``systems_plan.SUITES``).

    Returns ``overhead_ratio_vs_bare_fit``, ``search_wall_over_in_trial_time``,
    ``rss_growth_mb_per_100_trials`` (None under 100 measured trials: smoke),
    ``parallel_speedup_2_workers``, ``suite``, ``seconds`` and ``details`` (raw numbers, with
    ``warnings`` for a machine that was not idle).
    """
    plan = check_suite(suite)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # Environment only, before TensorFlow loads in this process; nothing else TF-global is set.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    warnings: list[str] = []
    before = idle_check()
    warn_if_busy(before, "the systems measurements", warnings, log)
    started = time.perf_counter()
    parallel = measure_parallel(plan, workdir, log, warnings)  # subprocesses first: we are idle
    overhead = measure_overhead(plan, suite, workdir, log)
    rss = measure_rss(plan, workdir, log)
    seconds = time.perf_counter() - started
    log(f"systems ({suite}): {seconds:.0f} s")
    return {
        "suite": suite,
        "overhead_ratio_vs_bare_fit": rounded(overhead["ratio"]),
        "search_wall_over_in_trial_time": rounded(overhead["search_wall_over_in_trial_time"]),
        "rss_growth_mb_per_100_trials": rounded(rss["per_100"], 2),
        "parallel_speedup_2_workers": rounded(parallel["speedup"]),
        "seconds": rounded(seconds, 1),
        "details": {
            "plan": {**asdict(plan), "rss_trials": plan.rss_trials},
            "cpu_count": os.cpu_count(),
            "warnings": warnings,
            # Other work on the machine skews every number here (the parallel speedup most).
            "idle_check_before": before,
            "load_average_after": load_average(),
            "python": sys.version.split()[0],
            "versions": _versions(),
            "overhead": overhead["details"],
            "rss": rss["details"],
            "parallel": parallel["details"],
        },
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in ("adamtune", "tensorflow", "keras", "optuna", "scikit-learn", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


if __name__ == "__main__":
    _suite = sys.argv[1] if len(sys.argv) > 1 else "smoke"
    _result = measure_systems(
        _suite,
        Path(tempfile.mkdtemp(prefix=f"systems-{_suite}-")),
        lambda message: print(message, file=sys.stderr, flush=True),
    )
    print(json.dumps(_result, indent=2, default=str))
