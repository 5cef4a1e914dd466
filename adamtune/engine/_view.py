"""What the layers above read from a study's read-only view (:meth:`Study.view`), in adamtune's
words, so that none of them imports Optuna.

A view is an Optuna study today (see ``_study.py``); a trial's state is named by a string,
``"COMPLETE"``, ``"PRUNED"``, ``"FAIL"``, ``"RUNNING"`` or ``"WAITING"`` (:data:`STATES`), and the
helpers here filter, summarize and rank trials by those names. :func:`study_summaries` lists a
storage's studies whatever engine keeps them; :func:`param_importances` is the one place the
report's parameter importances are computed.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from adamtune.engine._engines import open_existing, stored_studies
from adamtune.engine._repeats import Judged, judged_best, repeat_of
from adamtune.engine._study import NoStudy, Study, kind_of_storage

__all__ = [
    "IMPORTANCE_EVALUATOR",
    "STATES",
    "StudySummary",
    "best_of",
    "complete_trials",
    "param_importances",
    "state_of",
    "study_summaries",
    "summarize",
    "trials_in",
]

STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")
IMPORTANCE_EVALUATOR = "PED-ANOVA"  # the evaluator param_importances() asks Optuna for, by name

# Warnings about Optuna's own API, not about the trials: left out of param_importances' messages.
_API_WARNINGS: tuple[type[Warning], ...] = (
    DeprecationWarning,
    PendingDeprecationWarning,
    FutureWarning,
)


def state_of(trial: Any) -> str:
    """The state of a trial of a view, by name: one of :data:`STATES`."""
    return str(trial.state.name)


def trials_in(view: Any, *states: str) -> list[Any]:
    """The trials of ``view`` in any of ``states`` (names, see :data:`STATES`), in trial order;
    not copied: read them, do not change them."""
    from optuna.trial import TrialState

    wanted = tuple(TrialState[name] for name in states)
    return list(view.get_trials(deepcopy=False, states=wanted))


def complete_trials(view: Any) -> list[Any]:
    """The complete trials of ``view`` (those with a value), in trial order."""
    return trials_in(view, "COMPLETE")


def best_of(view: Any, maximize: bool) -> Judged | None:
    """The study's best config (see :func:`~adamtune.engine._repeats.judged_best`): with repeats
    (``search(confirm=N)``), judged by the mean over a config's runs; without, the view's own best
    trial, as it always was. None without a complete trial."""
    trials = view.get_trials(deepcopy=False)
    if any(repeat_of(t) is not None for t in trials):
        return judged_best(trials, maximize)
    if not complete_trials(view):
        return None
    best = view.best_trial
    return Judged(best, float(best.value), ((best.number, float(best.value)),))


def param_importances(view: Any, params: Sequence[str]) -> tuple[dict[str, float], list[str]]:
    """The importances of ``params`` over ``view``'s complete trials, by Optuna's PED-ANOVA
    evaluator asked for by name (:data:`IMPORTANCE_EVALUATOR`: Optuna 5 changed its default
    from fANOVA, and adamtune allows 4.x), largest first; and the messages of the warnings the
    evaluator gave about these trials, once each (warnings about Optuna's own API left out).
    Raises what the evaluator raises (too few trials, odd distributions)."""
    import optuna
    from optuna.exceptions import ExperimentalWarning
    from optuna.importance import PedAnovaImportanceEvaluator

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = optuna.importance.get_param_importances(
            view, evaluator=PedAnovaImportanceEvaluator(), params=list(params)
        )
    skip = (*_API_WARNINGS, ExperimentalWarning)
    said = (str(w.message) for w in caught if not issubclass(w.category, skip))
    return {str(k): float(v) for k, v in values.items()}, list(dict.fromkeys(said))


# -- a storage's studies, one summary each ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StudySummary:
    """One stored study at a glance, whatever engine keeps it.

    ``engine``: the engine's name; ``meta``: adamtune's settings (None for a study adamtune did
    not make); ``direction``: ``"minimize"``/``"maximize"`` (None for a study with several
    objectives); ``states``: trials by state name; ``values``: ``(number, value)`` of each
    complete trial with one value; ``last_activity``: when a trial last started or finished (or,
    where the engine keeps no times, its files last changed).
    """

    name: str
    engine: str
    meta: dict[str, Any] | None
    direction: str | None
    states: Counter[str]
    values: list[tuple[int, float]]
    last_activity: datetime | None


def _optuna_summary(study: Any) -> StudySummary:
    from adamtune.engine._optuna_study import OPTUNA

    view = study.view()
    meta = study.meta
    one = len(view.directions) == 1
    direction = meta.get("direction") if meta else (view.direction.name.lower() if one else None)
    trials = view.get_trials(deepcopy=False)
    values = [
        (t.number, t.values[0])
        for t in trials
        if state_of(t) == "COMPLETE" and t.values is not None and len(t.values) == 1
    ]
    times = [d for t in trials for d in (t.datetime_start, t.datetime_complete) if d]
    states = Counter(state_of(t) for t in trials)
    return StudySummary(
        study.name, OPTUNA.name, meta or None, direction, states, values, max(times, default=None)
    )


def _kerastuner_summary(study: Any) -> StudySummary:
    from adamtune.engine._kerastuner import KERASTUNER

    meta = study.meta or {}
    records = study.records()
    values = [
        (int(r["number"]), float(r["value"]))
        for r in records
        if r.get("state") == "COMPLETE" and r.get("value") is not None
    ]
    files = [*study.records_dir.glob("trial_*.json"), Path(study.project) / "adamtune.json"]
    stamps = [f.stat().st_mtime for f in files if f.is_file()]
    last = datetime.fromtimestamp(max(stamps)) if stamps else None
    states = Counter(str(r.get("state")) for r in records)
    return StudySummary(
        study.name, KERASTUNER.name, meta or None, meta.get("direction"), states, values, last
    )


def summarize(study: Study) -> StudySummary:
    """The :class:`StudySummary` of a stored study (from :func:`open_existing`)."""
    from adamtune.engine._kerastuner import KerasTunerStudy

    if isinstance(study, KerasTunerStudy):
        return _kerastuner_summary(study)
    return _optuna_summary(study)


def _existing(storage: Any, name: str) -> Study:
    try:
        return open_existing(storage, name)
    except NoStudy:
        if kind_of_storage(storage) != "kerastuner":
            raise
        # a KerasTuner study folder whose adamtune.json holds no settings: listed all the same
        from adamtune.engine._kerastuner import KerasTunerStudy

        return KerasTunerStudy(None, storage, name, {})


def study_summaries(storage: str) -> list[StudySummary]:
    """A :class:`StudySummary` of each study in ``storage`` (existing), sorted by name; nothing
    is created or written. An Optuna storage is opened once for all its studies (a journal file
    is read once, not once per study)."""
    from adamtune.engine._storage import open_storage

    where: Any = storage
    if kind_of_storage(storage) == "optuna":
        where = open_storage(storage, readonly=True)
    ours, others = stored_studies(where)
    return [summarize(_existing(where, name)) for name in sorted([*ours, *others])]
