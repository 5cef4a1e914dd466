"""Measurement 3: the parallel speedup of the CLI's ``--workers`` (see
``parallel_speedup_2_workers`` in benchmarks/systems.py)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from systems_idle import wait_for_idle, warn_if_busy
from systems_plan import Plan
from systems_setup import (
    SEED,
    SUBPROCESS_ENV,
    TARGET_TEMPLATE,
    finished_trials,
    space_for,
    trial_outcomes,
    trial_states,
)
from systems_stats import alternating_order, rounded, seconds_between, speedup_including_startup


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
        if (span_i := seconds_between(ts[0].datetime_start, max(t.datetime_complete for t in ts)))
        > 0
    )
    first = min(t.datetime_start for t in trials)
    epochs = sum(int(t.user_attrs.get("epochs_run") or 0) for t in trials)
    return {
        "trials_per_hour_span": rounded(len(trials) / span * 3600, 1) if span > 0 else None,
        "epochs_per_hour_span": rounded(epochs / span * 3600, 1) if span > 0 else None,
        "trials_by_pid": {pid: len(ts) for pid, ts in by_pid.items()},
        "first_trial_of_pid_after_s": {
            pid: rounded(seconds_between(first, ts[0].datetime_start), 2)
            for pid, ts in by_pid.items()
        },
        "trials_per_hour_sum_over_processes": rounded(steady, 1),
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
    check = wait_for_idle()
    log(
        f"parallel: adamtune search --workers {workers}, {plan.parallel_trials} trials "
        f"(busy cores before: {check['busy_cores']}, load average {check['load_average']})"
    )
    wall = _launch(cmd, workdir, workdir / f"parallel-w{workers}.out")

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=f"systems-parallel-w{workers}", storage=storage)
    trials = finished_trials(study)
    span = seconds_between(
        min(t.datetime_start for t in trials), max(t.datetime_complete for t in trials)
    )
    durations = [seconds_between(t.datetime_start, t.datetime_complete) for t in trials]
    log(
        f"parallel: --workers {workers}: {len(trials)} trials, wall {wall:.1f} s "
        f"({len(trials) / wall * 3600:.0f}/h with start-up), trials' span {span:.1f} s"
    )
    return {
        "workers": workers,
        "trials": len(trials),
        "wall_s": rounded(wall),
        "trials_per_hour": rounded(len(trials) / wall * 3600, 1),
        "span_s": rounded(span),
        "startup_and_teardown_s": rounded(wall - span),
        **_span_figures(trials, span),
        "idle_check_before": check,
        "trial_durations_s": [rounded(v) for v in durations],
        "mean_trial_s": rounded(statistics.fmean(durations)) if durations else None,
        "states": trial_states(study),
        "outcomes": trial_outcomes(trials),
        "thread_env_set_by_cli": _cli_thread_env(workers),
        "command": " ".join(cmd),
    }


def _parallel_inputs(plan: Plan, workdir: Path) -> tuple[Path, Path]:
    """The CLI target file and the space file of the parallel runs."""
    from adamtune.spaces import save_space

    target = workdir / "systems_target.py"
    target.write_text(TARGET_TEMPLATE.format(tile=plan.parallel_tile))
    space_file = save_space(
        space_for(
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
        warn_if_busy(
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
            "speedup_including_startup": rounded(speedup),
            "speedup_without_startup": rounded(without),
            "order": [int(w) for w in order],
            "per_round_speedup": [
                rounded(speedup_including_startup([a], [b]), 3)
                for a, b in zip(
                    _rate_pairs(runs[1], "wall_s"), _rate_pairs(runs[2], "wall_s"), strict=True
                )
            ],
            "per_round_speedup_without_startup": [
                rounded(speedup_including_startup([a], [b]), 3)
                for a, b in zip(
                    _rate_pairs(runs[1], "span_s"), _rate_pairs(runs[2], "span_s"), strict=True
                )
            ],
            # Each process timed from its own first trial (the helper's late start left out).
            "speedup_sum_over_processes": rounded(
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
