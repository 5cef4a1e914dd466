"""Search engines. Only this subpackage imports Optuna; it never touches a Keras model."""

from adamtune.engine._kerastuner import (
    DEFAULT_KT_STORAGE,
    KerasTunerSource,
    KerasTunerStudy,
    check_kt_storage,
)
from adamtune.engine._meta import META_KEY, check_same, diff
from adamtune.engine._optuna import (
    FINISHED,
    PRUNERS,
    OptunaSource,
    check_existing,
    finished_count,
    make_objective,
    make_pruner,
    open_study,
)
from adamtune.engine._process import rss_mb
from adamtune.engine._storage import (
    DEFAULT_HEARTBEAT,
    DEFAULT_STORAGE,
    check_storage,
    local_file,
    mask_url,
    open_storage,
)

__all__ = [
    "DEFAULT_HEARTBEAT",
    "DEFAULT_KT_STORAGE",
    "DEFAULT_STORAGE",
    "FINISHED",
    "META_KEY",
    "PRUNERS",
    "KerasTunerSource",
    "KerasTunerStudy",
    "OptunaSource",
    "check_existing",
    "check_kt_storage",
    "check_same",
    "check_storage",
    "diff",
    "finished_count",
    "local_file",
    "make_objective",
    "make_pruner",
    "mask_url",
    "open_storage",
    "open_study",
    "rss_mb",
]
