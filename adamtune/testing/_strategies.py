"""A conformance suite every registered strategy must pass, for built-in and third-party ones.

Each check runs a real, tiny search (generated data, a small MLP, two epochs) and raises
``AssertionError`` with a message on a violation, so it works under any test runner::

    from adamtune.testing import check_strategy
    def test_my_strategy(tmp_path):
        check_strategy("my-strategy", tmp_path)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from adamtune.result import TrialRecord
from adamtune.spaces import FloatRange, LearningRate, Space

__all__ = ["CONFORMANCE_SPACE", "check_strategy", "conformance_data", "conformance_model"]

# Wide enough that some trials diverge: up to lr 10 on unscaled inputs.
CONFORMANCE_SPACE = Space(
    name="conformance",
    learning_rate=LearningRate(low=1e-4, high=10.0, reference_batch_size=32, rule="sqrt"),
    batch_size=(16, 64),
    regularizer={
        "none": None,
        "l2": FloatRange(1e-6, 1e-3, log=True),
        "adamw": FloatRange(1e-4, 1e-2, log=True),
    },
    batch_norm=(False, True),
    scaling=("none", "standard"),
    epochs=2,
)


def conformance_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """300 x 8 generated features on scales up to ~1e3, three classes."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=seed
    )
    scales = np.logspace(0, 3, 8)
    return (x * scales).astype("float32"), y.astype("int64")


def conformance_model(hp: Any) -> Any:
    """A small MLP that asks for one parameter of its own."""
    import keras

    units = hp.int("units", 4, 16)
    return keras.Sequential(
        [
            keras.Input(shape=(8,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def _expect(condition: object, message: str) -> None:
    """A conformance check: an explicit AssertionError, which ``python -O`` does not remove (a
    bare ``assert`` would let a third-party strategy pass every check vacuously)."""
    if not condition:
        raise AssertionError(message)


def _inside(trial: Any, space: Space) -> None:
    record = TrialRecord.from_attrs(trial.user_attrs)
    adam = record.adam
    if adam is None:  # as _expect, spelled out so the type checker sees it
        raise AssertionError(f"trial {trial.number} stored no Adam parameters")
    lr = space.learning_rate
    base = adam["base_learning_rate"]
    _expect(
        lr.low * (1 - 1e-9) <= base <= lr.high * (1 + 1e-9),
        f"trial {trial.number}: base_learning_rate {base} outside [{lr.low}, {lr.high}]",
    )
    _expect(adam["batch_size"] in space.batch_size, f"trial {trial.number}: batch {adam}")
    _expect(adam["batch_norm"] in space.batch_norm, f"trial {trial.number}: batch_norm {adam}")
    _expect(adam["scaling"] in space.scaling, f"trial {trial.number}: scaling {adam}")
    _expect(4 <= (record.user_params or {})["units"] <= 16, f"trial {trial.number}: units")
    kind = adam["regularizer"]
    _expect(kind in space.regularizer, f"trial {trial.number}: regularizer {kind!r}")
    strengths = {k for k in trial.params if k.endswith("_strength")}
    expected = set() if space.regularizer[kind] is None else {f"{kind}_strength"}
    _expect(
        strengths <= expected,
        f"trial {trial.number}: regularizer {kind!r} but strength parameters {sorted(strengths)}",
    )
    rng = space.regularizer[kind]
    if rng is not None:
        value = adam["regularizer_strength"]
        _expect(
            rng.low * (1 - 1e-9) <= value <= rng.high * (1 + 1e-9),
            f"trial {trial.number}: {kind} strength {value} outside [{rng.low}, {rng.high}]",
        )


def _diverged_are_reported_worst(study: Any, *, finite: bool) -> int:
    """A diverged trial is pruned with its reason, and its last report to the engine is worse
    than every completed trial's score (finite where the engine cannot take infinity)."""
    from adamtune.engine import state_of

    minimize = study.direction.name == "MINIMIZE"
    scores = [t.value for t in study.trials if state_of(t) == "COMPLETE"]
    diverged = [
        t
        for t in study.trials
        if (TrialRecord.from_attrs(t.user_attrs).outcome or "").startswith(
            ("diverged", "collapsed")
        )
    ]
    for t in diverged:
        _expect(state_of(t) == "PRUNED", f"diverged trial {t.number} stored as {t.state.name}")
        reason = TrialRecord.from_attrs(t.user_attrs).reason
        _expect(reason, f"diverged trial {t.number} has no reason")
        _expect(t.intermediate_values, f"diverged trial {t.number} reported nothing to the engine")
        reported = t.intermediate_values[max(t.intermediate_values)]
        _expect(
            not finite or math.isfinite(reported),
            f"diverged trial {t.number} reported {reported} to an engine that needs finite scores",
        )
        worse = all((reported >= s) if minimize else (reported <= s) for s in scores)
        _expect(worse, f"diverged trial {t.number} reported {reported}, not worse than {scores}")
    return len(diverged)


def _check_divergence_reaches_the_engine(
    strategy: Any, workdir: str | Path, data: Any, opts: dict[str, Any], engine: Any
) -> None:
    """A space whose learning rate is fixed at 10 on unscaled data: every trial diverges."""
    import dataclasses

    import adamtune

    hot = dataclasses.replace(
        CONFORMANCE_SPACE,
        name="conformance-diverged",
        learning_rate=LearningRate(10.0, 10.0, reference_batch_size=32, rule="none"),
        scaling=("none",),
        batch_norm=(False,),
    )
    storage = _storage(engine, workdir, "kt-hot", "h.db")
    result = adamtune.search(
        conformance_model,
        data,
        trials=2,
        **{**opts, "space": hot, "storage": storage, "study_name": "conformance-diverged"},
    )
    n = _diverged_are_reported_worst(result.study, finite=engine.finite_scores)
    _expect(n >= 1, f"no trial diverged at learning rate 10: {dict(result.outcomes)}")
    if result.oracle is not None:
        scores = [t.score for t in result.oracle.trials.values()]
        _expect(
            all(s is not None and math.isfinite(s) for s in scores),
            f"the oracle got {scores} for diverged trials; it needs finite bad scores",
        )


def check_strategy(strategy: Any, workdir: str | Path, *, trials: int = 4, seed: int = 0) -> None:
    """Run the conformance checks for ``strategy`` (a name or an engine object).

    Checks: every proposal lies inside the space and respects the conditional strength; diverged
    trials are stored pruned with their reason and reported as the worst value; a study resumes to
    a larger target with its earlier trials unchanged; the best config exports and loads back.
    """
    import adamtune
    from adamtune.engine import engine_for

    engine = engine_for(strategy)
    storage = _storage(engine, workdir, "kt", "c.db")
    data = conformance_data(seed)
    opts: dict[str, Any] = dict(
        space=CONFORMANCE_SPACE,
        strategy=strategy,
        storage=storage,
        study_name="conformance",
        seed=seed,
        verbose=0,
        pruner="none" if engine.prunes else None,
    )
    first = adamtune.search(conformance_model, data, trials=trials, **opts)
    before = {t.number: (t.state, t.value, t.params) for t in first.study.trials}
    for trial in first.study.trials:
        _inside(trial, CONFORMANCE_SPACE)
    _diverged_are_reported_worst(first.study, finite=engine.finite_scores)

    second = adamtune.search(conformance_model, data, trials=trials + 2, **opts)
    after = {t.number: (t.state, t.value, t.params) for t in second.study.trials}
    _expect(all(after[n] == before[n] for n in before), "resuming changed earlier trials")
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in second.study.trials)
    _expect(
        finished >= trials + 2 or _grid_exhausted(second),
        f"resume reached {finished} finished trials, target {trials + 2}",
    )
    for trial in second.study.trials:
        _inside(trial, CONFORMANCE_SPACE)
    if second.oracle is not None:
        scores = [t.score for t in second.oracle.trials.values() if t.score is not None]
        _expect(all(math.isfinite(s) for s in scores), f"the oracle holds non-finite {scores}")

    _check_divergence_reaches_the_engine(strategy, workdir, data, opts, engine)

    path = second.export(Path(workdir) / "conformance.json")
    loaded = adamtune.load_config(path)
    _expect(loaded.to_dict() == second.best.to_dict(), "the exported config does not load back")
    model = loaded.build(conformance_model)
    model.compile(**loaded.compile_kwargs())


def _storage(engine: Any, workdir: str | Path, folder: str, file: str) -> str:
    """A study folder for an engine that keeps one, else a SQLite file, in ``workdir``."""
    return str(Path(workdir) / folder) if engine.folder else f"sqlite:///{Path(workdir) / file}"


def _grid_exhausted(result: Any) -> bool:
    return type(result.study.sampler).__name__ == "GridSampler"
