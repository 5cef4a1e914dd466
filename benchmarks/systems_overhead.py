"""Measurement 1: ``adamtune.search`` against bare ``fit`` loops on the same configs (see
``overhead_ratio_vs_bare_fit`` and ``search_wall_over_in_trial_time`` in benchmarks/systems.py).

Each leg of each round runs in a process of its own (this file run as a script on a job file),
after its own warm-up: in one process, a search timed after two bare loops paid to collect the
graphs those loops leaked (rounds of 1.51 and 1.58 beside 0.83 and 1.14 on 3 Dec 2026), so the
order of the legs, not adamtune, set the spread.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from systems_bare import bare_fit
from systems_plan import Plan, check_suite
from systems_setup import (
    digits_split,
    finished_trials,
    run_search,
    space_for,
    trial_outcomes,
    trial_states,
)
from systems_stats import alternating_order, median_of_ratios, rounded, seconds_between

OVERHEAD_LEGS = ("search", "bare_tf_data", "bare_numpy")


_WARM_CFG = {
    "learning_rate": 1e-3,
    "batch_size": 32,
    "regularizer": "none",
    "regularizer_strength": 0.0,
    "batch_norm": False,
    "scaling": "none",
}


def _space(plan: Plan) -> Any:
    return space_for(
        "systems-overhead",
        batch_size=(32, 64, 128),
        batch_norm=(False, True),
        scaling=("none", "standard", "minmax"),
        epochs=plan.overhead_epochs,
    )


def _warm_up(
    leg: str, data: tuple[Any, Any, Any, Any], space: Any, workdir: Path, round_index: int
) -> float:
    """One fit of the leg's feed, or a one-trial search, before the leg is timed: TensorFlow's
    and adamtune's first traces are paid here, by none of the timed legs."""
    x_tr, y_tr, x_va, y_va = data
    started = time.perf_counter()
    if leg == "search":
        storage = f"sqlite:///{workdir / f'overhead-warm-up-r{round_index}.db'}"
        run_search(space, ((x_tr, y_tr), (x_va, y_va)), storage, "systems-warm-up", 1, 1)
    else:
        bare_fit(_WARM_CFG, 1, leg, data)
    return time.perf_counter() - started


def _search_leg(
    plan: Plan, space: Any, data: tuple[Any, Any, Any, Any], workdir: Path, round_index: int
) -> dict[str, Any]:
    """One timed search in a fresh study; its trials' configs and where its time went."""
    x_tr, y_tr, x_va, y_va = data
    storage = f"sqlite:///{workdir / f'overhead-r{round_index}.db'}"
    result, wall, called, returned = run_search(
        space,
        ((x_tr, y_tr), (x_va, y_va)),
        storage,
        f"systems-overhead-r{round_index}",
        plan.overhead_trials,
        plan.overhead_epochs,
    )
    trials = finished_trials(result.study)
    in_trial = [float(t.user_attrs.get("seconds", 0.0)) for t in trials]
    durations = [seconds_between(t.datetime_start, t.datetime_complete) for t in trials]
    gaps = [
        seconds_between(a.datetime_complete, b.datetime_start)
        for a, b in itertools.pairwise(trials)
    ]
    return {
        "wall_s": wall,
        "trials_duration_s": sum(durations),
        "run_trial_seconds": sum(in_trial),
        "configs": [dict(t.user_attrs["adam"]) for t in trials],
        "epochs_run": [int(t.user_attrs.get("epochs_run") or plan.overhead_epochs) for t in trials],
        "states": trial_states(result.study),
        "outcomes": trial_outcomes(trials),
        "breakdown_s": {
            "before_first_trial": rounded(
                seconds_between(called, trials[0].datetime_start) if trials else 0.0
            ),
            # run_trial's own clock (`seconds`): build, compile, scale, fit, label.
            "in_run_trial": rounded(sum(in_trial)),
            # The rest of each trial: clear_session + gc.collect and the storage writes.
            "in_trial_outside_seconds": rounded(sum(durations) - sum(in_trial)),
            "between_trials": rounded(sum(gaps)),
            "after_last_trial": rounded(
                seconds_between(trials[-1].datetime_complete, returned) if trials else 0
            ),
        },
        "trial_durations_s": [rounded(v) for v in durations],
    }


def _bare_leg(
    configs: Sequence[dict[str, Any]],
    epochs_run: Sequence[int],
    feed: str,
    data: tuple[Any, Any, Any, Any],
) -> dict[str, Any]:
    """The hand-written loop over ``configs`` with ``feed``, timed fit by fit; then what
    adamtune's cleanup would cost with as many objects left around as the loop leaves."""
    each: list[float] = []
    started = time.perf_counter()
    for cfg, epochs in zip(configs, epochs_run, strict=True):
        t0 = time.perf_counter()
        bare_fit(cfg, epochs, feed, data)
        each.append(time.perf_counter() - t0)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "fit_s": [rounded(v) for v in each], "cleanup_s": _cleanup_costs()}


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
        out["clear_session"].append(rounded(t1 - t0))
        out["gc_collect"].append(rounded(time.perf_counter() - t1))
    return out


def run_leg(job: dict[str, Any]) -> dict[str, Any]:
    """One leg as its own process runs it (``job``: the leg, the round, the suite, the work
    directory and, for a bare leg, the configs and epochs the first search ran)."""
    plan = check_suite(job["suite"])
    data, space, workdir = digits_split(), _space(plan), Path(job["workdir"])
    leg, round_index = job["leg"], int(job["round"])
    warm = _warm_up(leg, data, space, workdir, round_index)
    if leg == "search":
        out = _search_leg(plan, space, data, workdir, round_index)
    else:
        out = _bare_leg(job["configs"], job["epochs_run"], leg, data)
    return {**out, "warm_up_s": rounded(warm), "pid": os.getpid()}


def _leg_in_its_own_process(job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run :func:`run_leg` in a new interpreter; its result comes back through a file."""
    name = f"overhead-r{job['round']}-{job['leg']}"
    job_file, out_file = workdir / f"{name}.job.json", workdir / f"{name}.out.json"
    job_file.write_text(json.dumps({**job, "out": str(out_file)}))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(job_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"overhead leg {name} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    result: dict[str, Any] = json.loads(out_file.read_text())
    return result


def _overhead_rounds(
    plan: Plan, suite: str, workdir: Path, log: Callable[[str], None]
) -> list[dict[str, dict[str, Any]]]:
    """``plan.overhead_rounds`` rounds of the three legs in alternating order, each leg in a
    process of its own; round 0 starts with the search, whose configs every bare leg fits."""
    rounds: list[dict[str, dict[str, Any]]] = []
    first: dict[str, Any] | None = None
    for r in range(plan.overhead_rounds):
        legs: dict[str, dict[str, Any]] = {}
        for leg in alternating_order(r, OVERHEAD_LEGS):
            job: dict[str, Any] = {"leg": leg, "round": r, "suite": suite, "workdir": str(workdir)}
            if leg != "search":
                assert first is not None, "round 0 starts with the search"
                job |= {"configs": first["configs"], "epochs_run": first["epochs_run"]}
            legs[leg] = _leg_in_its_own_process(job, workdir)
            if leg == "search":
                first = first or legs[leg]
            log(f"overhead: round {r} {leg}: {legs[leg]['wall_s']:.1f} s")
        rounds.append(legs)
    return rounds


def _column(rounds: Sequence[dict[str, dict[str, Any]]], leg: str, key: str) -> list[float]:
    return [float(r[leg][key]) for r in rounds]


def _overhead_details(
    plan: Plan,
    rounds: Sequence[dict[str, dict[str, Any]]],
    figures: tuple[float, float],
    space: Any,
) -> dict[str, Any]:
    """The raw numbers behind the overhead figures (``figures``: the tf.data ratio and the
    search's wall over its trials' durations)."""
    ratio, in_trial = figures
    search = _column(rounds, "search", "wall_s")
    tf_data = _column(rounds, "bare_tf_data", "wall_s")
    numpy_fed = _column(rounds, "bare_numpy", "wall_s")
    first = rounds[0]["search"]
    return {
        "ratio_vs_tf_data_fed_fit": rounded(ratio),
        "ratio_vs_numpy_fed_fit": rounded(median_of_ratios(search, numpy_fed)),
        "search_wall_over_in_trial_time": rounded(in_trial),
        # Over run_trial's own clock (the `seconds` attribute), as an earlier reading took it.
        "search_wall_over_run_trial_seconds": rounded(
            median_of_ratios(search, _column(rounds, "search", "run_trial_seconds"))
        ),
        "numpy_fed_over_tf_data_fed": rounded(median_of_ratios(numpy_fed, tf_data)),
        "per_round_ratio_vs_tf_data_fed_fit": [
            rounded(s / t) for s, t in zip(search, tf_data, strict=True)
        ],
        "rounds": plan.overhead_rounds,
        "order": [alternating_order(r, OVERHEAD_LEGS) for r in range(plan.overhead_rounds)],
        "search_wall_s": [rounded(v) for v in search],
        "bare_tf_data_wall_s": [rounded(v) for v in tf_data],
        "bare_numpy_wall_s": [rounded(v) for v in numpy_fed],
        "trials": len(first["configs"]),
        "epochs": plan.overhead_epochs,
        "trials_cut_short": sum(e < plan.overhead_epochs for e in first["epochs_run"]),
        "same_configs_every_round": all(r["search"]["configs"] == first["configs"] for r in rounds),
        # Since 3 Dec 2026 each leg runs in a process of its own; before, all in this one.
        "leg_pids": [{leg: legs[leg]["pid"] for leg in legs} for legs in rounds],
        "warm_up_s": [{leg: legs[leg]["warm_up_s"] for leg in legs} for legs in rounds],
        # After round 0's tf.data loop, in its process (what clear_session and a collection
        # cost with a loop's leftovers around).
        "cleanup_s": rounds[0]["bare_tf_data"]["cleanup_s"],
        "legs": [
            {leg: {k: v for k, v in legs[leg].items() if k != "configs"} for leg in legs}
            for legs in rounds
        ],
        "configs": first["configs"],
        "space": space.to_dict(),
    }


def measure_overhead(
    plan: Plan, suite: str, workdir: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """adamtune.search(N trials) wall over bare ``fit`` loops on the same configs: fed like
    adamtune (tf.data) and fed NumPy arrays; and the search's wall over its trials' durations.
    ``plan`` is ``SUITES[suite]``: each leg's process looks it up by name."""
    if check_suite(suite) != plan:
        raise ValueError(f"`plan` must be SUITES[{suite!r}]. Received: {plan}")
    log(
        f"overhead: {plan.overhead_rounds} rounds of adamtune.search ({plan.overhead_trials} "
        f"trials x {plan.overhead_epochs} epochs), a tf.data-fed and a NumPy-fed fit loop, "
        "each in a process of its own"
    )
    rounds = _overhead_rounds(plan, suite, workdir, log)
    search = _column(rounds, "search", "wall_s")
    ratio = median_of_ratios(search, _column(rounds, "bare_tf_data", "wall_s"))
    in_trial = median_of_ratios(search, _column(rounds, "search", "trials_duration_s"))
    log(f"overhead: search / tf.data loop {ratio:.3f}, search / in-trial time {in_trial:.3f}")
    return {
        "ratio": ratio,
        "search_wall_over_in_trial_time": in_trial,
        "details": _overhead_details(plan, rounds, (ratio, in_trial), _space(plan)),
    }


if __name__ == "__main__":  # one leg: python systems_overhead.py JOB.json (see run_leg)
    _job = json.loads(Path(sys.argv[1]).read_text())
    Path(_job["out"]).write_text(json.dumps(run_leg(_job), default=str))
