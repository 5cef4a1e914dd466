"""benchmarks/systems.py and its parts (systems_*.py): the parts' one-way imports, the pure
helpers behind the systems figures, the bare loop's feed, and one smoke-sized measurement
(slow)."""

from __future__ import annotations

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import systems
import systems_bare
import systems_idle
import systems_long
import systems_plan
import systems_stats

# -- the parts and their imports --------------------------------------------------------------

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# Each part may import only the parts after it in this list; none imports `systems`.
LAYERS = (
    "systems",
    "systems_long",  # a script of its own: systems does not run it
    "systems_overhead",
    "systems_rss",
    "systems_parallel",
    "systems_bare",
    "systems_setup",
    "systems_idle",
    "systems_plan",
    "systems_stats",
)
MEASUREMENTS = {"systems_overhead", "systems_rss", "systems_parallel", "systems_long"}


def _local_imports(module: str) -> set[str]:
    tree = ast.parse((BENCHMARKS / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return {n for n in names if n == "systems" or n.startswith("systems_")}


def test_every_part_of_systems_is_listed_in_the_layers() -> None:
    found = {p.stem for p in BENCHMARKS.glob("systems*.py")}
    assert found == set(LAYERS)


def test_the_parts_import_one_way_only() -> None:
    for i, module in enumerate(LAYERS):
        below = set(LAYERS[i + 1 :])
        allowed = below - MEASUREMENTS if module in MEASUREMENTS else below
        imported = _local_imports(module)
        assert imported <= allowed, f"{module} imports {sorted(imported - allowed)}"


def test_importing_systems_loads_no_tensorflow() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import systems; "
        "heavy = [m for m in ('tensorflow', 'keras', 'optuna', 'adamtune', 'sklearn') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


# -- suites -----------------------------------------------------------------------------------


def test_an_unknown_suite_is_refused_with_the_names_there_are(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"`suite` must be one of smoke, quick, standard, full"):
        systems_plan.check_suite("huge")
    with pytest.raises(ValueError, match=r"Received: 'huge'"):
        systems.measure_systems("huge", tmp_path)
    with pytest.raises(ValueError, match=r"Received: 3"):
        systems_plan.check_suite(3)


def test_every_suite_but_smoke_measures_rss_over_100_trials_after_a_warm_up() -> None:
    for name in ("quick", "standard", "full"):
        plan = systems_plan.SUITES[name]
        assert plan.rss_measured >= systems_stats.RSS_MIN_MEASURED == 100, name
        assert plan.rss_warm_up == systems_stats.RSS_WARM_UP
        assert plan.rss_trials == plan.rss_warm_up + plan.rss_measured
    assert systems_plan.SUITES["smoke"].rss_measured < 100


def test_the_standard_suite_sits_between_quick_and_full() -> None:
    quick, standard, full = (systems_plan.SUITES[n] for n in ("quick", "standard", "full"))
    for field in ("overhead_trials", "overhead_rounds", "parallel_trials", "parallel_rounds"):
        assert getattr(quick, field) <= getattr(standard, field) <= getattr(full, field), field
    assert standard.overhead_rounds >= 2 and standard.parallel_rounds >= 2  # ABBA at least


# -- order and ratios -------------------------------------------------------------------------


def test_rounds_alternate_their_order() -> None:
    legs = ("search", "bare_tf_data", "bare_numpy")
    assert systems_stats.alternating_order(0, legs) == ["search", "bare_tf_data", "bare_numpy"]
    assert systems_stats.alternating_order(1, legs) == ["bare_numpy", "bare_tf_data", "search"]
    assert systems_stats.alternating_order(2, legs) == list(legs)
    with pytest.raises(ValueError, match=r"`round_index` must be an int >= 0. Received: -1"):
        systems_stats.alternating_order(-1, legs)


def test_the_overhead_is_the_median_of_paired_round_ratios() -> None:
    # Rounds 1.1, 0.9 and 3.0 (a disturbed round): the median ignores the outlier, a ratio of
    # sums would not.
    assert systems_stats.median_of_ratios([11.0, 9.0, 30.0], [10.0, 10.0, 10.0]) == pytest.approx(
        1.1
    )
    with pytest.raises(ValueError, match=r"one length .* Received: 2 and 1 values"):
        systems_stats.median_of_ratios([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match=r"non-empty"):
        systems_stats.median_of_ratios([], [])
    with pytest.raises(ValueError, match=r"`denominators` must all be > 0.*Received: \[0.0\]"):
        systems_stats.median_of_ratios([1.0], [0.0])


# -- RSS slope --------------------------------------------------------------------------------


def test_a_least_squares_slope_fits_a_line_and_averages_noise() -> None:
    xs = [float(i) for i in range(50)]
    assert systems_stats.least_squares_slope(xs, [3.0 + 0.25 * x for x in xs]) == pytest.approx(
        0.25
    )
    noisy = [0.25 * x + (1.0 if i % 2 else -1.0) for i, x in enumerate(xs)]
    assert systems_stats.least_squares_slope(xs, noisy) == pytest.approx(0.25, abs=0.01)
    with pytest.raises(ValueError, match=r"at least 2 distinct `xs`"):
        systems_stats.least_squares_slope([1.0, 1.0], [2.0, 3.0])
    with pytest.raises(ValueError, match=r"Received: 3 and 2 values"):
        systems_stats.least_squares_slope([1.0, 2.0, 3.0], [1.0, 2.0])


def test_rss_growth_is_the_slope_after_the_warm_up_times_100() -> None:
    numbers = list(range(110))
    # A steep warm-up (first graphs, allocator pools), then 0.4 MB per trial.
    rss = [500.0 + 20.0 * n if n < 10 else 900.0 + 0.4 * n for n in numbers]
    assert systems_stats.rss_growth_per_100_trials(numbers, rss, warm_up=10) == pytest.approx(40.0)
    # With the warm-up counted, the slope is far off: that is why it is left out.
    assert systems_stats.rss_growth_per_100_trials(numbers, rss, warm_up=0) > 60.0
    # Trials come back in any order: they are put in trial order first.
    order = np.random.default_rng(0).permutation(110).tolist()
    shuffled = systems_stats.rss_growth_per_100_trials(order, [rss[i] for i in order], warm_up=10)
    assert shuffled == pytest.approx(40.0)


def test_rss_growth_refuses_too_few_trials_and_a_bad_warm_up() -> None:
    with pytest.raises(ValueError, match=r"at least 2 trials after the 10 warm-up.*Received: 11"):
        systems_stats.rss_growth_per_100_trials(list(range(11)), [1.0] * 11, warm_up=10)
    with pytest.raises(ValueError, match=r"`warm_up` must be an int >= 0.*Received: -1"):
        systems_stats.rss_growth_per_100_trials([0, 1, 2], [1.0, 2.0, 3.0], warm_up=-1)
    with pytest.raises(ValueError, match=r"Received: 3 and 2 values"):
        systems_stats.rss_growth_per_100_trials([0, 1, 2], [1.0, 2.0])


# -- parallel speedup -------------------------------------------------------------------------


def test_the_speedup_counts_each_command_from_launch_to_exit() -> None:
    # 36 trials in 60 s with one worker, in 36 s with two (start-up included).
    assert systems_stats.speedup_including_startup([(36, 60.0)], [(36, 36.0)]) == pytest.approx(
        60 / 36
    )
    # Pooled over runs: total trials over total wall, not a mean of per-run rates.
    pooled = systems_stats.speedup_including_startup(
        [(36, 60.0), (36, 40.0)], [(37, 30.0), (37, 34.0)]
    )
    assert pooled == pytest.approx((74 / 64) / (72 / 100))
    assert systems_stats.trials_per_hour([(10, 36.0)]) == pytest.approx(1000.0)
    # Start-up weighs more on a short run: 10 s of it halves a 10 s search's rate.
    with_startup = systems_stats.speedup_including_startup([(20, 20.0 + 10.0)], [(20, 10.0 + 10.0)])
    without = systems_stats.speedup_including_startup([(20, 20.0)], [(20, 10.0)])
    assert with_startup == pytest.approx(1.5) and without == pytest.approx(2.0)


def test_the_speedup_refuses_runs_it_cannot_use() -> None:
    with pytest.raises(ValueError, match=r"`one_worker` must hold at least one .* Received: \[\]"):
        systems_stats.speedup_including_startup([], [(1, 1.0)])
    with pytest.raises(ValueError, match=r"`two_workers`: the wall must be .* Received: 0.0"):
        systems_stats.speedup_including_startup([(1, 1.0)], [(1, 0.0)])
    with pytest.raises(ValueError, match=r"the wall must be .* Received: nan"):
        systems_stats.speedup_including_startup([(1, math.nan)], [(1, 1.0)])
    with pytest.raises(ValueError, match=r"completed trials must be an int >= 0.*Received: -2"):
        systems_stats.speedup_including_startup([(-2, 1.0)], [(1, 1.0)])
    with pytest.raises(ValueError, match=r"`one_worker` completed no trial"):
        systems_stats.speedup_including_startup([(0, 5.0)], [(3, 5.0)])


# -- idleness ---------------------------------------------------------------------------------


def test_the_busy_share_comes_from_proc_stat_ticks() -> None:
    before = [100, 0, 50, 1000, 10, 0, 0, 0]
    # 150 busy ticks (user 100, system 30, steal 20) and 50 idle + iowait of 200.
    after = [200, 0, 80, 1040, 20, 0, 0, 20]
    assert systems_stats.busy_share(before, after) == pytest.approx(150 / 200)
    with pytest.raises(ValueError, match=r"first 8 cpu fields.*Received: 3 and 8"):
        systems_stats.busy_share([1, 2, 3], after)
    with pytest.raises(ValueError, match=r"`after` must be read after `before`"):
        systems_stats.busy_share(after, after)


def test_an_idle_check_reports_busy_cores_and_the_load() -> None:
    check = systems_idle.idle_check(sample_s=0.2)
    assert set(check) == {"load_average", "busy_cores", "busy_per_core", "source", "idle"}
    if check["busy_per_core"] is not None:
        assert 0.0 <= check["busy_per_core"] <= 1.0 + 1e-9
        assert check["idle"] == (check["busy_per_core"] <= systems_idle.IDLE_BUSY_PER_CORE)


def test_a_busy_machine_is_a_warning_in_the_log_and_the_details() -> None:
    said: list[str] = []
    warnings: list[str] = []
    busy = {"idle": False, "busy_cores": 1.6, "source": "x", "load_average": [1.9, 1.0, 0.5]}
    systems_idle.warn_if_busy(busy, "run 0", warnings, said.append)
    assert len(warnings) == 1 and "not idle before run 0: 1.6 busy cores" in warnings[0]
    assert said == [f"warning: {warnings[0]}"]
    systems_idle.warn_if_busy({**busy, "idle": True}, "run 1", warnings, said.append)
    assert len(warnings) == 1


# -- the bare loop's feed ---------------------------------------------------------------------


def test_the_bare_loop_is_fed_as_an_adamtune_trial_is() -> None:
    from adamtune.training._feed import make_feed

    rng = np.random.default_rng(0)
    x_tr, y_tr = rng.normal(size=(100, 4)).astype("float32"), np.arange(100) % 3
    x_va, y_va = rng.normal(size=(30, 4)).astype("float32"), np.arange(30) % 3
    mine = systems_bare.tf_data_feed(x_tr, y_tr, x_va, y_va, 32)
    theirs = make_feed(x_tr, y_tr, x_va, y_va, 32)
    assert set(mine) == set(theirs)
    for key in ("steps_per_epoch", "validation_steps", "shuffle"):
        assert mine[key] == theirs[key], key
    assert mine["x"].element_spec == theirs["x"].element_spec
    # One epoch of steps is one pass over every sample, in a new order the next epoch.
    batches = list(mine["x"].take(2 * mine["steps_per_epoch"]).as_numpy_iterator())
    epoch_1 = np.concatenate([b[0] for b in batches[: mine["steps_per_epoch"]]])
    epoch_2 = np.concatenate([b[0] for b in batches[mine["steps_per_epoch"] :]])
    assert sorted(map(tuple, epoch_1)) == sorted(map(tuple, x_tr))
    assert not np.array_equal(epoch_1, epoch_2)
    assert systems_bare.numpy_feed(x_tr, y_tr, x_va, y_va, 32)["batch_size"] == 32


# -- the whole measurement at smoke size ------------------------------------------------------


@pytest.mark.slow
def test_the_smoke_measurement_reports_every_figure(tmp_path: Path) -> None:
    said: list[str] = []
    result = systems.measure_systems("smoke", tmp_path, log=said.append)
    assert result["suite"] == "smoke"
    for key in (
        "overhead_ratio_vs_bare_fit",
        "search_wall_over_in_trial_time",
        "parallel_speedup_2_workers",
    ):
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    assert 0.2 < result["overhead_ratio_vs_bare_fit"] < 10.0
    assert result["search_wall_over_in_trial_time"] >= 1.0  # the wall holds the trials
    assert 0.2 < result["parallel_speedup_2_workers"] < 3.0
    details = result["details"]
    overhead = details["overhead"]
    assert 0.2 < overhead["ratio_vs_numpy_fed_fit"] < 10.0
    assert overhead["same_configs_every_round"] is True
    assert len(overhead["search_wall_s"]) == systems_plan.SUITES["smoke"].overhead_rounds
    # Each leg ran in a process of its own, none in this one, after its own warm-up.
    pids = [pid for legs in overhead["leg_pids"] for pid in legs.values()]
    assert len(set(pids)) == len(pids) == 3 * systems_plan.SUITES["smoke"].overhead_rounds
    assert os.getpid() not in pids
    assert all(v > 0 for legs in overhead["warm_up_s"] for v in legs.values())
    # Smoke is not a 100-trial figure, and says so.
    assert result["rss_growth_mb_per_100_trials"] is None
    assert "not a 100-trial figure" in details["rss"]["note"]
    assert details["rss"]["measured_trials"] == systems_plan.SUITES["smoke"].rss_measured
    parallel = details["parallel"]
    assert parallel["speedup_including_startup"] == result["parallel_speedup_2_workers"]
    assert isinstance(parallel["speedup_without_startup"], float)
    for run in parallel["workers_1"] + parallel["workers_2"]:
        assert run["wall_s"] > run["span_s"] > 0  # the wall holds the start-up
        assert "busy_cores" in run["idle_check_before"]
    assert isinstance(details["warnings"], list)
    assert any("speedup" in line for line in said)


def test_a_long_study_is_read_in_windows_of_trials(tmp_path: Path) -> None:
    import datetime as dt

    import optuna

    storage = f"sqlite:///{tmp_path / 'long.db'}"
    study = optuna.create_study(study_name=systems_long.STUDY, storage=storage)
    start = dt.datetime(2026, 12, 1, 12, 0, 0)
    # Trials 0-3 end every 2 s and take 1 s each; trials 4-7 end every 4 s and take 3 s.
    for n in range(8):
        inside = 1 if n < 4 else 3
        end = start + dt.timedelta(seconds=(2 * n if n < 4 else 6 + 4 * (n - 3)))
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=n,
                trial_id=n,
                state=optuna.trial.TrialState.COMPLETE,
                value=float(n),
                datetime_start=end - dt.timedelta(seconds=inside),
                datetime_complete=end,
                params={},
                distributions={},
                user_attrs={},
                system_attrs={},
                intermediate_values={},
            )
        )
    rows = systems_long.windows(storage, 4)
    assert rows == [
        {"trials": "0-3", "per_minute": 30.0, "inside_seconds": 1.0, "inside_median": 1.0},
        {"trials": "4-7", "per_minute": 15.0, "inside_seconds": 3.0, "inside_median": 3.0},
    ]
    with pytest.raises(SystemExit):
        systems_long.main(["--trials", "10", "--window", "10"])  # fewer than two windows
