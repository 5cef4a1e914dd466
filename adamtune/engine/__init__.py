"""Search engines. Only this subpackage imports Optuna; it never touches a Keras model."""

from adamtune.engine._meta import META_KEY, check_same, diff
from adamtune.engine._optuna import (
    DEFAULT_STORAGE,
    FINISHED,
    PRUNERS,
    OptunaSource,
    check_existing,
    check_storage,
    finished_count,
    make_objective,
    make_pruner,
    mask_url,
    open_storage,
    open_study,
)

__all__ = [
    "DEFAULT_STORAGE",
    "FINISHED",
    "META_KEY",
    "PRUNERS",
    "OptunaSource",
    "check_existing",
    "check_same",
    "check_storage",
    "diff",
    "finished_count",
    "make_objective",
    "make_pruner",
    "mask_url",
    "open_storage",
    "open_study",
]
