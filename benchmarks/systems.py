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
  order (S T N, N T S, ...), in one process after warm-up fits of each kind and a one-trial
  search (TensorFlow's import and first traces are in none); each figure is the median of the
  per-round ratios.
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

TensorFlow is imported inside the functions only: importing this module stays light.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = [
    "SUITES",
    "Plan",
    "alternating_order",
    "busy_share",
    "least_squares_slope",
    "measure_systems",
    "median_of_ratios",
    "rss_growth_per_100_trials",
    "speedup_including_startup",
]

SEED = 0
# The CLI's subprocesses: quiet TensorFlow, one thread each (see `_cli_thread_env` for what the
# CLI itself then sets).
SUBPROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}
RSS_WARM_UP = 10  # trials left out of the RSS slope (first graphs, caches, allocator pools)
RSS_MIN_MEASURED = 100  # fewer measured trials give no per-100-trials figure
IDLE_BUSY_PER_CORE = 0.5  # above this, before a timed run, the machine was not idle
IDLE_SAMPLE_S = 2.0
VAL_BATCH = 256  # adamtune's validation batch for array data (adamtune.data.VAL_BATCH)
OVERHEAD_LEGS = ("search", "bare_tf_data", "bare_numpy")


@dataclass(frozen=True)
class Plan:
    """How big each measurement is for one suite."""

    overhead_trials: int
    overhead_epochs: int
    overhead_rounds: int  # each round: the search, the tf.data loop and the NumPy loop
    rss_warm_up: int  # trials before the measured ones (left out of the slope)
    rss_measured: int  # trials in the slope; a per-100 figure needs RSS_MIN_MEASURED
    rss_train: int  # training samples of the tiny RSS trials (validation: a quarter of that)
    parallel_trials: int
    parallel_epochs: int
    parallel_tile: int  # digits repeated this many times (with noise) so a trial lasts >= ~1 s
    parallel_rounds: int  # pairs of 1- and 2-worker runs, in ABBA order

    @property
    def rss_trials(self) -> int:
        return self.rss_warm_up + self.rss_measured


# Seconds on the 2-core benchmark VM with about one core taken by other work (30 Nov 2026): a
# 12 x 2-epoch search ~8 s, the tf.data loop over its configs ~7 s, the NumPy loop ~9 s (the
# quick overhead measurement, warm-up included: 57 s); a tiny RSS trial ~0.55 s (110 trials:
# 62 s); a CLI trial at tile 4 ~1-1.3 s with 1 worker (results/quick.json), each CLI run
# ~5-10 s of start-up on top (smoke: 5 s for 1 worker, 8 s for 2).
SUITES: dict[str, Plan] = {
    "smoke": Plan(
        overhead_trials=2,
        overhead_epochs=1,
        overhead_rounds=2,
        rss_warm_up=2,
        rss_measured=4,
        rss_train=128,
        parallel_trials=2,
        parallel_epochs=1,
        parallel_tile=1,
        parallel_rounds=1,
    ),
    # ~4.5 min: overhead ~1, RSS (110 trials) ~1, parallel (2 x 2 runs of 24 trials) ~2.5.
    "quick": Plan(
        overhead_trials=12,
        overhead_epochs=2,
        overhead_rounds=2,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=100,
        rss_train=256,
        parallel_trials=24,
        parallel_epochs=1,
        parallel_tile=4,
        parallel_rounds=2,
    ),
    # ~7.5 min (at most ~12 on a contended machine): overhead (4 rounds) ~3, RSS ~1, parallel
    # (2 x 2 runs of 48 trials) ~4.
    "standard": Plan(
        overhead_trials=20,
        overhead_epochs=2,
        overhead_rounds=4,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=100,
        rss_train=256,
        parallel_trials=48,
        parallel_epochs=1,
        parallel_tile=4,
        parallel_rounds=2,
    ),
    "full": Plan(
        overhead_trials=50,
        overhead_epochs=5,
        overhead_rounds=4,
        rss_warm_up=RSS_WARM_UP,
        rss_measured=200,
        rss_train=256,
        parallel_trials=60,
        parallel_epochs=1,
        parallel_tile=8,
        parallel_rounds=3,
    ),
}


# -- pure helpers (tested without TensorFlow) -------------------------------------------------


def check_suite(suite: Any) -> Plan:
    """The plan of ``suite``, or a ValueError naming the suites there are."""
    if not isinstance(suite, str) or suite not in SUITES:
        raise ValueError(
            f"`suite` must be one of {', '.join(SUITES)}. Received: {suite!r}. "
            "Pass one of those names (run.py's --suite)."
        )
    return SUITES[suite]


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


# The CLI target file for the parallel measurement: the same MLP, and digits tiled so one epoch
# is long enough that the per-trial costs (model build, tracing) do not dominate.
_TARGET_TEMPLATE = '''"""adamtune CLI target written by benchmarks/systems.py."""

from typing import Any

import numpy as np

TILE = {tile}


def load_data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    rng = np.random.default_rng(0)
    xs = [x] + [x + rng.normal(0.0, 0.05, x.shape).astype("float32") for _ in range(TILE - 1)]
    return np.concatenate(xs), np.tile(y, TILE)


def build_model(hp: Any) -> Any:
    import keras

    reg = hp.regularizer()
    hidden: list[Any] = [keras.layers.Dense(64, kernel_regularizer=reg)]
    if hp.batch_norm:
        hidden.append(keras.layers.BatchNormalization())
    hidden.append(keras.layers.Activation("relu"))
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            *hidden,
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg),
        ]
    )
'''


# -- data and model ---------------------------------------------------------------------------


def _digits_split() -> tuple[Any, Any, Any, Any]:
    """Digits as ``X / 16`` with a fixed, stratified 80/20 train/validation split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)
    return x_tr, y_tr, x_va, y_va


def _mlp(regularizer: Any, batch_norm: bool) -> Any:
    """Dense 64 relu (BatchNorm before the activation when asked), Dense 10 softmax."""
    import keras

    hidden: list[Any] = [keras.layers.Dense(64, kernel_regularizer=regularizer)]
    if batch_norm:
        hidden.append(keras.layers.BatchNormalization())
    hidden.append(keras.layers.Activation("relu"))
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            *hidden,
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=regularizer),
        ]
    )


def digits_mlp(hp: Any) -> Any:
    """The model_fn given to ``adamtune.search``: it places the regularizer and BatchNorm."""
    return _mlp(hp.regularizer(), hp.batch_norm)


def _regularizer(kind: str, strength: float) -> Any:
    """The Keras regularizer a trial builds for ``kind`` (plain Keras: None for none/AdamW)."""
    import keras

    makers: dict[str, Callable[[], Any]] = {
        "l1": lambda: keras.regularizers.L1(strength),
        "l2": lambda: keras.regularizers.L2(strength),
        "l1_l2": lambda: keras.regularizers.L1L2(l1=strength, l2=strength),
    }
    return makers[kind]() if kind in makers else None


def _optimizer(cfg: dict[str, Any]) -> Any:
    import keras

    common = {
        "learning_rate": cfg["learning_rate"],
        "beta_1": cfg.get("beta_1", 0.9),
        "beta_2": cfg.get("beta_2", 0.999),
        "epsilon": cfg.get("epsilon", 1e-7),
    }
    if cfg["regularizer"] == "adamw":
        return keras.optimizers.AdamW(weight_decay=cfg["regularizer_strength"], **common)
    return keras.optimizers.Adam(**common)


def _scale(name: str, x_tr: Any, x_va: Any) -> tuple[Any, Any]:
    from sklearn import preprocessing

    if name == "none":
        return x_tr, x_va
    scalers: dict[str, Callable[[], Any]] = {
        "standard": preprocessing.StandardScaler,
        "minmax": preprocessing.MinMaxScaler,
        "robust": preprocessing.RobustScaler,
    }
    scaler = scalers[name]()
    return (
        scaler.fit_transform(x_tr).astype("float32"),
        scaler.transform(x_va).astype("float32"),
    )


def _compiled(cfg: dict[str, Any]) -> Any:
    """What a hand-written loop does for one config: build, compile with Adam/AdamW."""
    model = _mlp(
        _regularizer(cfg["regularizer"], cfg["regularizer_strength"]), bool(cfg["batch_norm"])
    )
    model.compile(
        optimizer=_optimizer(cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def numpy_feed(x_tr: Any, y_tr: Any, x_va: Any, y_va: Any, batch_size: int) -> dict[str, Any]:
    """``fit`` keyword arguments for NumPy arrays: Keras makes new iterators every epoch."""
    return {"x": x_tr, "y": y_tr, "batch_size": batch_size, "validation_data": (x_va, y_va)}


def _pooled(ds: Any) -> Any:
    """tf.data's pool limited to TensorFlow's intra-op threads when those are set, as
    adamtune's feed does (``adamtune.data.threaded``)."""
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    if threads <= 0:
        return ds
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    return ds.with_options(options)


def _gathered(x: Any, y: Any, indices: Any) -> Any:
    import tensorflow as tf

    xs, ys = tf.constant(x), tf.constant(y)
    batches = indices.map(
        lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
    return _pooled(batches)


def tf_data_feed(x_tr: Any, y_tr: Any, x_va: Any, y_va: Any, batch_size: int) -> dict[str, Any]:
    """``fit`` keyword arguments feeding the arrays the way an adamtune trial does, in plain
    tf.data: repeating datasets of indices (reshuffled each epoch for training) gathered per
    batch, with ``steps_per_epoch``/``validation_steps`` so an epoch is still one pass. Keras
    then keeps one iterator of each for the whole fit."""
    import tensorflow as tf

    n, n_val = len(x_tr), len(x_va)
    train = (
        tf.data.Dataset.range(n)
        .shuffle(n, reshuffle_each_iteration=True)
        .batch(batch_size)
        .repeat()
    )
    val_batch = max(batch_size, VAL_BATCH)
    val = tf.data.Dataset.range(n_val).batch(val_batch).repeat()
    return {
        "x": _gathered(x_tr, y_tr, train),
        "steps_per_epoch": math.ceil(n / batch_size),
        "shuffle": False,
        "validation_data": _gathered(x_va, y_va, val),
        "validation_steps": math.ceil(n_val / val_batch),
    }


FEEDS: dict[str, Callable[..., dict[str, Any]]] = {
    "bare_tf_data": tf_data_feed,
    "bare_numpy": numpy_feed,
}


def _bare_fit(cfg: dict[str, Any], epochs: int, feed: str, data: tuple[Any, Any, Any, Any]) -> Any:
    """One config in a hand-written loop: build, compile, scale, fit from ``feed``."""
    x_tr, y_tr, x_va, y_va = data
    model = _compiled(cfg)
    xs_tr, xs_va = _scale(cfg["scaling"], x_tr, x_va)
    kwargs = FEEDS[feed](xs_tr, y_tr, xs_va, y_va, int(cfg["batch_size"]))
    return model.fit(**kwargs, epochs=epochs, verbose=0)


# -- helpers ----------------------------------------------------------------------------------


def _space(
    name: str,
    batch_size: Sequence[int],
    batch_norm: Sequence[bool],
    scaling: Sequence[str],
    epochs: int,
) -> Any:
    """Learning rate 1e-4..1e-2 with no batch-size rule (it stays in range: nothing diverges),
    mild regularizers of every kind."""
    from adamtune.spaces import FloatRange, LearningRate, Space

    return Space(
        name=name,
        description="benchmarks/systems.py: a space whose trials cannot diverge",
        learning_rate=LearningRate(low=1e-4, high=1e-2, reference_batch_size=32, rule="none"),
        batch_size=tuple(batch_size),
        regularizer={
            "none": None,
            "l2": FloatRange(1e-6, 1e-4, log=True),
            "l1_l2": FloatRange(1e-7, 1e-5, log=True),
            "adamw": FloatRange(1e-4, 1e-2, log=True),
        },
        batch_norm=tuple(batch_norm),
        scaling=tuple(scaling),
        epochs=epochs,
    )


def _finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    done = (TrialState.COMPLETE, TrialState.PRUNED)
    return sorted(
        (t for t in study.get_trials(deepcopy=False) if t.state in done), key=lambda t: t.number
    )


def _states(study: Any) -> dict[str, int]:
    return dict(Counter(t.state.name for t in study.get_trials(deepcopy=False)))


def _outcomes(trials: Sequence[Any]) -> dict[str, int]:
    return dict(Counter(str(t.user_attrs.get("outcome")) for t in trials))


def _secs(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def _r(value: float | None, digits: int = 4) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _cpu_ticks() -> list[int] | None:
    """/proc/stat's ``cpu`` line (all cores): user nice system idle iowait irq softirq steal."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    return [int(v) for v in fields[1:9]]


def idle_check(sample_s: float = IDLE_SAMPLE_S) -> dict[str, Any]:
    """How busy the machine is now: the load average, and the cores' busy share over
    ``sample_s`` seconds from /proc/stat (the 1-minute load average where that is missing)."""
    cores = os.cpu_count() or 1
    load = _load_average()
    before = _cpu_ticks()
    time.sleep(sample_s)
    after = _cpu_ticks()
    if before is not None and after is not None and after != before:
        busy, source = busy_share(before, after) * cores, f"/proc/stat over {sample_s:g} s"
    elif load is not None:
        busy, source = load[0], "1-minute load average"
    else:
        busy, source = None, "unavailable"
    per_core = None if busy is None else busy / cores
    return {
        "load_average": load,
        "busy_cores": _r(busy, 2),
        "busy_per_core": _r(per_core, 3),
        "source": source,
        "idle": per_core is None or per_core <= IDLE_BUSY_PER_CORE,
    }


def _wait_for_idle(tries: int = 3) -> dict[str, Any]:
    """Up to ``tries`` idle checks (2 s each) until one finds the machine idle; the last one."""
    check = idle_check()
    for _ in range(tries - 1):
        if check["idle"]:
            break
        check = idle_check()
    return check


def _warn_if_busy(
    check: dict[str, Any], before: str, warnings: list[str], log: Callable[[str], None]
) -> None:
    if check["idle"]:
        return
    message = (
        f"machine not idle before {before}: {check['busy_cores']} busy cores of "
        f"{os.cpu_count()} ({check['source']}), load average {check['load_average']}; "
        "other work skews these timings"
    )
    warnings.append(message)
    log(f"warning: {message}")


def _run_search(
    space: Any, data: Any, storage: str, study_name: str, trials: int, epochs: int
) -> tuple[Any, float, datetime, datetime]:
    """``adamtune.search`` as the measurements run it; the result, its wall and its bounds."""
    import optuna

    import adamtune

    called = datetime.now()
    started = time.perf_counter()
    result = adamtune.search(
        digits_mlp,
        data,
        space=space,
        strategy=optuna.samplers.RandomSampler(seed=SEED),
        pruner="none",
        trials=trials,
        epochs=epochs,
        storage=storage,
        study_name=study_name,
        verbose=0,
    )
    return result, time.perf_counter() - started, called, datetime.now()


# -- 1. overhead against bare fit loops -------------------------------------------------------


_WARM_CFG = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "regularizer": "none",
    "regularizer_strength": 0.0,
    "batch_norm": False,
    "scaling": "none",
}


def _warm_up(data: tuple[Any, Any, Any, Any], space: Any, workdir: Path) -> dict[str, float]:
    """One fit of each feed and a one-trial search before anything is timed: TensorFlow's and
    adamtune's imports and first traces are paid here, by none of the timed legs."""
    x_tr, y_tr, x_va, y_va = data
    out: dict[str, float] = {}
    for feed in FEEDS:
        started = time.perf_counter()
        _bare_fit(_WARM_CFG, 1, feed, data)
        out[feed] = time.perf_counter() - started
    storage = f"sqlite:///{workdir / 'overhead-warm-up.db'}"
    data_pair = ((x_tr, y_tr), (x_va, y_va))
    out["search"] = _run_search(space, data_pair, storage, "systems-warm-up", 1, 1)[1]
    return {k: _r(v) or 0.0 for k, v in out.items()}


def _search_leg(
    plan: Plan, space: Any, data: tuple[Any, Any, Any, Any], workdir: Path, round_index: int
) -> dict[str, Any]:
    """One timed search in a fresh study; its trials' configs and where its time went."""
    x_tr, y_tr, x_va, y_va = data
    storage = f"sqlite:///{workdir / f'overhead-r{round_index}.db'}"
    result, wall, called, returned = _run_search(
        space,
        ((x_tr, y_tr), (x_va, y_va)),
        storage,
        f"systems-overhead-r{round_index}",
        plan.overhead_trials,
        plan.overhead_epochs,
    )
    trials = _finished(result.study)
    in_trial = [float(t.user_attrs.get("seconds", 0.0)) for t in trials]
    durations = [_secs(t.datetime_start, t.datetime_complete) for t in trials]
    gaps = [_secs(a.datetime_complete, b.datetime_start) for a, b in itertools.pairwise(trials)]
    return {
        "wall_s": wall,
        "trials_duration_s": sum(durations),
        "run_trial_seconds": sum(in_trial),
        "configs": [dict(t.user_attrs["adam"]) for t in trials],
        "epochs_run": [int(t.user_attrs.get("epochs_run") or plan.overhead_epochs) for t in trials],
        "states": _states(result.study),
        "outcomes": _outcomes(trials),
        "breakdown_s": {
            "before_first_trial": _r(_secs(called, trials[0].datetime_start) if trials else 0.0),
            # run_trial's own clock (`seconds`): build, compile, scale, fit, label.
            "in_run_trial": _r(sum(in_trial)),
            # The rest of each trial: clear_session + gc.collect and the storage writes.
            "in_trial_outside_seconds": _r(sum(durations) - sum(in_trial)),
            "between_trials": _r(sum(gaps)),
            "after_last_trial": _r(_secs(trials[-1].datetime_complete, returned) if trials else 0),
        },
        "trial_durations_s": [_r(v) for v in durations],
    }


def _bare_leg(
    configs: Sequence[dict[str, Any]],
    epochs_run: Sequence[int],
    feed: str,
    data: tuple[Any, Any, Any, Any],
) -> dict[str, Any]:
    """The hand-written loop over ``configs`` with ``feed``, timed fit by fit."""
    each: list[float] = []
    started = time.perf_counter()
    for cfg, epochs in zip(configs, epochs_run, strict=True):
        t0 = time.perf_counter()
        _bare_fit(cfg, epochs, feed, data)
        each.append(time.perf_counter() - t0)
    return {"wall_s": time.perf_counter() - started, "fit_s": [_r(v) for v in each]}


def _cleanup_costs() -> dict[str, list[float | None]]:
    """What adamtune does after every trial and the bare loops do not: clear_session, then
    gc.collect, timed once the bare loops left as many objects around as a search does."""
    import gc

    import keras

    out: dict[str, list[float | None]] = {"clear_session": [], "gc_collect": []}
    for _ in range(3):
        t0 = time.perf_counter()
        keras.backend.clear_session()
        t1 = time.perf_counter()
        gc.collect()
        out["clear_session"].append(_r(t1 - t0))
        out["gc_collect"].append(_r(time.perf_counter() - t1))
    return out


def _overhead_rounds(
    plan: Plan,
    space: Any,
    data: tuple[Any, Any, Any, Any],
    workdir: Path,
    log: Callable[[str], None],
) -> list[dict[str, dict[str, Any]]]:
    """``plan.overhead_rounds`` rounds of the three legs in alternating order; round 0 starts
    with the search, whose configs every bare leg then fits."""
    rounds: list[dict[str, dict[str, Any]]] = []
    first: dict[str, Any] | None = None
    for r in range(plan.overhead_rounds):
        legs: dict[str, dict[str, Any]] = {}
        for leg in alternating_order(r, OVERHEAD_LEGS):
            if leg == "search":
                legs[leg] = _search_leg(plan, space, data, workdir, r)
                first = first or legs[leg]
            else:
                assert first is not None, "round 0 starts with the search"
                legs[leg] = _bare_leg(first["configs"], first["epochs_run"], leg, data)
            log(f"overhead: round {r} {leg}: {legs[leg]['wall_s']:.1f} s")
        rounds.append(legs)
    return rounds


def _column(rounds: Sequence[dict[str, dict[str, Any]]], leg: str, key: str) -> list[float]:
    return [float(r[leg][key]) for r in rounds]


def measure_overhead(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """adamtune.search(N trials) wall over bare ``fit`` loops on the same configs: fed like
    adamtune (tf.data) and fed NumPy arrays; and the search's wall over its trials' durations."""
    data = _digits_split()
    space = _space(
        "systems-overhead",
        batch_size=(32, 64, 128),
        batch_norm=(False, True),
        scaling=("none", "standard", "minmax"),
        epochs=plan.overhead_epochs,
    )
    warm = _warm_up(data, space, workdir)
    log(
        f"overhead: {plan.overhead_rounds} rounds of adamtune.search ({plan.overhead_trials} "
        f"trials x {plan.overhead_epochs} epochs), a tf.data-fed and a NumPy-fed fit loop"
    )
    rounds = _overhead_rounds(plan, space, data, workdir, log)
    search = _column(rounds, "search", "wall_s")
    tf_data, numpy_fed = (
        _column(rounds, "bare_tf_data", "wall_s"),
        _column(rounds, "bare_numpy", "wall_s"),
    )
    ratio = median_of_ratios(search, tf_data)
    in_trial = median_of_ratios(search, _column(rounds, "search", "trials_duration_s"))
    log(f"overhead: search / tf.data loop {ratio:.3f}, search / in-trial time {in_trial:.3f}")
    first = rounds[0]["search"]
    return {
        "ratio": ratio,
        "search_wall_over_in_trial_time": in_trial,
        "details": {
            "ratio_vs_tf_data_fed_fit": _r(ratio),
            "ratio_vs_numpy_fed_fit": _r(median_of_ratios(search, numpy_fed)),
            "search_wall_over_in_trial_time": _r(in_trial),
            # Over run_trial's own clock (the `seconds` attribute), as an earlier reading took it.
            "search_wall_over_run_trial_seconds": _r(
                median_of_ratios(search, _column(rounds, "search", "run_trial_seconds"))
            ),
            "numpy_fed_over_tf_data_fed": _r(median_of_ratios(numpy_fed, tf_data)),
            "per_round_ratio_vs_tf_data_fed_fit": [
                _r(s / t) for s, t in zip(search, tf_data, strict=True)
            ],
            "rounds": plan.overhead_rounds,
            "order": [alternating_order(r, OVERHEAD_LEGS) for r in range(plan.overhead_rounds)],
            "search_wall_s": [_r(v) for v in search],
            "bare_tf_data_wall_s": [_r(v) for v in tf_data],
            "bare_numpy_wall_s": [_r(v) for v in numpy_fed],
            "trials": len(first["configs"]),
            "epochs": plan.overhead_epochs,
            "trials_cut_short": sum(e < plan.overhead_epochs for e in first["epochs_run"]),
            "same_configs_every_round": all(
                r["search"]["configs"] == first["configs"] for r in rounds
            ),
            "warm_up_s": warm,
            "cleanup_s": _cleanup_costs(),
            "legs": [
                {leg: {k: v for k, v in legs[leg].items() if k != "configs"} for leg in legs}
                for legs in rounds
            ],
            "configs": first["configs"],
            "space": space.to_dict(),
        },
    }


# -- 2. resident memory growth over many trials in one process ---------------------------------


def _rss_windows(series: Sequence[float], warm_up: int) -> dict[str, Any]:
    """Means of the first and last 10 measured trials (fewer when there are fewer)."""
    measured = list(series[warm_up:])
    w = max(1, min(10, len(measured) // 2))
    first, last = measured[:w], measured[-w:]
    return {
        "window": w,
        "first_window_mean_mb": _r(statistics.fmean(first), 2) if first else None,
        "last_window_mean_mb": _r(statistics.fmean(last), 2) if last else None,
        "first_to_last_mb": _r(statistics.fmean(last) - statistics.fmean(first), 2)
        if first
        else None,
    }


def measure_rss(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """One search of many tiny trials; the slope of the stored ``rss_mb`` per 100 trials."""
    x_tr, y_tr, x_va, y_va = _digits_split()
    n_val = max(plan.rss_train // 4, 20)
    data = ((x_tr[: plan.rss_train], y_tr[: plan.rss_train]), (x_va[:n_val], y_va[:n_val]))
    space = _space(
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
    result, wall, _, _ = _run_search(space, data, storage, "systems-rss", plan.rss_trials, 1)
    trials = [t for t in _finished(result.study) if "rss_mb" in t.user_attrs]
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
            "slope_mb_per_100_trials": _r(slope, 2),
            "method": "least-squares slope of rss_mb on the trial number after the warm-up, x100",
            "note": note,
            **_rss_windows(series, plan.rss_warm_up),
            "train_samples": plan.rss_train,
            "val_samples": n_val,
            "search_wall_s": _r(wall),
            "states": _states(result.study),
            "outcomes": _outcomes(trials),
            "rss_mb": series,
        },
    }


# -- 3. parallel speedup of the CLI's --workers ----------------------------------------------


def _cli_thread_env(workers: int) -> dict[str, str]:
    """What ``adamtune search --workers N`` sets for itself and its helpers (it overrides ours)."""
    from adamtune.cli._workers import split_threads

    return split_threads(workers)


def _cli_command(
    workers: int, target: Path, space_file: Path, plan: Plan, storage: str
) -> list[str]:
    return [
        *(sys.executable, "-m", "adamtune", "search", f"{target}:build_model"),
        *("--data", f"{target}:load_data", "--storage", storage),
        *("--study", f"systems-parallel-w{workers}"),
        *("--trials", str(plan.parallel_trials), "--epochs", str(plan.parallel_epochs)),
        *("--space", str(space_file), "--strategy", "random", "--seed", str(SEED)),
        *("--workers", str(workers), "-q"),
    ]


def _launch(cmd: list[str], workdir: Path, out_path: Path) -> float:
    """Run ``cmd``; its wall from launch to exit. A failed run raises with its output's tail."""
    env = {**os.environ, **SUBPROCESS_ENV}
    env.pop("ADAMTUNE_STORAGE", None)
    started = time.perf_counter()
    with out_path.open("wb") as out:
        proc = subprocess.run(cmd, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = out_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"`{' '.join(cmd[2:5])} ...` exited with {proc.returncode}:\n{tail}")
    return wall


def _span_figures(trials: Sequence[Any], span: float) -> dict[str, Any]:
    """Rates from the trials' timestamps (start-up left out), overall and per process."""
    by_pid: dict[str, list[Any]] = {}
    for t in trials:
        by_pid.setdefault(str((t.user_attrs.get("worker") or {}).get("pid")), []).append(t)
    # Each process from its own first trial: the helpers' late start taken out.
    steady = sum(
        len(ts) / span_i * 3600
        for ts in by_pid.values()
        if (span_i := _secs(ts[0].datetime_start, max(t.datetime_complete for t in ts))) > 0
    )
    first = min(t.datetime_start for t in trials)
    epochs = sum(int(t.user_attrs.get("epochs_run") or 0) for t in trials)
    return {
        "trials_per_hour_span": _r(len(trials) / span * 3600, 1) if span > 0 else None,
        "epochs_per_hour_span": _r(epochs / span * 3600, 1) if span > 0 else None,
        "trials_by_pid": {pid: len(ts) for pid, ts in by_pid.items()},
        "first_trial_of_pid_after_s": {
            pid: _r(_secs(first, ts[0].datetime_start), 2) for pid, ts in by_pid.items()
        },
        "trials_per_hour_sum_over_processes": _r(steady, 1),
    }


def _run_cli(
    workers: int,
    target: Path,
    space_file: Path,
    plan: Plan,
    workdir: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    import optuna

    workdir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{workdir / f'parallel-w{workers}.db'}"
    cmd = _cli_command(workers, target, space_file, plan, storage)
    check = _wait_for_idle()
    log(
        f"parallel: adamtune search --workers {workers}, {plan.parallel_trials} trials "
        f"(busy cores before: {check['busy_cores']}, load average {check['load_average']})"
    )
    wall = _launch(cmd, workdir, workdir / f"parallel-w{workers}.out")

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=f"systems-parallel-w{workers}", storage=storage)
    trials = _finished(study)
    span = _secs(min(t.datetime_start for t in trials), max(t.datetime_complete for t in trials))
    durations = [_secs(t.datetime_start, t.datetime_complete) for t in trials]
    log(
        f"parallel: --workers {workers}: {len(trials)} trials, wall {wall:.1f} s "
        f"({len(trials) / wall * 3600:.0f}/h with start-up), trials' span {span:.1f} s"
    )
    return {
        "workers": workers,
        "trials": len(trials),
        "wall_s": _r(wall),
        "trials_per_hour": _r(len(trials) / wall * 3600, 1),
        "span_s": _r(span),
        "startup_and_teardown_s": _r(wall - span),
        **_span_figures(trials, span),
        "idle_check_before": check,
        "trial_durations_s": [_r(v) for v in durations],
        "mean_trial_s": _r(statistics.fmean(durations)) if durations else None,
        "states": _states(study),
        "outcomes": _outcomes(trials),
        "thread_env_set_by_cli": _cli_thread_env(workers),
        "command": " ".join(cmd),
    }


def _parallel_inputs(plan: Plan, workdir: Path) -> tuple[Path, Path]:
    """The CLI target file and the space file of the parallel runs."""
    from adamtune.spaces import save_space

    target = workdir / "systems_target.py"
    target.write_text(_TARGET_TEMPLATE.format(tile=plan.parallel_tile))
    space_file = save_space(
        _space(
            "systems-parallel",
            batch_size=(32,),
            batch_norm=(False,),
            scaling=("none", "standard"),
            epochs=plan.parallel_epochs,
        ),
        workdir / "systems-parallel.yaml",
    )
    return target, Path(space_file)


def _rate_pairs(runs: Sequence[dict[str, Any]], seconds: str) -> list[tuple[int, float]]:
    return [(int(r["trials"]), float(r[seconds])) for r in runs]


def measure_parallel(
    plan: Plan, workdir: Path, log: Callable[[str], None], warnings: list[str]
) -> dict[str, Any]:
    """Trials per hour with ``--workers 2`` over ``--workers 1``, same target, space and budget,
    each run timed from launching the command to its exit.

    The shared VM this runs on has noisy neighbours, so the runs go in ABBA order (1, 2, 2, 1
    workers ... ``plan.parallel_rounds`` pairs) and the rates are pooled over the runs.
    """
    target, space_file = _parallel_inputs(plan, workdir)
    order = [w for r in range(plan.parallel_rounds) for w in alternating_order(r, ("1", "2"))]
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for i, workers in enumerate(int(w) for w in order):
        run = _run_cli(workers, target, space_file, plan, workdir / f"r{i}", log)
        _warn_if_busy(
            run["idle_check_before"], f"parallel run {i} (--workers {workers})", warnings, log
        )
        runs[workers].append(run)

    speedup = speedup_including_startup(
        _rate_pairs(runs[1], "wall_s"), _rate_pairs(runs[2], "wall_s")
    )
    without = speedup_including_startup(
        _rate_pairs(runs[1], "span_s"), _rate_pairs(runs[2], "span_s")
    )
    log(f"parallel: speedup {speedup:.3f} with start-up, {without:.3f} without")
    return {
        "speedup": speedup,
        "details": {
            "speedup_including_startup": _r(speedup),
            "speedup_without_startup": _r(without),
            "order": [int(w) for w in order],
            "per_round_speedup": [
                _r(speedup_including_startup([a], [b]), 3)
                for a, b in zip(
                    _rate_pairs(runs[1], "wall_s"), _rate_pairs(runs[2], "wall_s"), strict=True
                )
            ],
            "per_round_speedup_without_startup": [
                _r(speedup_including_startup([a], [b]), 3)
                for a, b in zip(
                    _rate_pairs(runs[1], "span_s"), _rate_pairs(runs[2], "span_s"), strict=True
                )
            ],
            # Each process timed from its own first trial (the helper's late start left out).
            "speedup_sum_over_processes": _r(
                statistics.fmean(r["trials_per_hour_sum_over_processes"] for r in runs[2])
                / statistics.fmean(r["trials_per_hour_sum_over_processes"] for r in runs[1])
            ),
            "all_runs_started_idle": all(
                r["idle_check_before"]["idle"] for rs in runs.values() for r in rs
            ),
            "workers_1": runs[1],
            "workers_2": runs[2],
            "data_tile": plan.parallel_tile,
            "epochs": plan.parallel_epochs,
            "subprocess_env": SUBPROCESS_ENV,
            "space_file": str(space_file),
        },
    }


# -- entry point ------------------------------------------------------------------------------


def measure_systems(
    suite: str, workdir: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the three system measurements at ``suite`` size (a key of ``SUITES``).

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
    _warn_if_busy(before, "the systems measurements", warnings, log)
    started = time.perf_counter()
    parallel = measure_parallel(plan, workdir, log, warnings)  # subprocesses first: we are idle
    overhead = measure_overhead(plan, workdir, log)
    rss = measure_rss(plan, workdir, log)
    seconds = time.perf_counter() - started
    log(f"systems ({suite}): {seconds:.0f} s")
    return {
        "suite": suite,
        "overhead_ratio_vs_bare_fit": _r(overhead["ratio"]),
        "search_wall_over_in_trial_time": _r(overhead["search_wall_over_in_trial_time"]),
        "rss_growth_mb_per_100_trials": _r(rss["per_100"], 2),
        "parallel_speedup_2_workers": _r(parallel["speedup"]),
        "seconds": _r(seconds, 1),
        "details": {
            "plan": {**asdict(plan), "rss_trials": plan.rss_trials},
            "cpu_count": os.cpu_count(),
            "warnings": warnings,
            # Other work on the machine skews every number here (the parallel speedup most).
            "idle_check_before": before,
            "load_average_after": _load_average(),
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
