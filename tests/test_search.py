"""End-to-end searches on real data with real TensorFlow and a real SQLite study."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from conftest import mlp

import adamtune
from adamtune.spaces import FloatRange, LearningRate, Space

QUICK = dict(space="quick", epochs=3, verbose=0, seed=0)


def digits_model(hp: Any) -> Any:
    import keras

    units = hp.int("units", 8, 32, log=True)
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def cancer_model() -> Any:
    return mlp(30, 1, activation="sigmoid")


def _db_path(storage: str) -> Path:
    return Path(storage.removeprefix("sqlite:///"))


def _fixed_space(lr: float, **overrides: Any) -> Space:
    base: dict[str, Any] = dict(
        name="fixed",
        learning_rate=LearningRate(low=lr, high=lr, reference_batch_size=32, rule="sqrt"),
        batch_size=(32,),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=("none",),
        epochs=3,
    )
    base.update(overrides)
    return Space(**base)


def test_digits_search_exports_a_config_that_trains(
    digits: Any, storage: str, tmp_path: Path
) -> None:
    x, y = digits
    result = adamtune.search(
        digits_model, (x, y), trials=4, storage=storage, study_name="digits", **QUICK
    )
    states = [t.state for t in result.study.trials]
    assert (
        sum(s in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED) for s in states)
        == 4
    )
    best = result.best
    assert best.value == pytest.approx(result.study.best_value)
    assert 8 <= best.user_params["units"] <= 32
    assert best.params["batch_size"] in (32, 64)
    assert set(result.trials.columns) >= {"number", "state", "outcome", "learning_rate", "units"}

    path = result.export(tmp_path / "tuned.json")
    cfg = adamtune.load_config(path)
    assert cfg.to_dict() == best.to_dict()
    model = cfg.build(digits_model)
    model.compile(**cfg.compile_kwargs())
    scaler = cfg.scaler().fit(x)
    history = model.fit(scaler.transform(x), y, verbose=0, **{**cfg.fit_kwargs(), "epochs": 1})
    assert math.isfinite(history.history["loss"][-1])
    assert model.optimizer.learning_rate.numpy() == pytest.approx(best.adam.learning_rate, rel=1e-6)


def test_binary_search_on_unscaled_features_infers_the_loss(cancer: Any, storage: str) -> None:
    result = adamtune.search(
        cancer_model, cancer, trials=3, storage=storage, objective="val_accuracy", **QUICK
    )
    assert result.study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert result.best.loss["class_name"] == "BinaryCrossentropy"
    assert result.best.loss["config"]["from_logits"] is False
    assert 0.0 <= result.best.value <= 1.0


def test_trials_is_a_total_target_and_resume_continues(digits: Any, storage: str) -> None:
    opts = dict(storage=storage, study_name="resume", **QUICK)
    adamtune.search(digits_model, digits, trials=2, **opts)
    result = adamtune.search(digits_model, digits, trials=4, **opts)
    numbers = [t.number for t in result.study.trials]
    assert numbers == [0, 1, 2, 3]
    again = adamtune.search(digits_model, digits, trials=4, **opts)
    assert len(again.study.trials) == 4  # target reached: nothing runs


def test_changed_space_or_objective_is_refused_on_resume(digits: Any, storage: str) -> None:
    opts = dict(storage=storage, study_name="locked", epochs=2, verbose=0)
    adamtune.search(digits_model, digits, space="quick", trials=1, **opts)
    wider = adamtune.load_space("quick").to_dict()
    wider["learning_rate"]["high"] = 1.0
    # The same name, another space (a shipped space changed by an upgrade): says how to resume.
    with pytest.raises(
        adamtune.StudyMismatchError,
        match=r"space\.learning_rate\.high: stored 0\.1, now 1\.0\n(.|\n)*The space is still "
        r"named 'quick' but is not the one the study was made with \(a shipped space can change "
        r"between adamtune versions\); the study keeps its own: `adamtune worker --study locked "
        r"--storage <url>` resumes it on that space$",
    ):
        adamtune.search(digits_model, digits, space=Space.from_dict(wider), trials=2, **opts)
    with pytest.raises(adamtune.StudyMismatchError, match=r"objective: stored 'val_loss'") as err:
        adamtune.search(
            digits_model, digits, space="quick", trials=2, objective="val_accuracy", **opts
        )
    assert "still named" not in str(err.value)
    study = optuna.load_study(study_name="locked", storage=storage)
    assert len(study.trials) == 1


def test_huge_learning_rate_is_cut_in_the_first_epoch_with_its_reason(
    cancer: Any, storage: str
) -> None:
    result = adamtune.search(
        cancer_model, cancer, space=_fixed_space(50.0), trials=1, storage=storage, verbose=0, seed=0
    )
    (trial,) = result.study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert trial.user_attrs["outcome"] in ("diverged-blowup", "diverged-nan")
    assert trial.user_attrs["epochs_run"] == 1
    assert "loss" in trial.user_attrs["reason"]
    assert result.outcomes[trial.user_attrs["outcome"]] == 1
    with pytest.raises(ValueError, match="no completed trial"):
        _ = result.best


def test_crashing_trials_are_stored_and_the_study_goes_on(digits: Any, storage: str) -> None:
    calls = {"n": 0}

    def flaky(hp: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # the pre-flight is call 1
            raise MemoryError("pretend the batch did not fit")
        if calls["n"] == 4:
            raise RuntimeError("user code broke")
        return digits_model(hp)

    result = adamtune.search(flaky, digits, trials=3, storage=storage, **QUICK)
    failed = [t for t in result.study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert [t.user_attrs["outcome"] for t in failed] == ["crashed-oom", "crashed-error"]
    assert failed[1].user_attrs["error"] == "RuntimeError: user code broke"
    assert result.outcomes["crashed-oom"] == 1
    assert len(result.study.trials) == 5


def test_a_streak_of_failures_stops_the_search(digits: Any, storage: str) -> None:
    calls = {"n": 0}

    def broken_after_preflight(hp: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError(f"bad call {calls['n']}")
        return digits_model(hp)

    with pytest.raises(adamtune.SearchAborted, match=r"3 trials failed in a row(.|\n)*bad call 4"):
        adamtune.search(
            broken_after_preflight, digits, trials=10, storage=storage, max_failures=3, **QUICK
        )
    study = optuna.load_study(study_name="adamtune-broken_after_preflight", storage=storage)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL] * 3


@pytest.mark.slow
def test_seed_makes_a_single_worker_study_repeatable(digits: Any, tmp_path: Path) -> None:
    runs = []
    for i in range(2):
        result = adamtune.search(
            digits_model, digits, trials=3, storage=f"sqlite:///{tmp_path / f's{i}.db'}", **QUICK
        )
        runs.append([(t.params, t.value) for t in result.study.trials])
    assert runs[0] == runs[1]


def test_progress_lines_when_not_on_a_terminal(
    digits: Any, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    adamtune.search(
        digits_model, digits, space="quick", epochs=2, trials=2, storage=storage, verbose=1
    )
    err = capsys.readouterr().err
    assert "[adamtune] trial 0" in err
    assert "2/2 finished" in err
    assert "best val_loss=" in err


def _tutorial_model(units=16):  # type: ignore[no-untyped-def]  # as tutorials write it
    return mlp(30, 1, "sigmoid", units=units)


@pytest.mark.parametrize(
    ("model_fn", "data", "kwargs", "error", "match"),
    [
        (cancer_model, "wrong_shape", {}, adamtune.PreflightError, "input shape"),
        (cancer_model, "nan_x", {}, ValueError, r"`x` contains 1 NaN"),
        (
            lambda: mlp(30, 5),
            "cancer_multiclass",
            {},
            adamtune.PreflightError,
            r"labels take 7 classes .* model outputs 5 unit",
        ),
        (lambda: None, "cancer", {}, TypeError, r"must return an uncompiled keras\.Model"),
        (lambda: 1 / 0, "cancer", {}, adamtune.PreflightError, "ZeroDivisionError"),
        (
            _tutorial_model,  # a tutorial's `def get_model(units=16)`: hp lands in `units`
            "cancer",
            {},
            adamtune.PreflightError,
            r"passed its `hp` as model_fn's first argument `units` \(default 16\); take `hp` "
            r"first, or pass a function of no argument \(e\.g\. `lambda: _tutorial_model\(\)`\)",
        ),
        (cancer_model, "cancer", {"space": "nope"}, ValueError, r"unknown space 'nope'.*quick"),
        (cancer_model, "cancer", {"trials": 0}, ValueError, r"`trials` must be a positive"),
        (cancer_model, "cancer", {"timeout": "soon"}, ValueError, r"`timeout`"),
        (cancer_model, "cancer", {"pruner": "magic"}, ValueError, r"`pruner` must be one of"),
        (
            cancer_model,
            "cancer",
            {"seed": -1},
            ValueError,
            r"`seed` must be between 0 and 2\*\*32 - 1 .* Received: seed=-1",
        ),
        (cancer_model, "cancer", {"objective": "val_auc"}, ValueError, r"not logged"),
        (cancer_model, "list", {}, TypeError, r"`data` must be \(x, y\)"),
    ],
)
def test_bad_input_fails_before_anything_is_stored(
    cancer: Any,
    storage: str,
    model_fn: Any,
    data: str,
    kwargs: dict[str, Any],
    error: Any,
    match: str,
) -> None:
    x, y = cancer
    bad_x = x.copy()
    bad_x[3, 4] = np.nan
    datasets = {
        "cancer": (x, y),
        "wrong_shape": (x[:, :10], y),
        "nan_x": (bad_x, y),
        "cancer_multiclass": (x, np.arange(len(y)) % 7),
        "list": [x.tolist(), y.tolist()],
    }
    with pytest.raises(error, match=match):
        adamtune.search(model_fn, datasets[data], storage=storage, verbose=0, epochs=1, **kwargs)
    assert not _db_path(storage).exists()


def test_regression_target_gets_mse_and_a_quiet_run_prints_nothing(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x, y = data.data.astype("float32"), (data.target / 100).astype("float32")
    result = adamtune.search(
        lambda: mlp(10, 1, activation="linear"),
        (x, y),
        trials=2,
        storage=storage,
        study_name="reg",
        **QUICK,
    )
    assert result.best.loss["class_name"] == "MeanSquaredError"
    assert result.best.metrics == ["mae"]
    assert capsys.readouterr().err == ""


def test_val_loss_is_scored_without_the_l2_penalty(digits: Any, storage: str) -> None:
    space = _fixed_space(
        3e-3, regularizer={"l2": FloatRange(1e-2, 1e-2, log=True)}, epochs=2, scaling=("standard",)
    )
    result = adamtune.search(
        digits_model,
        digits,
        space=space,
        trials=1,
        storage=storage,
        pruner="none",
        verbose=0,
        seed=0,
    )
    (trial,) = result.study.trials
    last = trial.user_attrs["last"]
    assert last["val_loss"] > last["val_data_loss"] + 0.05  # Keras adds the penalty here
    assert trial.value <= last["val_data_loss"] + 1e-9


def test_loss_and_metrics_can_be_overridden(storage: str) -> None:
    import keras
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x, y = data.data.astype("float32"), (data.target / 100).astype("float32")
    result = adamtune.search(
        lambda: mlp(10, 1, activation="linear"),
        (x, y),
        trials=1,
        loss=keras.losses.MeanAbsoluteError(),
        metrics=["mse"],
        storage=storage,
        **QUICK,
    )
    assert result.best.loss["class_name"] == "MeanAbsoluteError"
    assert result.best.metrics == ["mse"]
    with pytest.raises(ValueError, match=r"`loss` is not a Keras loss\. Received: loss='nope'"):
        adamtune.search(
            lambda: mlp(10, 1, activation="linear"),
            (x, y),
            loss="nope",
            storage=storage,
            study_name="other",
            **QUICK,
        )
