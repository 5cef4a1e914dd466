"""The default strategy's TPE models a bounded history: the best 25 and the latest 200 trials once
a study is past 225, every trial before that (then it samples exactly as Optuna's TPE)."""

from __future__ import annotations

import math
from collections.abc import Container
from typing import Any

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState

from adamtune.strategies import _bounded
from adamtune.strategies._bounded import KEEP_BEST, KEEP_RECENT, BoundedTPESampler, bounded_history

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    y = trial.suggest_float(f"y_{kind}", 1e-4, 1.0, log=True)  # conditional: groups differ
    return (x - 1) ** 2 + math.log10(y) ** 2


def _tpe(cls: type, seed: int) -> Any:
    return cls(multivariate=True, group=True, seed=seed, n_startup_trials=8)


def test_below_the_bound_it_samples_exactly_as_optunas_tpe() -> None:
    runs = []
    for cls in (optuna.samplers.TPESampler, BoundedTPESampler):
        study = optuna.create_study(sampler=_tpe(cls, 3))
        study.optimize(_objective, n_trials=40)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def _finished(values: list[float], pruned: Container[int] = ()) -> list[Any]:
    return [
        optuna.trial.create_trial(
            state=TrialState.PRUNED if i in pruned else TrialState.COMPLETE,
            value=None if i in pruned else v,
            params={},
            distributions={},
            intermediate_values={0: v} if i in pruned else {},
        )
        for i, v in enumerate(values)
    ]


def _numbered(trials: list[Any]) -> list[Any]:
    for i, t in enumerate(trials):
        t.number = i
    return trials


def test_past_the_bound_it_keeps_the_best_and_the_latest_in_order() -> None:
    n = KEEP_BEST + KEEP_RECENT + 100
    # Values fall with the trial number, except the first 30 trials, which are the best.
    values = [float(i) for i in range(30)] + [1000.0 - i for i in range(30, n)]
    trials = _numbered(_finished(values, pruned={5, n - 1}))
    kept = bounded_history(trials, StudyDirection.MINIMIZE)
    numbers = [t.number for t in kept]
    assert numbers == sorted(numbers)
    best = [i for i in range(30) if i != 5][:KEEP_BEST]  # 5 was pruned: not a complete best
    assert numbers == best + list(range(n - KEEP_RECENT, n))
    assert len(kept) == KEEP_BEST + KEEP_RECENT
    # Maximizing keeps the largest values instead.
    top = bounded_history(trials, StudyDirection.MAXIMIZE)
    assert [t.number for t in top][:KEEP_BEST] == list(range(30, 30 + KEEP_BEST))
    # At the bound, nothing is dropped.
    assert (
        bounded_history(trials[: KEEP_BEST + KEEP_RECENT], StudyDirection.MINIMIZE)
        == (trials[: KEEP_BEST + KEEP_RECENT])
    )


def test_past_the_bound_the_sampler_reads_only_the_bounded_trials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = optuna.create_study(sampler=_tpe(BoundedTPESampler, 0))
    n = KEEP_BEST + KEEP_RECENT + 40
    for t in _finished([float(i % 50) for i in range(n)]):
        study.add_trial(
            optuna.trial.create_trial(
                value=t.value,
                params={"x": (t.value or 0.0) / 10},
                distributions={"x": optuna.distributions.FloatDistribution(-5, 5)},
            )
        )
    seen: list[int] = []
    original = _bounded.bounded_history

    def spy(trials: list[Any], direction: StudyDirection, *args: Any) -> list[Any]:
        kept = original(trials, direction, *args)
        seen.append(len(kept))
        return kept

    monkeypatch.setattr(_bounded, "bounded_history", spy)
    study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2, n_trials=2)
    # The best 25 (values 0) partly fall among the latest 200: between 200 and 225 are read.
    assert seen and all(KEEP_RECENT <= k <= KEEP_BEST + KEEP_RECENT for k in seen), seen
    assert len(study.trials) == n + 2


def test_it_works_under_the_hyperband_pruner_older_studies_resume_with() -> None:
    # HyperbandPruner hands the sampler a per-bracket study that allows only some attributes.
    study = optuna.create_study(
        sampler=_tpe(BoundedTPESampler, 1),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=3, reduction_factor=3),
    )

    def objective(trial: optuna.Trial) -> float:
        value = _objective(trial)
        for step in range(3):
            trial.report(value + 1.0 / (step + 1), step)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.optimize(objective, n_trials=30)
    assert sum(t.state == TrialState.COMPLETE for t in study.trials) >= 10
    assert min(t.value for t in study.trials if t.value is not None) < 1.0


def test_the_default_strategy_builds_it() -> None:
    from adamtune import load_space
    from adamtune.strategies import describe
    from adamtune.strategies._optuna import BUILTINS
    from adamtune.strategies._registry import StrategyContext

    build, _ = BUILTINS["tpe"]
    sampler = build(StrategyContext(space=load_space("default"), seed=0))
    assert isinstance(sampler, BoundedTPESampler)
    assert "the best 25 and the latest 200" in describe()["tpe"]


def test_the_sampler_cost_benchmark_times_both_samplers_on_a_stored_study(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import sampler_cost

    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage, study_name="stored")
    study.optimize(_objective, n_trials=12)
    assert sampler_cost.main(["--storage", storage, "--sizes", "10,40", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("12 finished trials copied; median of 3 asks, ms\n")
    rows = [line.split(" | ") for line in out.splitlines() if line.startswith(("| 10 ", "| 40 "))]
    assert len(rows) == 2 and all(float(r[1]) > 0 and float(r[2].rstrip(" |")) > 0 for r in rows)
    with pytest.raises(ValueError, match="has no finished trial to copy"):
        empty = f"sqlite:///{tmp_path / 'e.db'}"
        optuna.create_study(storage=empty, study_name="empty")
        sampler_cost.main(["--storage", empty])
