"""``search(confirm=N)``: a new best is run N more times with other seeds and the study's best is
judged by the mean over a config's runs (issue 20: on italy-gru the search exported configs that
had won by one lucky seed). The judging rule on hand-made trials, then real studies."""

from __future__ import annotations

import html
from typing import Any

import optuna
import pytest
from conftest import cli_search_argv, mlp, run_adamtune

import adamtune
from adamtune.engine import REPEAT_ATTR, best_of, repeat_of
from adamtune.engine._repeats import judged_best
from adamtune.report._write import render_report

_DIST = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}


def _trial(number: int, value: float | None, state: str = "COMPLETE", of: int | None = None) -> Any:
    attrs = {} if of is None else {REPEAT_ATTR: of}
    trial = optuna.trial.create_trial(
        state=optuna.trial.TrialState[state],
        value=value,
        params={"x": number / 10},
        distributions=_DIST,
        user_attrs=attrs,
    )
    trial.number = number
    return trial


def test_without_repeats_the_best_single_trial_wins() -> None:
    trials = [_trial(0, 0.8), _trial(1, 0.9), _trial(2, 0.85)]
    judged = judged_best(trials, maximize=True)
    assert judged is not None
    assert (judged.trial.number, judged.value, judged.repeated) == (1, 0.9, False)
    assert judged_best(trials, maximize=False).trial.number == 0  # type: ignore[union-attr]


def test_a_lucky_single_run_loses_to_a_config_whose_two_runs_agree() -> None:
    trials = [
        _trial(0, 0.90),
        _trial(1, 0.95),  # the lucky one: its second run says 0.70
        _trial(2, 0.89, of=0),
        _trial(3, 0.70, of=1),
    ]
    judged = judged_best(trials, maximize=True)
    assert judged is not None and judged.repeated
    assert judged.trial.number == 0
    assert judged.value == pytest.approx(0.895)
    assert judged.runs == ((0, 0.90), (2, 0.89))


def test_a_config_still_waiting_for_its_second_run_is_not_exported_over_a_judged_one() -> None:
    trials = [
        _trial(0, 0.90),
        _trial(1, 0.89, of=0),
        _trial(2, 0.99),
        _trial(3, None, "WAITING", 2),
    ]
    assert judged_best(trials, maximize=True).trial.number == 0  # type: ignore[union-attr]
    # ... and before any config was judged, the best single run is the best there is
    early = [_trial(0, 0.90), _trial(1, None, "RUNNING", 0)]
    assert judged_best(early, maximize=True).trial.number == 0  # type: ignore[union-attr]


def test_a_second_run_that_diverged_rules_its_config_out_and_a_crash_does_not() -> None:
    diverged = [_trial(0, 0.5), _trial(1, 0.49, of=0), _trial(2, 0.1), _trial(3, None, "PRUNED", 2)]
    assert judged_best(diverged, maximize=False).trial.number == 0  # type: ignore[union-attr]
    # ... also when no config was judged yet: the next best single run is exported instead
    alone = [
        _trial(0, 0.5),
        _trial(1, 0.1),
        _trial(2, None, "PRUNED", 1),
        _trial(3, None, "WAITING"),
    ]
    assert judged_best(alone, maximize=False).trial.number == 0  # type: ignore[union-attr]
    # ... and when it is the only one, it is still what the study has
    only = [_trial(0, 0.1), _trial(1, None, "PRUNED", 0)]
    assert judged_best(only, maximize=False).trial.number == 0  # type: ignore[union-attr]
    crashed = [
        _trial(0, 0.5),
        _trial(1, 0.49, of=0),
        _trial(2, 0.1),
        _trial(3, None, "FAIL", 2),  # queued again as trial 4
        _trial(4, 0.12, of=2),
    ]
    judged = judged_best(crashed, maximize=False)
    assert judged is not None and judged.runs == ((2, 0.1), (4, 0.12))


@pytest.mark.parametrize(
    ("confirm", "error", "match"),
    [
        (True, TypeError, r"`confirm` must be an int.*Received: confirm=True"),
        (1.0, TypeError, r"`confirm` must be an int.*Received: confirm=1.0"),
        (-1, ValueError, r"`confirm` must be between 0 and 5.*Received: confirm=-1"),
        (6, ValueError, r"between 0 and 5.*Received: confirm=6"),
    ],
)
def test_bad_confirm_is_refused_before_anything_is_stored(
    tmp_path: Any, confirm: Any, error: type[Exception], match: str
) -> None:
    db = tmp_path / "s.db"
    with pytest.raises(error, match=match):
        adamtune.search(
            lambda: mlp(4, 2), ([[0.0] * 4] * 8, [0, 1] * 4), confirm=confirm,
            storage=f"sqlite:///{db}", verbose=0,
        )  # fmt: skip
    assert not db.exists()


def test_confirm_is_refused_for_a_kerastuner_strategy(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match=r"KerasTuner strategies run each set of values once.*"
                       r"confirm=1 with strategy='kt-random'"):  # fmt: skip
        adamtune.search(
            lambda: mlp(4, 2), ([[0.0] * 4] * 8, [0, 1] * 4), strategy="kt-random", confirm=1,
            storage=str(tmp_path / "kt"), verbose=0,
        )  # fmt: skip
    assert not (tmp_path / "kt").exists()


def test_a_real_search_runs_each_new_best_again_and_exports_the_best_mean(
    digits: Any, storage: str, capsys: Any
) -> None:
    x, y = digits
    result = adamtune.search(
        lambda: mlp(64, 10), (x[:600], y[:600]), space="quick", epochs=3, trials=10, seed=3,
        objective="val_accuracy", storage=storage, study_name="confirm", confirm=1, verbose=1,
    )  # fmt: skip
    progress = capsys.readouterr().err
    trials = result.study.get_trials(deepcopy=False)
    repeats = [t for t in trials if repeat_of(t) is not None]
    assert repeats, "the first complete trial is a new best, so it runs again"
    for r in repeats:
        original = trials[repeat_of(r)]  # type: ignore[index]
        assert r.params == original.params  # the same config ...
        assert r.number > original.number
        # ... never cut by the pruner: a finished repeat trained every epoch or diverged
        if r.state.name == "COMPLETE":
            assert len(r.intermediate_values) == 3
    # every original that was a new best when it finished got exactly one repeat
    best_so_far = -1.0
    for t in trials:
        if repeat_of(t) is not None or t.state.name != "COMPLETE":
            continue
        got = sum(repeat_of(r) == t.number for r in repeats)
        assert got == (1 if t.value > best_so_far else 0), t.number
        best_so_far = max(best_so_far, t.value)
    judged = result.judged
    assert judged is not None and judged.repeated
    assert judged == best_of(result.study, maximize=True)
    assert judged.value == pytest.approx(sum(v for _, v in judged.runs) / 2)
    best = result.best
    assert best.trial_number == judged.trial.number
    assert best.value == pytest.approx(judged.value)  # the config says what it was chosen by
    text = str(result)
    assert f"the mean of trial {judged.runs[0][0]}" in text
    assert result.meta["confirm"] == 1
    # every view of the study says which trials are second runs, and of what
    table = result.trials.set_index("number")
    summary = result.summary(top=20)
    for r in repeats:
        assert table.loc[r.number, "repeat_of"] == repeat_of(r)
        assert f"[adamtune] trial {r.number} " in progress
        assert f"repeat of trial {repeat_of(r)}" in progress
    ran = [r for r in repeats if r.state.name in ("COMPLETE", "PRUNED", "FAIL")]
    assert summary.count("repeat of trial") == len(ran)
    assert table["repeat_of"].isna().sum() == len(trials) - len(repeats)
    page = html.unescape(render_report(result))
    runs = ", ".join(f"trial {n}: " for n, _ in judged.runs)
    assert f"trial {judged.trial.number}; the mean of trial {judged.runs[0][0]}: " in page
    assert runs.split(", ")[1] in page


def test_the_cli_takes_confirm_and_status_shows_the_runs(tmp_path: Any) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    done = run_adamtune(*cli_search_argv(db, 4, "c", "--confirm", "1", "--seed", "0"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "best val_loss=" in done.stdout and "(mean of trial " in done.stdout
    status = run_adamtune("status", "--storage", db, "--study", "c", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "best: val_loss=" in status.stdout
    assert "(mean of trial " in status.stdout
    bad = run_adamtune(*cli_search_argv(db, 4, "d", "--confirm", "9"), cwd=tmp_path)
    assert bad.returncode != 0
    assert "`confirm` must be between 0 and 5" in bad.stderr
