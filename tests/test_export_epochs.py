"""The exported config trains to the latest epoch its curve does not tell apart from the best one
(issue 20: retraining to a best epoch picked from a noisy curve under-trained). The rule alone,
then on a real study: the export reads the objective's own curve, in its direction, and says so."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import optuna
import pytest
from conftest import mlp

import adamtune
from adamtune._record import TrialRecord
from adamtune.result import Result, best_epoch, config_from_trial, export_epochs, exported_epochs
from adamtune.result._epochs import NOISE_SPREADS


def _noise(curve: list[float]) -> float:
    bends = [abs(curve[i + 1] - 2 * curve[i] + curve[i - 1]) for i in range(1, len(curve) - 1)]
    return float(np.median(bends)) / (0.6745 * math.sqrt(6))


def test_a_curve_still_rising_through_noise_exports_its_full_length() -> None:
    # validation accuracy on a small set: best at epoch 4 by one sample's worth, then 5 and 6
    curve = [0.90, 0.93, 0.95, 0.962, 0.955, 0.958]
    out = exported_epochs(curve, 4, minimize=False)
    assert (out.epochs, out.best) == (6, 4)
    assert out.noise == pytest.approx(_noise(curve))
    assert "the best epoch was 4; epochs 5-6 stayed within" in out.why


def test_a_curve_that_turns_worse_beyond_its_noise_exports_before_the_turn() -> None:
    # val_loss overfitting after epoch 3: epoch 4 is within the noise, 5 and 6 are not
    curve = [1.0, 0.5, 0.4, 0.45, 0.6, 0.8]
    out = exported_epochs(curve, 3, minimize=True)
    assert out.noise * NOISE_SPREADS > 0.05  # epoch 4 is inside ...
    assert out.noise * NOISE_SPREADS < 0.2  # ... epoch 5 is not
    assert out.epochs == 4


def test_a_smooth_curve_past_its_best_exports_the_best_epoch() -> None:
    # no noise to speak of: a steady rise after the best is real overfitting
    curve = [1.0, 0.8, 0.6, 0.61, 0.62, 0.63]
    assert exported_epochs(curve, 3, minimize=True).epochs == 3


@pytest.mark.parametrize(
    ("curve", "best", "want"),
    [
        ([0.5], 1, 1),  # one epoch
        ([0.5, 0.4], 2, 2),
        # under five epochs: the bend where a curve stops improving cannot be told from noise
        ([0.5, 0.3, 0.31], 2, 2),
        ([0.5, 0.3, 0.31, 0.305], 2, 2),
        ([1.0, 0.6, 0.5, 0.45, 0.46, "nan", 0.455], 4, 7),  # a non-finite epoch is skipped ...
        ([1.0, 0.6, 0.5, 0.45, 0.46, "inf"], 4, 5),  # ... and never exported
        ([1.0, "nan", 0.5, "nan", 0.46, "nan", 0.455], 5, 5),  # no three finite in a row
        ([0.5, 0.4, 0.3, 0.2, 0.1], 5, 5),  # best at the end
    ],
)
def test_short_and_broken_curves(curve: list[Any], best: int, want: int) -> None:
    assert exported_epochs(curve, best, minimize=True).epochs == want


def test_direction_matters() -> None:
    curve = [0.2, 0.8, 0.7, 0.75, 0.74]
    assert exported_epochs(curve, 2, minimize=False).epochs == 5
    # read as a loss, epoch 1 is best and everything after it is far worse
    assert exported_epochs(curve, 1, minimize=True).epochs == 1


@pytest.mark.parametrize("best", [0, 4, -1])
def test_a_best_epoch_outside_the_curve_is_refused(best: int) -> None:
    with pytest.raises(
        ValueError, match=rf"`best` must be an epoch of the curve, 1 to 3. Received best={best}"
    ):
        exported_epochs([0.3, 0.2, 0.25], best, minimize=True)


# --- on a real study ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result(digits: tuple[np.ndarray, np.ndarray], tmp_path_factory: Any) -> Result:
    storage = f"sqlite:///{tmp_path_factory.mktemp('epochs') / 'study.db'}"
    x, y = digits
    return adamtune.search(
        lambda: mlp(64, 10),
        (x[:500], y[:500]),
        trials=3,
        epochs=5,
        storage=storage,
        study_name="epochs",
        seed=3,
        verbose=0,
        pruner="none",
    )


def test_the_export_reads_the_objectives_curve_as_the_engine_saw_it(result: Result) -> None:
    for trial in result.study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        # what the engine was told each epoch: the penalty-free val_data_loss, to minimize
        seen = [trial.intermediate_values[e] for e in sorted(trial.intermediate_values)]
        best = best_epoch(trial.user_attrs)
        assert best is not None
        want = exported_epochs(seen, best, minimize=True).epochs
        assert config_from_trial(trial, result.meta, "epochs").epochs == want
        assert best <= want <= trial.user_attrs["epochs_run"]


def _with_curve(trial: Any, curve: list[float], value: float) -> optuna.trial.FrozenTrial:
    """The trial again, as if its objective had run along ``curve``."""
    attrs = dict(trial.user_attrs)
    best = min(range(len(curve)), key=lambda e: curve[e])
    attrs["curves"] = {**attrs["curves"], "val_data_loss": curve}
    attrs["best_epoch"] = best
    attrs["epochs_run"] = len(curve)
    return optuna.trial.create_trial(
        params=trial.params,
        distributions=trial.distributions,
        value=value,
        user_attrs=attrs,
        intermediate_values=dict(enumerate(curve)),
    )


def test_a_noisy_best_epoch_exports_later_and_the_result_says_why(result: Result) -> None:
    study = optuna.load_study(study_name="epochs", storage=result.study._storage)
    base = study.best_trial
    curve = [0.9, 0.4, 0.3, 0.22, 0.21, 0.215]
    study.add_trial(_with_curve(base, curve, value=min(curve) / 100))
    again = Result(study, result.meta)
    assert again.study.best_trial.user_attrs["best_epoch"] == 4
    assert again.best.epochs == 6
    assert again.best.fit_kwargs()["epochs"] == 6
    text = repr(again)
    assert ", epoch 5 of 6" in text
    assert "  exports: epochs=6 (the best epoch was 5; epoch 6 stayed within 2 x the" in text
    # the table still shows where the objective was best
    table = again.trials.set_index("number")
    assert table.loc[again.study.best_trial.number, "best_epoch"] == 5


def test_a_trial_without_a_stored_curve_exports_its_best_epoch(result: Result) -> None:
    trial = result.study.best_trial
    record = TrialRecord.from_attrs(trial.user_attrs)
    bare = dataclasses.replace(record, curves=None)
    assert export_epochs(bare, result.meta).epochs == record.best_epoch_1based
    none = dataclasses.replace(record, best_epoch=None)
    assert export_epochs(none, result.meta).epochs == result.meta["epochs"] == 5
