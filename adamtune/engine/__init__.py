"""Search engines. Only this subpackage (and `strategies`, which builds samplers) imports Optuna;
it never touches a Keras model: it calls the objective a search hands it.

Every engine fills in one :class:`Study` interface (see ``_study.py`` for the call order);
:func:`engine_for` and :func:`kind_of_storage` are the only places an engine is told apart.
"""

from adamtune._record import TrialRecord
from adamtune.engine._engines import engine_for, open_existing, open_study, stored_studies
from adamtune.engine._kerastuner import (
    DEFAULT_KT_STORAGE,
    KerasTunerSource,
    KerasTunerStudy,
    check_kt_storage,
)
from adamtune.engine._loop import FailureStreak, hooks_due, run_hooks, run_study
from adamtune.engine._meta import META_KEY, check_same, diff
from adamtune.engine._optuna import (
    FINISHED,
    PRUNERS,
    UNSTORED_PRUNER,
    OptunaSource,
    check_existing,
    finished_count,
    make_objective,
    make_pruner,
)
from adamtune.engine._optuna_study import RUN_KEY, OptunaStudy, wait_for_record
from adamtune.engine._process import rss_mb
from adamtune.engine._quiet import quiet_optuna
from adamtune.engine._repeats import REPEAT_ATTR, Judged, repeat_of
from adamtune.engine._storage import (
    DEFAULT_HEARTBEAT,
    DEFAULT_STORAGE,
    check_storage,
    is_shared,
    local_file,
    mask_url,
    open_storage,
)
from adamtune.engine._study import (
    Callback,
    Engine,
    NoStudy,
    Study,
    StudyOptions,
    TrialObjective,
    TrialRun,
    is_url,
    kind_of_storage,
)
from adamtune.engine._trust import check_trusted
from adamtune.engine._view import (
    IMPORTANCE_EVALUATOR,
    STATES,
    StudySummary,
    best_of,
    complete_trials,
    param_importances,
    state_of,
    study_summaries,
    summarize,
    trials_in,
)

__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_KT_STORAGE",
    "DEFAULT_STORAGE",
    "FINISHED",
    "IMPORTANCE_EVALUATOR",
    "META_KEY",
    "PRUNERS",
    "REPEAT_ATTR",
    "RUN_KEY",
    "STATES",
    "UNSTORED_PRUNER",
    "Callback",
    "Engine",
    "FailureStreak",
    "Judged",
    "KerasTunerSource",
    "KerasTunerStudy",
    "NoStudy",
    "OptunaSource",
    "OptunaStudy",
    "Study",
    "StudyOptions",
    "StudySummary",
    "TrialObjective",
    "TrialRecord",
    "TrialRun",
    "best_of",
    "check_existing",
    "check_kt_storage",
    "check_same",
    "check_storage",
    "check_trusted",
    "complete_trials",
    "diff",
    "engine_for",
    "finished_count",
    "hooks_due",
    "is_shared",
    "is_url",
    "kind_of_storage",
    "local_file",
    "make_objective",
    "make_pruner",
    "mask_url",
    "open_existing",
    "open_storage",
    "open_study",
    "param_importances",
    "quiet_optuna",
    "repeat_of",
    "rss_mb",
    "run_hooks",
    "run_study",
    "state_of",
    "stored_studies",
    "study_summaries",
    "summarize",
    "trials_in",
    "wait_for_record",
]
