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
    # the record (progress lines, status, report) says which epoch a trial was cut after
    for t in cut:
        assert t.user_attrs["reason"] == f"after epoch {len(t.intermediate_values)} of 4"


def test_a_named_pruner_is_stored_for_workers_and_an_object_is_named(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``adamtune worker`` rebuilds the study's pruner from its name; an Optuna pruner object
    cannot be rebuilt, and the worker says it prunes with Hyperband instead."""
    from conftest import tiny_study

    from adamtune.cli import main

    storage = f"sqlite:///{tmp_path / 'p.db'}"
    assert tiny_study(storage, "named", pruner="asha").meta["pruner"] == "asha"
    assert "pruner" not in tiny_study(storage, "default").meta  # hyperband: nothing stored
    halving = optuna.pruners.SuccessiveHalvingPruner()
    assert tiny_study(storage, "object", pruner=halving).meta["pruner"] == (
        "<SuccessiveHalvingPruner>"
    )
    targets = ["--model", "adamtune.testing:conformance_model"]
    targets += ["--data", "adamtune.testing:conformance_data"]
    assert main(["worker", "--storage", storage, "--study", "object", *targets, "-q"]) == 0
    err = capsys.readouterr().err
    assert "prunes with an Optuna pruner object (SuccessiveHalvingPruner) that a worker" in err
    assert main(["worker", "--storage", storage, "--study", "named", *targets, "-q"]) == 0
    assert "pruner object" not in capsys.readouterr().err


@pytest.mark.slow  # a search and its helper worker: about a minute on two cores
def test_the_cli_takes_pruner_asha_and_its_helper_worker_prunes_the_same_way(
    tmp_path: Any,
) -> None:
    from conftest import cli_search_argv, run_adamtune

    db = f"sqlite:///{tmp_path / 's.db'}"
    argv = cli_search_argv(db, 14, "a", "--epochs", "4", "--pruner", "asha", "--workers", "2")
    done = run_adamtune(*argv, "--seed", "0", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(study_name="a", storage=db)
    assert study.user_attrs["adamtune"]["pruner"] == "asha"
    cut = [t for t in study.trials if t.user_attrs.get("outcome") == "pruned"]
    pids = {t.user_attrs["worker"]["pid"] for t in cut}
    assert len(pids) == 2, "both processes cut some trial"
    assert {len(t.intermediate_values) for t in cut} <= {1, 3}  # after epochs 1 and 3 only
    bad = run_adamtune(*cli_search_argv(db, 2, "b", "--pruner", "ashaa"), cwd=tmp_path)
    assert bad.returncode != 0 and "invalid choice: 'ashaa'" in bad.stderr


def test_the_cli_offers_exactly_the_engines_pruners() -> None:
    """The CLI lists its --pruner choices itself (importing the engine would import Optuna at
    start-up): the two lists must not drift apart."""
    from adamtune.cli import build_parser
    from adamtune.engine import PRUNERS

    search = next(
        action.choices["search"]
        for action in build_parser()._actions
        if isinstance(getattr(action, "choices", None), dict) and "search" in action.choices
    )
    pruner = next(a for a in search._actions if "--pruner" in a.option_strings)
    assert tuple(pruner.choices) == PRUNERS
