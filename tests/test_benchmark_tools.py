"""The benchmark's peers and protocol: one objective, one NaN rule, the first trial every tool can
take, and every training step counted (``fit`` and ``train_on_batch`` alike)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import job
import ledger
import peers_kerastuner
import peers_optuna
import protocol
import run
import summary
import tasks
import tools


def _splits(kind: str) -> tasks.Splits:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (
        rng.integers(0, 2, 40).astype("int64")
        if kind == "classification"
        else (100 + rng.normal(size=40)).astype("float32")
    )
    return tasks.Splits(x, y, x[:10], y[:10], x[:10], y[:10])


def _task(kind: str, **kw: Any) -> tasks.Task:
    return tasks.Task(
        "t", kind, lambda: (np.zeros((1, 3)), np.zeros(1)), lambda hp: None, 4, "", **kw
    )


def test_every_peer_ranks_by_the_unpenalized_objective() -> None:
    assert protocol.peer_objective(_task("classification")) == "val_accuracy"
    # Keras's val_loss adds the regularization penalty; the compiled data_loss metric does not.
    assert protocol.peer_objective(_task("regression")) == "val_data_loss"


def test_the_first_trial_is_adamtunes_auto_start_in_the_shared_space() -> None:
    cls = protocol.first_config(_task("classification"), _splits("classification"))
    assert cls == {**protocol.DEFAULTS, "scaling": "standard"}
    reg = protocol.first_config(_task("regression"), _splits("regression"))
    assert reg["learning_rate"] == pytest.approx(0.1, rel=1e-2)  # 1e-3 x the targets RMS
    huge = tasks.Splits(*[np.full(4, 1e6, "float32")] * 6)
    assert (
        protocol.first_config(_task("regression"), huge)["learning_rate"] == 1.0
    )  # the space's top
    tokens = protocol.first_config(
        _task("classification", scalings=("none",)), _splits("classification")
    )
    assert tokens["scaling"] == "none"  # token ids are never scaled


def test_the_flat_space_has_no_conditional_parameter_and_maps_into_each_range() -> None:
    import optuna

    common = {"learning_rate": 1e-3, "batch_size": 32, "batch_norm": False, "scaling": "none"}
    flat = optuna.trial.FixedTrial({**common, "regularizer": "l1", "strength_position": 1.0})
    cfg = peers_optuna._suggest(flat, _task("classification"), flat=True)
    assert set(flat.params) == {*common, "regularizer", "strength_position"}  # nothing conditional
    assert cfg["regularizer"] == "l1" and cfg["strength"] == pytest.approx(
        protocol.STRENGTH["l1"][1]
    )
    nested = optuna.trial.FixedTrial({**common, "regularizer": "adamw", "adamw_strength": 1e-3})
    cfg = peers_optuna._suggest(nested, _task("classification"), flat=False)
    assert "adamw_strength" in nested.params and "strength_position" not in nested.params
    assert cfg["strength"] == pytest.approx(1e-3)
    none = optuna.trial.FixedTrial({**common, "regularizer": "none", "strength_position": 0.3})
    assert peers_optuna._suggest(none, _task("classification"), flat=True)["strength"] == 0.0


def test_a_nan_run_scores_nan_for_optuna_and_the_best_finite_epoch_otherwise() -> None:
    from types import SimpleNamespace

    history = {"val_data_loss": [5.0, 2.0, math.nan], "val_accuracy": [0.5, 0.7, math.nan]}
    assert protocol.best_value(_task("regression"), SimpleNamespace(history=history)) == 2.0
    assert protocol.best_value(_task("classification"), SimpleNamespace(history=history)) == 0.7
    blown = SimpleNamespace(history={"val_accuracy": [math.nan]})
    assert math.isnan(protocol.best_value(_task("classification"), blown))


def test_train_on_batch_is_counted_as_one_run_of_batches_per_model() -> None:
    import keras

    ledger.install()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8,), "float32")
    book = ledger.open_ledger(45, None)
    try:
        for _ in range(3):
            model.train_on_batch(x, y)
        model.fit(x, y, batch_size=8, epochs=1, verbose=0)
        model.train_on_batch(x, y)
        assert [(f.kind, f.examples, f.batches) for f in book.fits] == [
            ("batches", 24, 3),
            ("fit", 8, 1),
            ("batches", 8, 1),
        ]
        with pytest.raises(ledger.BudgetSpent):
            model.train_on_batch(x, y)  # 48 >= 45: the LR range test spends budget too
    finally:
        ledger.close_ledger()
    model.train_on_batch(x, y)  # outside a ledger: not counted
    assert book.examples == 48


def test_the_oracle_grid_goes_past_lr_0_1_with_robust_scaling_and_regularizers() -> None:
    configs = job.oracle_configs()
    assert {c["learning_rate"] for c in configs} >= {0.3, 1.0}
    assert {c["scaling"] for c in configs} == {"none", "standard", "robust"}
    assert {c["scaling"] for c in job.oracle_configs(("none",))} == {"none"}
    assert job.oracle_size() == len(configs) + job.TOP_REGULARIZED * len(job.ORACLE_REGULARIZERS)
    assert {kind for kind, _ in job.ORACLE_REGULARIZERS} == {"l1", "l2", "adamw"}


def test_the_standard_suite_is_what_the_issue_sets() -> None:
    standard = run.SUITES["standard"]
    assert len(standard.tasks) >= 6 and len(standard.seeds) == 10
    assert standard.budget_fre == 20 and standard.checkpoints == (5, 10, 20)
    assert set(standard.tools) == {
        "adamtune",
        "kt-hyperband",
        "kt-random",
        "optuna-tpe-hyperband",
        "optuna-qmc",
        "first-trial-only",
    }
    assert {"mnist-cnn", "italy-gru", "tokens-embedding", "digits"} <= set(standard.tasks)
    quick = run.SUITES["quick"]
    assert set(quick.tools) == set(tools.TOOLS)  # a smoke test of every tool
    for suite in run.SUITES.values():
        assert set(suite.tasks) <= set(tasks.TASKS)
        assert set(suite.tools) <= set(tools.TOOLS) | set(tools.EXTRA)


def test_the_schedules_suite_sets_adamtune_with_schedules_against_constant_rate_and_peers() -> None:
    suite = run.SUITES["schedules"]
    assert suite.tasks == ("transformer-postln",)
    assert {"adamtune", "adamtune-schedules", "optuna-tpe-hyperband", "kt-hyperband"} <= set(
        suite.tools
    )
    task = tasks.get("transformer-postln")
    plain, scheduled = tools._adamtune_space(task), tools._adamtune_space(task, "schedules")
    assert plain.schedule is None and plain.global_clipnorm is None and plain.optimizer is None
    assert scheduled.schedule == ("constant", "cosine", "linear")
    assert scheduled.optimizer == ("adam", "nadam")
    assert scheduled.warmup is not None and scheduled.warmup.high == pytest.approx(0.2)
    assert scheduled.global_clipnorm is not None and scheduled.global_clipnorm.log
    # everything else is the shared space both adamtune runs search
    assert scheduled.learning_rate == plain.learning_rate
    assert scheduled.batch_size == plain.batch_size and scheduled.regularizer == plain.regularizer


def test_the_default_schedule_ablation_adds_the_shipped_default_spaces_schedule_only() -> None:
    """``adamtune-default-schedule``: the shared space plus what the shipped default space
    searches of the schedule (constant, or cosine with warmup), nothing else."""
    from adamtune import load_space

    task = tasks.get("digits")
    plain, variant = tools._adamtune_space(task), tools._adamtune_space(task, "default")
    shipped = load_space("default")
    assert variant.schedule == shipped.schedule == ("constant", "cosine")
    assert variant.warmup_schedules == ("cosine",) and variant.warmup == shipped.warmup
    assert variant.decay_to == shipped.decay_to
    assert variant.optimizer is None and variant.global_clipnorm is None
    cleared = dict(schedule=None, warmup=None, warmup_schedules=None, decay_to=None)
    assert dataclasses.replace(variant, name=plain.name, **cleared) == plain
    assert "adamtune-default-schedule" in summary.ABLATIONS


def test_every_peer_given_the_first_trial_has_its_base_tool() -> None:
    for name in tools.TOOLS:
        if name.endswith("+first"):
            assert name.removesuffix("+first") in tools.TOOLS


def test_a_bad_task_file_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("TASKS = 3\n")
    with pytest.raises(SystemExit):
        run.main(["--suite", "quick", "--out", str(tmp_path / "x.json"), "--task-file", str(bad)])
    assert "--task-file" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists() and not (tmp_path / "x-oracle.json").exists()


def test_tasks_outside_the_suite_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    with pytest.raises(SystemExit):
        run.main(["--suite", "standard", "--out", str(out), "--tasks", "digits,wine"])
    err = capsys.readouterr().err
    assert "--tasks: wine not in the suite's tasks; choose from mnist-cnn" in err
    with pytest.raises(SystemExit):
        run.main(["--suite", "standard", "--out", str(out), "--tasks", " , "])
    assert "--tasks: ' , ' not in the suite's tasks" in capsys.readouterr().err
    assert not out.exists()
    parser = run._parser()
    args = parser.parse_args(["--suite", "standard", "--out", "x", "--tasks", "regression-1e4"])
    assert run._suite_of(args, parser).tasks == ("regression-1e4",)
    # rebuilt without --tasks, a file run on a subset keeps its tasks
    out.write_text(json.dumps({"tasks": ["regression-1e4"], "records": []}))
    rebuild = parser.parse_args(["--suite", "standard", "--out", str(out), "--report-only"])
    assert run._suite_of(rebuild, parser).tasks == ("regression-1e4",)
    out.write_text(json.dumps({"tasks": ["wine"], "records": []}))  # not the suite's: ignored
    assert run._suite_of(rebuild, parser).tasks == run.SUITES["standard"].tasks


@pytest.mark.slow
def test_a_task_file_outside_the_repo_runs_in_the_workers(tmp_path: Path) -> None:
    import json
    import shutil
    import subprocess

    here = Path(__file__).resolve().parents[1] / "benchmarks"
    task_file = tmp_path / "mine" / "my_task.py"  # not importable: loaded by path in each worker
    task_file.parent.mkdir()
    shutil.copy(here / "examples" / "my_task.py", task_file)
    out = tmp_path / "mine.json"
    # The oracle grid (123 full runs) is not what this test is about: its cache is given.
    grid = {"grid": job.ORACLE_VERSION, "epochs": 20, "scores": [0.9] * 5, "score": 0.9}
    (tmp_path / "mine-oracle.json").write_text(json.dumps({"my-wine": {"0": grid}}))
    command = [sys.executable, str(here / "run.py"), "--suite", "smoke", "--out", str(out)]
    command += ["--task-file", str(task_file), "--no-systems", "--tools", "first-trial-only"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["task_file"] == str(task_file) and list(result["tasks"]) == ["my-wine"]
    (record,) = result["records"]
    assert record["task"] == "my-wine" and record["error"] is None
    assert record["config"]["scaling"] == "standard" and record["exported_epochs"] == 20
    assert len(record["test_scores"]) == run.SUITES["smoke"].retrain_seeds
    assert "my-wine" in out.with_suffix(".md").read_text()


def _kt_trials(tool: str, seed: int, tmp: Path) -> list[tuple[int, int, float | None]]:
    """What a KerasTuner peer trained at ``seed`` on a 40-sample task, 6 full runs of budget: each
    fit's examples, batch size and score."""
    import keras

    def model_fn(hp: tasks.PeerHP) -> Any:
        reg = hp.regularizer()
        return keras.Sequential(
            [
                keras.Input((3,)),
                keras.layers.Dense(4, activation="relu", kernel_regularizer=reg),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )

    task = tasks.Task(
        "t", "classification", lambda: (np.zeros((1, 3)), np.zeros(1)), model_fn, 2, ""
    )
    s = _splits("classification")
    ledger.install()
    book = ledger.open_ledger(6 * 2 * 40, protocol.score_logs(task, s.y_val), 40)
    try:
        tools.TOOLS[tool](task, s, seed, tmp / f"{tool}-{seed}-{len(list(tmp.iterdir()))}")
    finally:
        ledger.close_ledger()
    return [(int(f.examples), f.batch_size, f.score) for f in book.fits]


@pytest.mark.parametrize(
    "tool", ["kt-random", pytest.param("kt-hyperband", marks=pytest.mark.slow)]
)
def test_a_kerastuner_peer_repeats_from_its_seed_and_seeds_draw_apart(
    tool: str, tmp_path: Path
) -> None:
    """KerasTuner takes seed 0 as "no seed", steps one shared counter per value drawn (so seeds 2
    and 3 drew nearly the same trials) and never seeds the models it builds: the peer gives its
    oracle a spread-out seed and seeds Keras once, so seed 0 repeats, scores and all."""
    first = _kt_trials(tool, 0, tmp_path)
    assert len(first) >= 3
    assert _kt_trials(tool, 0, tmp_path) == first
    assert _kt_trials(tool, 1, tmp_path) != first
    assert len({peers_kerastuner.kt_seed(s) for s in range(10)}) == 10
    assert peers_kerastuner.kt_seed(0) != 0  # KerasTuner would draw its own
