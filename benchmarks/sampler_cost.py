"""What the default strategy's sampler costs per trial as a study grows, without TensorFlow.

    python benchmarks/systems_long.py --trials 400 --keep /tmp/long     # a real study to copy
    python benchmarks/sampler_cost.py --storage sqlite:////tmp/long/long.db [--sizes 100,400,2000]

The finished trials of a stored adamtune study (its parameters, distributions, values, pruned
trials' intermediate values) are copied, repeated as needed, into an in-memory study of each size;
then the median wall of ``study.ask()`` drawing one stored trial's parameters (where Optuna's TPE
finds the parameter groups and samples, under the Hyperband pruner adamtune gives it) over
``--repeats`` asks,
for Optuna's ``TPESampler`` and for adamtune's ``BoundedTPESampler`` with the same settings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

__all__ = ["copied_study", "main", "time_ask"]

SETTINGS = {"multivariate": True, "group": True, "n_startup_trials": 8}


def _source(storage: str, study_name: str | None) -> tuple[list[Any], Any, int]:
    """The finished trials of the stored study, its direction, and its trials' epochs."""
    import optuna
    from optuna.trial import TrialState

    name = study_name or optuna.study.get_all_study_names(storage)[0]
    study = optuna.load_study(study_name=name, storage=storage)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    trials = [t for t in study.get_trials(deepcopy=False) if t.state in finished]
    if not trials:
        raise ValueError(f"--storage {storage}: study {name!r} has no finished trial to copy")
    epochs = max((max(t.intermediate_values, default=0) for t in trials), default=0) + 1
    return trials, study.direction, epochs


def copied_study(trials: list[Any], size: int, direction: Any, sampler: Any, epochs: int) -> Any:
    """An in-memory study holding ``size`` copies of ``trials`` (in order, repeated)."""
    import optuna

    from adamtune.engine import make_pruner

    study = optuna.create_study(
        direction=direction, sampler=sampler, pruner=make_pruner("hyperband", epochs)
    )
    for i in range(size):
        t = trials[i % len(trials)]
        study.add_trial(
            optuna.trial.create_trial(
                state=t.state,
                value=t.value,
                params=t.params,
                distributions=t.distributions,
                intermediate_values=t.intermediate_values,
            )
        )
    return study


def time_ask(study: Any, trials: list[Any], repeats: int) -> float:
    """Median seconds of ``study.ask()`` drawing the parameters of one of ``trials`` (in turn:
    a trial draws only the parameters its choices call for); each asked trial is told failed
    (TPE ignores those)."""
    import optuna

    walls = []
    for i in range(repeats):
        started = time.perf_counter()
        trial = study.ask(trials[i % len(trials)].distributions)
        walls.append(time.perf_counter() - started)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--storage", required=True, help="a stored adamtune study to copy")
    parser.add_argument("--study", help="its name (default: the storage's first study)")
    parser.add_argument("--sizes", default="50,100,200,400,1000,2000")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    import optuna

    from adamtune.strategies._bounded import BoundedTPESampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    trials, direction, epochs = _source(args.storage, args.study)
    print(f"{len(trials)} finished trials copied; median of {args.repeats} asks, ms")
    print("| trials in the study | Optuna TPESampler | adamtune BoundedTPESampler |")
    print("| --- | --- | --- |")
    for size in sizes:
        cells = []
        for cls in (optuna.samplers.TPESampler, BoundedTPESampler):
            sampler = cls(seed=0, **SETTINGS)  # type: ignore[arg-type]
            study = copied_study(trials, size, direction, sampler, epochs)
            cells.append(f"{1000 * time_ask(study, trials, args.repeats):.1f}")
        print(f"| {size} | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
