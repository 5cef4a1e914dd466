"""The failure taxonomy of finished trials: too-slow and overfit, from the curves."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import adamtune
from adamtune.training._outcome import label_finished


def test_a_run_that_barely_moved_is_too_slow_and_a_working_one_is_ok() -> None:
    slow = {"loss": [2.29, 2.27, 2.25], "val_loss": [2.3, 2.28, 2.26]}
    outcome, reason = label_finished(slow, first_loss=2.31)
    assert outcome == "too-slow"
    assert (
        reason
        == "training loss only went from 2.31 (first batch) to 2.25 in 3 epochs, less than 10% lower"
    )
    assert label_finished({"loss": [1.0, 0.4, 0.2], "val_loss": [1.0, 0.5, 0.3]}, 2.31) == (
        "ok",
        None,
    )


def test_validation_rising_while_training_falls_is_overfit() -> None:
    history = {
        "data_loss": [1.0, 0.5, 0.2, 0.05],
        "val_data_loss": [1.0, 0.6, 0.7, 0.9],
        "loss": [1.1, 0.6, 0.3, 0.1],
    }
    outcome, reason = label_finished(history, first_loss=2.3)
    assert outcome == "overfit"
    assert reason == (
        "validation loss rose from 0.6 (epoch 2) to 0.9 while training loss fell from 0.5 to 0.05"
    )
    # Noise within 10% of the best epoch, or both curves rising, is not overfitting.
    noisy = {**history, "val_data_loss": [1.0, 0.6, 0.62, 0.64]}
    assert label_finished(noisy, 2.3) == ("ok", None)
    both_up = {**history, "data_loss": [1.0, 0.5, 0.6, 0.7]}
    assert label_finished(both_up, 2.3) == ("ok", None)
    assert label_finished({**history, "val_data_loss": [1.0, math.nan, 0.7, 0.9]}, 2.3)[0] == "ok"


TINY_LR = """
version: 1
name: tiny-lr
learning_rate: {low: 1.0e-7, high: 2.0e-7, reference_batch_size: 32, rule: sqrt}
batch_size: [32]
regularizer: {none: null}
batch_norm: [false]
scaling: [standard]
epochs: 3
"""


def _tiny_lr_space(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_LR)
    return path


def test_a_study_with_a_learning_rate_far_too_small_labels_its_trials_too_slow(
    tmp_path: Path, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    from conftest import mlp

    result: Any = adamtune.search(
        lambda: mlp(64, 10),
        digits,
        space=_tiny_lr_space(tmp_path),
        epochs=3,
        trials=2,
        pruner="none",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        study_name="slow",
        verbose=0,
    )
    # The guard stops the runs flat at chance level; they never left their start: too-slow.
    assert result.outcomes == {"too-slow": 2}
    trial = result.study.trials[0]
    assert trial.state.name == "PRUNED"
    assert re.search(
        r"chance level 2\.30.*; the loss never left its start \(\d", trial.user_attrs["reason"]
    )
    curves = trial.user_attrs["curves"]
    assert len(curves["loss"]) == len(curves["val_data_loss"]) >= 2


def test_a_run_that_blew_up_and_fell_back_to_chance_stays_collapsed() -> None:
    from adamtune.training._outcome import label_stopped

    history = {"loss": [580.0, 2.31, 2.30]}
    assert label_stopped("collapsed-to-chance", "flat", history, 3.1)[0] == "collapsed-to-chance"
    assert label_stopped("collapsed-to-chance", "flat", {"loss": [2.31, 2.30]}, 2.3) == (
        "too-slow",
        "flat; the loss never left its start (2.3)",
    )
    assert label_stopped("diverged-nan", "nan", {"loss": [2.3]}, 2.3) == ("diverged-nan", "nan")
    # A first batch easier or harder than the epochs' mean is noise, not movement (seen in CI).
    assert (
        label_stopped("collapsed-to-chance", "flat", {"loss": [2.62, 2.61]}, 2.3)[0] == "too-slow"
    )
    assert label_stopped("collapsed-to-chance", "flat", {"loss": [2.31, 2.30]}, 4.0)[0] == (
        "collapsed-to-chance"  # fell from far above within the first epoch
    )


def test_chance_level_is_known_for_a_loss_passed_by_name(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    import keras

    from adamtune.data import infer_target
    from adamtune.training import chance_loss

    _, y = digits
    for loss in ("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy()):
        serialized = keras.losses.serialize(keras.losses.get(loss))
        assert chance_loss(infer_target(y), y, serialized) == pytest.approx(math.log(10), rel=1e-2)
    assert chance_loss(infer_target(y), y, keras.losses.serialize(keras.losses.get("mse"))) is None
