"""``pruner="asha"``: asynchronous successive halving whose rungs fall after epochs 1, 3, 9
(adamtune reports Keras's 0-based epoch index as the step, so Optuna's own ``sha`` compares after
epochs 2, 4, 10). On hand-reported Optuna trials, then a real search."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from conftest import mlp, tiny_study

import adamtune
from adamtune.engine import make_pruner
from adamtune.engine._pruners import (
    FIRST_PART_ATTR,
    EpochsDoneHalving,
    Halving,
    Hyperband,
    ThirdsDoneHalving,
)


def _study(pruner: optuna.pruners.BasePruner, name: str | None = None) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", pruner=pruner, study_name=name)


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


def _fail_after(study: optuna.Study, curve: list[float]) -> None:
    """A trial that reported ``curve`` (the pruner judging it at each step), then failed: as one
    interrupted or lost with its worker, whose parameters are queued again."""
    trial = study.ask()
    for epoch, value in enumerate(curve):
        trial.report(value, epoch)
        assert not trial.should_prune()
    study.tell(trial, state=optuna.trial.TrialState.FAIL)


@pytest.mark.parametrize("name", ["asha", "sha", "hyperband"])
def test_a_failed_trial_is_no_rungs_competitor(name: str) -> None:
    """A trial interrupted ahead of the rest (its rung values stored) then failed: the trials
    after it, its own retry among them, are judged without it. Each is the best of the trials
    that finished a rung, so each goes on to the end."""
    # Hyperband's bracket is a CRC of the study's name and the trial's number: in study "b" the
    # trials 0, 2 and 4 share the first bracket (checked: without the filter 2 and 4 are cut).
    study = _study(make_pruner(name, epochs=6), name="b")
    _fail_after(study, [0.99, 0.99, 0.99, 0.99])
    assert "completed_rung_0" in study.trials[0].system_attrs, "the failed one was judged"
    assert [_run(study, [0.5 + 0.01 * e for e in range(6)]) for _ in range(4)] == [6] * 4


def test_without_the_filter_optunas_halving_cuts_every_trial_behind_a_failed_one() -> None:
    """Why the filter: Optuna's own pruner counts the failed trial, and cuts each trial behind it
    at the first rung (under three competitors, only the best goes on)."""
    study = _study(optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    _fail_after(study, [0.99, 0.99])
    assert [_run(study, [0.5 + 0.01 * e for e in range(6)]) for _ in range(4)] == [2] * 4


def test_a_failed_trial_is_no_competitor_a_third_into_epoch_1() -> None:
    study = _study(make_pruner("asha-third", epochs=6))
    trial = study.ask()
    trial.set_user_attr(FIRST_PART_ATTR, [1 / 3, 0.99])
    assert not trial.should_prune()
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert _run_thirds(study, 0.4, [0.5, 0.6, 0.7]) == "end"


def test_a_resumed_search_after_a_failed_leader_completes_its_trials(tmp_path: Any) -> None:
    """The orphan test's failure (a killed search resumed, every trial then cut, "no completed
    trial yet"), made certain: a failed trial with a perfect first-rung score in the study, and
    a resume that prunes with asha. Its trials are judged without it: the first goes on."""
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    made = tiny_study(storage, "s", pruner="none", epochs=2)  # no rung values stored
    best = made.study.best_trial
    record = {"outcome": "interrupted", "error": "Interrupted: stopped mid-trial by Ctrl-C"}
    made.study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL,
            params=best.params,
            distributions=best.distributions,
            intermediate_values={0: 0.0},
            system_attrs={"completed_rung_0": 0.0},  # a loss nothing can go below
            user_attrs=record,
        )
    )
    assert made.study.direction == optuna.study.StudyDirection.MINIMIZE
    resumed = tiny_study(storage, "s", pruner="asha", epochs=2, trials=3)
    new = [t for t in resumed.study.trials if t.number >= 2]
    assert new and new[0].state.name == "COMPLETE", [t.user_attrs.get("reason") for t in new]
    assert len(new[0].intermediate_values) == 2


class _AlwaysPrune(optuna.pruners.BasePruner):
    """Says prune at every step it is asked about (and counts the asks)."""

    def __init__(self) -> None:
        self.asked = 0

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        self.asked += 1
        return True


@pytest.mark.parametrize("epochs", [1, 2])
def test_a_trial_is_judged_at_its_last_epoch_but_never_cut_there(
    tmp_path: Any, epochs: int
) -> None:
    """A cut after the last epoch saves no training and loses the trial's value: the trial is
    reported and the pruner asked (its rung value is there for the trials after it), and it
    finishes. Before the last epoch the pruner cuts as ever."""
    pruner = _AlwaysPrune()
    result = tiny_study(f"sqlite:///{tmp_path / 'p.db'}", "s", pruner=pruner, epochs=epochs)
    trial = result.study.trials[0]
    assert pruner.asked == 1
    assert len(trial.intermediate_values) == 1
    if epochs == 1:
        assert trial.state.name == "COMPLETE" and trial.user_attrs["outcome"] != "pruned"
        assert trial.value == trial.intermediate_values[0]
    else:
        assert trial.state.name == "PRUNED"
        assert trial.user_attrs["reason"] == "after epoch 1 of 2"


def test_make_pruner_names_asha_in_its_refusal() -> None:
    assert isinstance(make_pruner("asha", 6), EpochsDoneHalving)
    assert isinstance(make_pruner("asha-third", 6), ThirdsDoneHalving)
    assert isinstance(make_pruner("sha", 6), Halving)
    assert isinstance(make_pruner("hyperband", 6), Hyperband)
    with pytest.raises(
        ValueError, match=r"one of hyperband, asha, asha-third, sha, median, none.*'ashaa'"
    ):
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


def _run_thirds(study: optuna.Study, third: float | None, curve: list[float]) -> str:
    """A trial as adamtune runs it under ``asha-third``: the value a third into epoch 1 (stored
    as the user attribute, no step reported), then one report per epoch. Where it stopped."""
    trial = study.ask()
    if third is not None:
        trial.set_user_attr(FIRST_PART_ATTR, [1 / 3, third])
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return "third"
    for epoch, value in enumerate(curve):
        trial.report(value, epoch)
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return f"epoch {epoch + 1}"
    study.tell(trial, curve[-1])
    return "end"


def test_asha_third_judges_a_third_into_epoch_1_then_as_asha() -> None:
    study = _study(make_pruner("asha-third", epochs=6))
    for start in (0.5, 0.6, 0.7):  # each leads at every rung when it gets there
        assert _run_thirds(study, start - 0.1, [start + 0.01 * e for e in range(6)]) == "end"
    assert _run_thirds(study, 0.1, [0.9] * 6) == "third"  # behind at the third: cut there
    cut = study.trials[-1]
    assert cut.intermediate_values == {}, "the stored steps stay epochs; none ran"
    assert cut.system_attrs["completed_rung_0"] == 0.1
    # ahead at the third and after epoch 1, behind the others after epoch 3: as asha
    assert _run_thirds(study, 0.9, [0.9, 0.5, 0.5, 0.5, 0.5, 0.5]) == "epoch 3"
    stopped = study.trials[-1]
    assert sorted(stopped.intermediate_values) == [0, 1, 2]
    assert [stopped.system_attrs[f"completed_rung_{r}"] for r in range(3)] == [0.9, 0.9, 0.5]


def test_a_trial_without_a_value_inside_epoch_1_meets_both_first_rungs_at_its_end() -> None:
    """A stream of unknown length has no third to stop at: the end of epoch 1 stands in."""
    study = _study(make_pruner("asha-third", epochs=3))
    assert _run_thirds(study, 0.7, [0.8, 0.85, 0.9]) == "end"
    assert _run_thirds(study, None, [0.2, 0.3, 0.4]) == "epoch 1"
    stopped = study.trials[-1]
    assert stopped.system_attrs["completed_rung_0"] == 0.2


def test_a_real_search_with_asha_third_cuts_trials_a_third_into_epoch_1(
    digits: Any, storage: str
) -> None:
    x, y = digits
    result = adamtune.search(
        lambda: mlp(64, 10), (x[:900], y[:900]), space="quick", epochs=4, trials=12, seed=0,
        objective="val_accuracy", storage=storage, study_name="third", pruner="asha-third",
        verbose=0,
    )  # fmt: skip
    assert result.meta["pruner"] == "asha-third"
    trials = result.study.get_trials(deepcopy=False)
    judged = [t for t in trials if FIRST_PART_ATTR in t.user_attrs]
    assert judged, "every trial of at least three batches an epoch is judged at its third"
    for t in judged:
        part, value = t.user_attrs[FIRST_PART_ATTR]
        assert part == pytest.approx(1 / 3) and 0.0 <= value <= 1.0  # a val_accuracy
    cut = [t for t in trials if t.user_attrs.get("outcome") == "pruned"]
    at_third = [t for t in cut if not t.intermediate_values]
    assert at_third, "12 random starts: some are behind a third of the others a third in"
    for t in at_third:
        assert t.user_attrs["reason"] == "0.33 of the way into epoch 1 of 4"
        assert t.user_attrs["epochs_run"] == 1
    for t in cut:
        if t.intermediate_values:
            assert t.user_attrs["reason"] == f"after epoch {len(t.intermediate_values)} of 4"


def _started(storage: str, study: str) -> list[str]:
    """The study log's "search started" lines, one per call or worker that ran it."""
    from adamtune._studylog import log_path

    path = log_path(storage, study)
    assert path is not None
    return [line for line in path.read_text().splitlines() if "search started" in line]


def _stored(storage: str, study: str) -> dict[str, Any]:
    return dict(optuna.load_study(study_name=study, storage=storage).user_attrs["adamtune"])


def _forget_pruner(storage: str, study: str) -> None:
    """Make ``study`` look as a study made before ``asha`` became the default: its settings
    hold no pruner (they stored one only when another than hyperband was asked for)."""
    meta = _stored(storage, study)
    del meta["pruner"]
    optuna.load_study(study_name=study, storage=storage).set_user_attr("adamtune", meta)


def test_a_new_study_prunes_with_asha_and_stores_it(tmp_path: Any) -> None:
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    result = tiny_study(storage, "default")
    assert result.meta["pruner"] == "asha"
    assert isinstance(result.study.pruner, EpochsDoneHalving)
    assert _started(storage, "default")[-1].endswith("strategy tpe, pruner asha")
    assert tiny_study(storage, "named", pruner="hyperband").meta["pruner"] == "hyperband"


def test_a_resume_keeps_the_studys_pruner_and_one_stored_without_is_hyperband(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A default changed between versions never changes a study halfway: a study made with
    hyperband (by name, or by an older adamtune that stored none) resumes with it."""
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    tiny_study(storage, "named", pruner="median")
    resumed = tiny_study(storage, "named", trials=2)
    assert isinstance(resumed.study.pruner, optuna.pruners.MedianPruner)
    tiny_study(storage, "old")
    _forget_pruner(storage, "old")
    resumed = tiny_study(storage, "old", trials=2)
    assert isinstance(resumed.study.pruner, optuna.pruners.HyperbandPruner)
    assert "pruner" not in _stored(storage, "old"), "the stored settings are not rewritten"
    assert _started(storage, "old")[-1].endswith("pruner hyperband")
    assert "pruner" not in capsys.readouterr().err, "nothing to say: as it was made"


def test_a_pruner_passed_on_resume_is_used_and_the_studys_own_named(tmp_path: Any) -> None:
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    tiny_study(storage, "s")
    resumed = tiny_study(storage, "s", trials=2, pruner="none", verbose=2)
    assert isinstance(resumed.study.pruner, optuna.pruners.NopPruner)
    assert _stored(storage, "s")["pruner"] == "asha", "the study keeps its own for its workers"
    assert any(
        "study 's' was made with pruner asha; this call prunes with none (workers that join it "
        "keep asha)" in line
        for line in _log(storage, "s")
    )


def _log(storage: str, study: str) -> list[str]:
    from adamtune._studylog import log_path

    path = log_path(storage, study)
    assert path is not None
    return path.read_text().splitlines()


def test_workers_prune_as_the_study_was_made_and_an_object_is_named(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """``adamtune worker`` rebuilds the study's pruner from its name (none stored: hyperband);
    an Optuna pruner object cannot be rebuilt, which the worker says."""
    from adamtune.cli import main

    storage = f"sqlite:///{tmp_path / 'p.db'}"
    assert tiny_study(storage, "named", pruner="sha").meta["pruner"] == "sha"
    tiny_study(storage, "old")
    _forget_pruner(storage, "old")
    halving = optuna.pruners.SuccessiveHalvingPruner()
    assert tiny_study(storage, "object", pruner=halving).meta["pruner"] == (
        "<SuccessiveHalvingPruner>"
    )
    targets = ["--model", "adamtune.testing:conformance_model"]
    targets += ["--data", "adamtune.testing:conformance_data"]
    for study, pruner in [("named", "sha"), ("old", "hyperband"), ("object", "asha")]:
        assert main(["worker", "--storage", storage, "--study", study, *targets]) == 0
        assert _started(storage, study)[-1].endswith(f"pruner {pruner}"), study
    err = capsys.readouterr().err
    assert (
        "study 'object' was made with an Optuna pruner object (SuccessiveHalvingPruner), which "
        "cannot be rebuilt from the storage: this call prunes with asha" in err
    )
    assert err.count("pruner object") == 1, "said for that study only"


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
