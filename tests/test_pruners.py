"""``pruner="asha"``: asynchronous successive halving whose rungs fall after epochs 1, 3, 9
(adamtune reports Keras's 0-based epoch index as the step, so Optuna's own ``sha`` compares after
epochs 2, 4, 10). On hand-reported Optuna trials, then a real search."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from conftest import mlp

import adamtune
from adamtune.engine import make_pruner
from adamtune.engine._pruners import EpochsDoneHalving


def _study(pruner: optuna.pruners.BasePruner) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", pruner=pruner)


def _run(study: optuna.Study, curve: list[float]) -> int:
    """Report ``curve`` one epoch at a time (step = epoch index); the epochs trained before the
    pruner stopped the trial."""
    trial = study.ask()
    for epoch, value in enumerate(curve):
        trial.report(value, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return epoch + 1
    study.tell(trial, curve[-1])
    return len(curve)


@pytest.mark.parametrize(("name", "first_rung"), [("asha", 1), ("sha", 2)])
def test_a_poor_start_is_cut_after_the_rungs_epoch(name: str, first_rung: int) -> None:
    study = _study(make_pruner(name, epochs=6))
    good = [0.6, 0.7, 0.8, 0.85, 0.9, 0.92]
    assert _run(study, good) == 6  # the first trial at a rung is the best there: it goes on
    assert _run(study, [0.1, 0.12, 0.15, 0.2, 0.3, 0.4]) == first_rung


def test_asha_promotes_a_third_and_its_second_rung_falls_after_epoch_3() -> None:
    study = _study(make_pruner("asha", epochs=6))
    for start in (0.5, 0.6, 0.7):  # three trials that each lead at epoch 1 when they get there
        assert _run(study, [start + 0.01 * e for e in range(6)]) == 6
    # ahead after epoch 1 (a third of 4 may go on: the best), behind the others after epoch 3
    assert _run(study, [0.8, 0.5, 0.5, 0.5, 0.5, 0.5]) == 3
    # the stored steps are still Keras's epoch index; only the pruner's view moved
    stopped = study.trials[-1]
    assert sorted(stopped.intermediate_values) == [0, 1, 2]
    assert stopped.system_attrs["completed_rung_0"] == 0.8  # compared after epoch 1 ...
    assert stopped.system_attrs["completed_rung_1"] == 0.5  # ... and after epoch 3


def test_make_pruner_names_asha_in_its_refusal() -> None:
    assert isinstance(make_pruner("asha", 6), EpochsDoneHalving)
    with pytest.raises(ValueError, match=r"one of hyperband, asha, sha, median, none.*'ashaa'"):
        make_pruner("ashaa", 6)


def test_a_real_search_with_asha_cuts_trials_after_their_first_epoch(
    digits: Any, storage: str
) -> None:
    x, y = digits
    result = adamtune.search(
        lambda: mlp(64, 10), (x[:500], y[:500]), space="quick", epochs=4, trials=12, seed=0,
        objective="val_accuracy", storage=storage, study_name="asha", pruner="asha", verbose=0,
    )  # fmt: skip
    trials = result.study.get_trials(deepcopy=False)
    cut = [t for t in trials if t.user_attrs.get("outcome") == "pruned"]  # not diverged runs
    assert cut, "12 trials of random starts: some are behind a third of the others"
    # cut at a rung: after epoch 1 (the default Hyperband never cuts there) or after epoch 3
    assert {len(t.intermediate_values) for t in cut} <= {1, 3}
    assert any(len(t.intermediate_values) == 1 for t in cut)
