"""System measurements of adamtune: search overhead, memory growth per trial, parallel speedup.

    python benchmarks/systems.py [smoke|quick|full]      # prints the JSON

Three measurements, all on scikit-learn's digits (``X / 16``) and a small MLP:

* ``overhead_ratio_vs_bare_fit``: the wall time of ``adamtune.search`` running N trials (random
  sampler, no pruner, a learning-rate range that cannot diverge, a fresh SQLite study) divided by
  the wall time of a plain ``model.fit`` loop over the very configs the search ran (read back from
  the study), in the same process after a warm-up fit, so TensorFlow's import is in neither.
* ``rss_growth_mb_per_100_trials``: one search of many tiny trials in this process; adamtune
  stores each trial's resident memory (``rss_mb``). The growth is the mean of the last 10 trials
  minus the mean of trials 10-19, divided by the trials between the two windows' centres and
  multiplied by 100 (smaller windows in the smoke suite).
* ``parallel_speedup_2_workers``: trials per hour of the real CLI (``python -m adamtune search
  ... --workers 2``) over the same with ``--workers 1``, from the trials' timestamps in the storage
  (first start to last completion: process start-up is left out; the wall with it is in details).

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

__all__ = ["SUITES", "Plan", "measure_systems"]

SEED = 0
# The CLI's subprocesses: quiet TensorFlow, one thread each (see `_cli_thread_env` for what the
# CLI itself then sets).
SUBPROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


@dataclass(frozen=True)
class Plan:
    """How big each measurement is for one suite."""

    overhead_trials: int
    overhead_epochs: int
    rss_trials: int
    rss_train: int  # training samples of the tiny RSS trials (validation: a quarter of that)
    parallel_trials: int
    parallel_epochs: int
    parallel_tile: int  # digits repeated this many times (with noise) so a trial lasts >= ~1.5 s
    parallel_rounds: int  # pairs of 1- and 2-worker runs, in ABBA order


SUITES: dict[str, Plan] = {
    "smoke": Plan(
        overhead_trials=2,
        overhead_epochs=1,
        rss_trials=4,
        rss_train=128,
        parallel_trials=1,
        parallel_epochs=1,
        parallel_tile=1,
        parallel_rounds=1,
    ),
    "quick": Plan(
        overhead_trials=20,
        overhead_epochs=2,
        # 100 tiny trials would take ~2 minutes; the growth is linear, so trials 10-19 against
        # 30-39 give the same slope in the quick suite's budget.
        rss_trials=40,
        rss_train=256,
        # Long enough that the second worker's start-up (~2 s: it imports TensorFlow while the
        # first runs its pre-flight) is a small part of the span, as it is in a night's run.
        parallel_trials=36,
        parallel_epochs=1,
        parallel_tile=4,
        parallel_rounds=2,
    ),
    "full": Plan(
        overhead_trials=50,
        overhead_epochs=5,
        rss_trials=200,
        rss_train=256,
        parallel_trials=40,
        parallel_epochs=1,
        parallel_tile=8,
        parallel_rounds=3,
    ),
}

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
    """The same Keras regularizer a trial builds (a plain constructor, no adamtune machinery)."""
    from adamtune.training._layers import make_regularizer

    return make_regularizer(kind, strength)


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


def _bare_fit(cfg: dict[str, Any], epochs: int, x_tr: Any, y_tr: Any, x_va: Any, y_va: Any) -> Any:
    """What a hand-written loop does for one config: build, compile with Adam/AdamW, scale, fit."""
    model = _mlp(
        _regularizer(cfg["regularizer"], cfg["regularizer_strength"]), bool(cfg["batch_norm"])
    )
    model.compile(
        optimizer=_optimizer(cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    xs_tr, xs_va = _scale(cfg["scaling"], x_tr, x_va)
    return model.fit(
        xs_tr,
        y_tr,
        batch_size=int(cfg["batch_size"]),
        epochs=epochs,
        validation_data=(xs_va, y_va),
        verbose=0,
    )


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


def _r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


def _warm_up(x_tr: Any, y_tr: Any, x_va: Any, y_va: Any) -> float:
    """One fit before anything is timed: TensorFlow's import and first graph build are paid here."""
    started = time.perf_counter()
    cfg = {
        "learning_rate": 1e-3,
        "batch_size": 32,
        "regularizer": "none",
        "regularizer_strength": 0.0,
        "batch_norm": False,
        "scaling": "none",
    }
    _bare_fit(cfg, 1, x_tr, y_tr, x_va, y_va)
    return time.perf_counter() - started


# -- 1. overhead against a bare fit loop ------------------------------------------------------


def measure_overhead(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """adamtune.search(N trials) wall / wall of a bare ``fit`` loop over the same configs."""
    import gc

    import keras
    import optuna

    import adamtune

    x_tr, y_tr, x_va, y_va = _digits_split()
    warm = _warm_up(x_tr, y_tr, x_va, y_va)
    space = _space(
        "systems-overhead",
        batch_size=(32, 64, 128),
        batch_norm=(False, True),
        scaling=("none", "standard", "minmax"),
        epochs=plan.overhead_epochs,
    )
    storage = f"sqlite:///{workdir / 'overhead.db'}"
    log(f"overhead: adamtune.search, {plan.overhead_trials} trials x {plan.overhead_epochs} epochs")
    called = datetime.now()
    started = time.perf_counter()
    result = adamtune.search(
        digits_mlp,
        ((x_tr, y_tr), (x_va, y_va)),
        space=space,
        strategy=optuna.samplers.RandomSampler(seed=SEED),
        pruner="none",
        trials=plan.overhead_trials,
        epochs=plan.overhead_epochs,
        storage=storage,
        study_name="systems-overhead",
        verbose=0,
    )
    search_wall = time.perf_counter() - started
    returned = datetime.now()

    trials = _finished(result.study)
    configs = [dict(t.user_attrs["adam"]) for t in trials]
    epochs_run = [int(t.user_attrs.get("epochs_run") or plan.overhead_epochs) for t in trials]
    cut = sum(1 for e in epochs_run if e < plan.overhead_epochs)

    log(f"overhead: bare fit loop over the same {len(configs)} configs")
    bare_each: list[float] = []
    bare_started = time.perf_counter()
    for cfg, epochs in zip(configs, epochs_run, strict=True):
        t0 = time.perf_counter()
        _bare_fit(cfg, epochs, x_tr, y_tr, x_va, y_va)
        bare_each.append(time.perf_counter() - t0)
    bare_wall = time.perf_counter() - bare_started

    # What adamtune does after every trial (outside its `seconds` attribute) and the bare loop
    # does not: keras.backend.clear_session() then gc.collect(). Timed here, once the bare loop
    # left as many objects around as a search does.
    cleanup: dict[str, list[float]] = {"clear_session": [], "gc_collect": []}
    for _ in range(3):
        t0 = time.perf_counter()
        keras.backend.clear_session()
        t1 = time.perf_counter()
        gc.collect()
        cleanup["clear_session"].append(_r(t1 - t0))
        cleanup["gc_collect"].append(_r(time.perf_counter() - t1))

    in_trial = [float(t.user_attrs.get("seconds", 0.0)) for t in trials]
    durations = [_secs(t.datetime_start, t.datetime_complete) for t in trials]
    gaps = [_secs(a.datetime_complete, b.datetime_start) for a, b in itertools.pairwise(trials)]
    before_first = _secs(called, trials[0].datetime_start) if trials else 0.0
    after_last = _secs(trials[-1].datetime_complete, returned) if trials else 0.0
    ratio = search_wall / bare_wall if bare_wall > 0 else math.nan
    log(f"overhead: search {search_wall:.1f} s, bare {bare_wall:.1f} s, ratio {ratio:.3f}")
    return {
        "ratio": ratio,
        "details": {
            "trials": len(trials),
            "epochs": plan.overhead_epochs,
            "states": _states(result.study),
            "outcomes": _outcomes(trials),
            "trials_cut_short": cut,
            "warm_up_fit_s": _r(warm),
            "search_wall_s": _r(search_wall),
            "bare_wall_s": _r(bare_wall),
            "bare_fit_s": [_r(v) for v in bare_each],
            "breakdown_s": {
                "before_first_trial": _r(before_first),
                # run_trial's own clock (`seconds`): build, compile, scale, fit, label.
                "in_run_trial": _r(sum(in_trial)),
                # The rest of each trial: clear_session + gc.collect (run after `seconds` is
                # taken) and the trial's storage writes.
                "in_trial_outside_seconds": _r(sum(durations) - sum(in_trial)),
                "between_trials": _r(sum(gaps)),
                "after_last_trial": _r(after_last),
            },
            "trial_seconds_attr": [_r(v) for v in in_trial],
            "trial_durations_s": [_r(v) for v in durations],
            "cleanup_s": cleanup,
            "configs": configs,
            "space": space.to_dict(),
            "storage": storage,
        },
    }


# -- 2. resident memory growth over many trials in one process ---------------------------------


def _window(n: int) -> int:
    return max(1, min(10, n // 4))


def measure_rss(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """One search of many tiny trials; growth of the stored ``rss_mb`` per 100 trials."""
    import optuna

    import adamtune

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
    log(f"rss: adamtune.search, {plan.rss_trials} trials x 1 epoch in this process")
    started = time.perf_counter()
    result = adamtune.search(
        digits_mlp,
        data,
        space=space,
        strategy=optuna.samplers.RandomSampler(seed=SEED),
        pruner="none",
        trials=plan.rss_trials,
        epochs=1,
        storage=f"sqlite:///{workdir / 'rss.db'}",
        study_name="systems-rss",
        verbose=0,
    )
    wall = time.perf_counter() - started
    trials = _finished(result.study)
    series = [float(t.user_attrs["rss_mb"]) for t in trials if "rss_mb" in t.user_attrs]
    w = _window(len(series))
    base, end = series[w : 2 * w], series[-w:]
    # Centres of the two windows, in trials: per 100 trials is the slope between them x 100.
    distance = (len(series) - w / 2) - (w + w / 2) if series else 0.0
    growth = (statistics.fmean(end) - statistics.fmean(base)) if base and end else math.nan
    per_100 = growth / distance * 100 if distance > 0 else math.nan
    log(
        f"rss: {series[0] if series else 0:.0f} -> {series[-1] if series else 0:.0f} MiB, "
        f"{per_100:.1f} MiB per 100 trials ({wall:.0f} s)"
    )
    return {
        "per_100": per_100,
        "details": {
            "trials": len(series),
            "train_samples": plan.rss_train,
            "val_samples": n_val,
            "window": w,
            "baseline_trials": [w, 2 * w - 1],
            "end_trials": [len(series) - w, len(series) - 1],
            "baseline_mean_mb": _r(statistics.fmean(base), 2) if base else None,
            "end_mean_mb": _r(statistics.fmean(end), 2) if end else None,
            "growth_mb": _r(growth, 2),
            "window_distance_trials": distance,
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
    db = workdir / f"parallel-w{workers}.db"
    study_name = f"systems-parallel-w{workers}"
    storage = f"sqlite:///{db}"
    cmd = [
        *(sys.executable, "-m", "adamtune", "search", f"{target}:build_model"),
        *("--data", f"{target}:load_data", "--storage", storage, "--study", study_name),
        *("--trials", str(plan.parallel_trials), "--epochs", str(plan.parallel_epochs)),
        *("--space", str(space_file), "--strategy", "random", "--seed", str(SEED)),
        *("--workers", str(workers), "-q"),
    ]
    env = {**os.environ, **SUBPROCESS_ENV}
    env.pop("ADAMTUNE_STORAGE", None)
    log(f"parallel: adamtune search --workers {workers}, {plan.parallel_trials} trials")
    out_path = workdir / f"parallel-w{workers}.out"
    started = time.perf_counter()
    with out_path.open("wb") as out:
        proc = subprocess.run(cmd, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = out_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"`adamtune search --workers {workers}` exited with {proc.returncode}:\n{tail}"
        )

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = _finished(study)
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    span = _secs(first, last)
    by_pid: dict[str, list[Any]] = {}
    for t in trials:
        by_pid.setdefault(str((t.user_attrs.get("worker") or {}).get("pid")), []).append(t)
    # Each process from its own first trial: the helpers' late start taken out.
    steady = sum(
        len(ts) / span_i * 3600
        for ts in by_pid.values()
        if (span_i := _secs(ts[0].datetime_start, max(t.datetime_complete for t in ts))) > 0
    )
    joined = {pid: _r(_secs(first, ts[0].datetime_start), 2) for pid, ts in by_pid.items()}
    durations = [_secs(t.datetime_start, t.datetime_complete) for t in trials]
    per_hour = len(trials) / span * 3600 if span > 0 else math.nan
    epochs = sum(int(t.user_attrs.get("epochs_run") or 0) for t in trials)
    log(
        f"parallel: --workers {workers}: {len(trials)} trials in {span:.1f} s "
        f"({per_hour:.0f}/h), wall with start-up {wall:.1f} s"
    )
    return {
        "workers": workers,
        "trials": len(trials),
        "trials_per_hour": per_hour,
        "epochs_per_hour": epochs / span * 3600 if span > 0 else math.nan,
        "span_s": _r(span),
        "wall_with_startup_s": _r(wall),
        "trials_per_hour_with_startup": _r(len(trials) / wall * 3600, 1),
        "trial_durations_s": [_r(v) for v in durations],
        "mean_trial_s": _r(statistics.fmean(durations)) if durations else None,
        "trials_by_pid": {pid: len(ts) for pid, ts in by_pid.items()},
        "first_trial_of_pid_after_s": joined,
        "trials_per_hour_sum_over_processes": _r(steady, 1),
        "states": _states(study),
        "outcomes": _outcomes(trials),
        "thread_env_set_by_cli": _cli_thread_env(workers),
        "command": " ".join(cmd),
    }


def measure_parallel(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict[str, Any]:
    """Trials per hour with ``--workers 2`` over ``--workers 1``, same target, space and budget.

    The shared VM this runs on has noisy neighbours (a third of the CPU time "stolen" at times),
    so the runs go in ABBA order (1, 2, 2, 1 workers ... ``plan.parallel_rounds`` pairs) and the
    speedup is total trials per hour of the 2-worker runs over that of the 1-worker runs.
    """
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
    order = [w for r in range(plan.parallel_rounds) for w in ((1, 2) if r % 2 == 0 else (2, 1))]
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for i, workers in enumerate(order):
        runs[workers].append(_run_cli(workers, target, space_file, plan, workdir / f"r{i}", log))

    def rate(key: str, workers: int) -> float:
        return statistics.fmean(float(r[key]) for r in runs[workers])

    speedup = rate("trials_per_hour", 2) / rate("trials_per_hour", 1)
    log(f"parallel: speedup {speedup:.3f} over {plan.parallel_rounds} rounds")
    return {
        "speedup": speedup,
        "details": {
            "order": order,
            "per_round_speedup": [
                _r(b["trials_per_hour"] / a["trials_per_hour"], 3)
                for a, b in zip(runs[1], runs[2], strict=True)
            ],
            "workers_1": runs[1],
            "workers_2": runs[2],
            "epochs_per_hour_speedup": rate("epochs_per_hour", 2) / rate("epochs_per_hour", 1),
            "speedup_with_startup": rate("trials_per_hour_with_startup", 2)
            / rate("trials_per_hour_with_startup", 1),
            # Each process timed from its own first trial (the helper's late start left out).
            "speedup_sum_over_processes": rate("trials_per_hour_sum_over_processes", 2)
            / rate("trials_per_hour_sum_over_processes", 1),
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
    """Run the three system measurements at ``suite`` size ("smoke", "quick" or "full").

    Returns ``overhead_ratio_vs_bare_fit``, ``rss_growth_mb_per_100_trials``,
    ``parallel_speedup_2_workers`` (floats), ``suite``, ``seconds`` and ``details`` (raw numbers).
    """
    if suite not in SUITES:
        raise ValueError(f"`suite` must be one of {', '.join(SUITES)}. Received: {suite!r}")
    plan = SUITES[suite]
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    # Environment only, before TensorFlow loads in this process; nothing else TF-global is set.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    load_before = _load_average()
    if load_before and load_before[0] > 0.5:
        log(f"warning: load average {load_before[0]} before starting: other work skews timings")
    started = time.perf_counter()
    parallel = measure_parallel(plan, workdir, log)  # subprocesses first: this process is idle
    overhead = measure_overhead(plan, workdir, log)
    rss = measure_rss(plan, workdir, log)
    seconds = time.perf_counter() - started
    log(f"systems ({suite}): {seconds:.0f} s")
    return {
        "suite": suite,
        "overhead_ratio_vs_bare_fit": _r(overhead["ratio"]),
        "rss_growth_mb_per_100_trials": _r(rss["per_100"], 2),
        "parallel_speedup_2_workers": _r(parallel["speedup"]),
        "seconds": _r(seconds, 1),
        "details": {
            "plan": asdict(plan),
            "cpu_count": os.cpu_count(),
            # Other work on the machine skews every number here (the parallel speedup most).
            "load_average_before": load_before,
            "load_average_after": _load_average(),
            "python": sys.version.split()[0],
            "versions": _versions(),
            "overhead": overhead["details"],
            "rss": rss["details"],
            "parallel": parallel["details"],
        },
    }


def _load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


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
