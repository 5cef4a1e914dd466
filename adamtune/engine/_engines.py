"""The ways in: which engine runs a strategy or holds a storage's study, and opening a study
through it. The engines register here, above both, so neither engine module imports the other
and :mod:`adamtune.engine._study` (the protocols) imports neither."""

from __future__ import annotations

from typing import Any

from adamtune.engine._kerastuner import KERASTUNER, existing_kerastuner, study_names_in
from adamtune.engine._meta import META_KEY
from adamtune.engine._optuna_study import OPTUNA, existing_optuna
from adamtune.engine._storage import open_storage
from adamtune.engine._study import Engine, Study, StudyOptions, kind_of_storage

__all__ = ["engine_for", "engine_named", "open_existing", "open_study", "stored_studies"]


def _engines() -> dict[str, Engine]:
    return {OPTUNA.name: OPTUNA, KERASTUNER.name: KERASTUNER}


def engine_named(kind: str) -> Engine:
    """The engine called ``kind`` (``"optuna"`` or ``"kerastuner"``)."""
    engines = _engines()
    if kind not in engines:
        raise ValueError(f"no engine {kind!r}; engines: {', '.join(engines)}. Received: {kind!r}")
    return engines[kind]


def engine_for(strategy: Any = None, storage: Any = None) -> Engine:
    """The engine that runs ``strategy`` (a checked name or engine object); without one, the
    engine whose study ``storage`` holds."""
    if strategy is None:
        return engine_named(kind_of_storage(storage))
    from adamtune.strategies import engine_of

    return engine_named(engine_of(strategy))


def open_study(
    obj: Any,
    storage: Any,
    name: str,
    meta: dict[str, Any],
    options: StudyOptions,
    *,
    strategy: Any = None,
) -> Study:
    """A :class:`Study` of ``obj`` (a strategy's sampler or oracle) in ``storage``, not opened;
    ``strategy`` (the name or object it came from) picks the engine, else ``obj`` does."""
    return engine_for(obj if strategy is None else strategy).open_study(
        obj, storage, name, meta, options
    )


def open_existing(storage: Any, name: str, *, readonly: bool = True) -> Study:
    """The stored study ``name`` in ``storage``, to look at: its ``meta`` (None when adamtune did
    not make it), ``record`` and ``view()``. Raises :class:`NoStudy` when there is none.
    ``storage``: a URL or folder, or an Optuna storage already opened (used as it is).
    ``readonly``: nothing is created nor repaired, a missing storage file is refused."""
    if kind_of_storage(storage) == "kerastuner":
        return existing_kerastuner(storage, name)
    return existing_optuna(storage, name, readonly=readonly)


def stored_studies(storage: Any, *, readonly: bool = True) -> tuple[list[str], list[str]]:
    """The studies in ``storage`` (existing), sorted: adamtune's, and the others."""
    if kind_of_storage(storage) == "kerastuner":
        return study_names_in(storage), []
    ours: list[str] = []
    others: list[str] = []
    for frozen in open_storage(storage, readonly=readonly).get_all_studies():
        (ours if META_KEY in frozen.user_attrs else others).append(frozen.study_name)
    return sorted(ours), sorted(others)
