"""search(first_trials=...): where a new study starts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import tiny_study

import adamtune
from adamtune._first import first_trial_params, regression_lr_scale

QUICK = adamtune.load_space("quick")  # batch 32/64, lr 1e-4..1e-1 at 32 (sqrt), none/l2/adamw
TEXTBOOK = {
    "batch_size": 32,
    "base_learning_rate": 1e-3,
    "regularizer": "none",
    "batch_norm": False,
    "scaling": "standard",
}


def test_auto_is_adams_textbook_start_put_into_the_space() -> None:
    assert first_trial_params("auto", QUICK) == [TEXTBOOK]
    assert first_trial_params(None, QUICK) == []
    large = adamtune.load_space("large-batch")  # batch 256..2048, no 32: the nearest is taken
    (start,) = first_trial_params("auto", large)
    assert start["batch_size"] == 256
    # 1e-3 at batch 32 carried to 256 by the sqrt rule, then back to the reference (256): same.
    assert start["base_learning_rate"] == pytest.approx(1e-3 * math.sqrt(8))
    (betas,) = first_trial_params("auto", adamtune.load_space("betas"))
    assert betas["beta_1"] == 0.9 and betas["beta_2"] == 0.999


def test_a_regressions_start_is_scaled_by_its_targets_rms() -> None:
    y = np.full(50, 30.0)
    assert regression_lr_scale(y, regression=True) == pytest.approx(30.0)
    assert regression_lr_scale(y, regression=False) == 1.0  # class labels are not a scale
    assert (
        regression_lr_scale(np.full(50, 0.2), regression=True) == 1.0
    )  # small targets: 1e-3 stays
    (start,) = first_trial_params("auto", QUICK, target_scale=30.0)
    assert start["base_learning_rate"] == pytest.approx(3e-2)
    (clipped,) = first_trial_params("auto", QUICK, target_scale=1e4)
    assert clipped["base_learning_rate"] == pytest.approx(0.1)  # the space's top
    # A user's own learning rate is theirs: not scaled.
    (mine,) = first_trial_params([{"learning_rate": 2e-3}], QUICK, target_scale=30.0)
    assert mine["base_learning_rate"] == pytest.approx(2e-3)


def test_a_users_settings_are_carried_to_the_reference_batch_size() -> None:
    (mine,) = first_trial_params(
        [{"learning_rate": 2e-3, "batch_size": 64, "regularizer": "l2"}], QUICK
    )
    assert mine["base_learning_rate"] == pytest.approx(2e-3 / math.sqrt(2))
    assert mine["batch_size"] == 64 and mine["scaling"] == "standard"
    assert mine["l2_strength"] == pytest.approx(math.sqrt(1e-6 * 1e-3))  # the range's middle


@pytest.mark.parametrize(
    ("given", "error", "match"),
    [
        ([{"lr": 1e-3}], ValueError, r"first_trials\[0\]` has unknown keys \['lr'\]; allowed: "),
        ([{"batch_size": 128}], ValueError, r"\['batch_size'\]` must be one of \[32, 64\]"),
        ([{"learning_rate": 1.0}], ValueError, r"in the space's range, 0.0001 to 0.1 at batch"),
        ([{"regularizer": "l1"}], ValueError, r"must be one of \['none', 'l2', 'adamw'\]"),
        (
            [{"regularizer": "l2", "regularizer_strength": 0.5}],
            ValueError,
            r"must be 1e-06 to 0.001 for l2. Received: regularizer_strength=0.5",
        ),
        ([{"batch_norm": 1}], ValueError, r"\['batch_norm'\]` must be one of \[False, True\]"),
        ([{"beta_1": 0.8}], ValueError, r"left out: the space does not tune it"),
        ([{"learning_rate": "fast"}], ValueError, r"must be a positive number"),
        ("defaults", TypeError, r"must be 'auto', 'lr-range', None or a list of dicts"),
        ([3e-4], TypeError, r"`first_trials\[0\]` must be a dict of settings. Received: 0.0003"),
    ],
)
def test_bad_first_trials_are_refused_before_any_work(
    tmp_path: Path, given: object, error: type[Exception], match: str
) -> None:
    storage = f"sqlite:///{tmp_path / 'f.db'}"
    with pytest.raises(error, match=match):
        tiny_study(storage, "bad", first_trials=given)
    assert not (tmp_path / "f.db").exists()


def test_first_trials_are_refused_with_a_kerastuner_strategy(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="KerasTuner strategies start from their own"):
        tiny_study(str(tmp_path / "kt"), "kt", strategy="kt-random", first_trials=[{}])


@pytest.mark.slow  # a search and its resume: about 8 s; CI runs it in the slow pass
def test_a_new_study_starts_there_and_a_resumed_one_is_left_alone(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 's.db'}"
    first = tiny_study(storage, "auto", seed=3, lr_range=None)  # the textbook start, unclipped
    assert adam(first.study.trials[0].params) == TEXTBOOK
    again = tiny_study(storage, "auto", seed=3, trials=2, lr_range=None)
    assert [adam(t.params) == TEXTBOOK for t in again.study.trials] == [True, False]

    mine = tiny_study(storage, "mine", seed=3, first_trials=[{"batch_size": 64}, {}])
    assert mine.study.trials[0].params["batch_size"] == 64
    assert len(mine.study.get_trials(states=[adamtune_waiting()])) == 1  # the second is queued

    off = tiny_study(storage, "off", seed=3, first_trials=None)
    assert adam(off.study.trials[0].params) != TEXTBOOK


def adam(params: dict[str, object]) -> dict[str, object]:
    """adamtune's own parameters (the conformance model adds its 'units')."""
    return {k: v for k, v in params.items() if k != "units"}


def adamtune_waiting() -> object:
    import optuna

    return optuna.trial.TrialState.WAITING


def _regressor(hp: Any) -> Any:
    import keras

    return keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )


def test_a_regression_study_starts_at_the_learning_rate_its_targets_need(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = (40.0 + x @ np.ones(3)).astype("float32")  # rms ~40: the start is 1e-3 x 40 = 0.04
    result = adamtune.search(
        _regressor,
        (x, y),
        space="quick",
        epochs=1,
        trials=1,
        verbose=0,
        storage=f"sqlite:///{tmp_path / 'r.db'}",
        lr_range=None,  # the textbook start alone: the range test would clip it to its range
    )
    rms = float(np.sqrt(np.mean(np.square(y[:160]))))  # the training split's, near 40
    start = result.study.trials[0].params["base_learning_rate"]
    assert start == pytest.approx(1e-3 * rms, rel=0.1) and 0.035 < start < 0.045
