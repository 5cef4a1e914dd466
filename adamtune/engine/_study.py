"""The one interface a search engine fills in: :class:`Study`, and the ways in.

Every engine (Optuna, KerasTuner) keeps a study behind the same few calls, as Optuna's samplers
and storages each fill in one base class. Nothing outside ``engine/`` tells one engine from the
other: it asks :func:`engine_for` (a strategy) or :func:`kind_of_storage` (a storage) for an
:class:`Engine`, whose checks, defaults and :meth:`Engine.open_study` are that engine's own.

The call order, for a search::

    engine = engine_for(strategy)                  # the strategy's engine
    engine.check_arguments(...)                    # before any work: nothing opened yet
    ...                                            # pre-flight, the strategy's engine object
    study = engine.open_study(obj, storage, name, meta, options)   # no I/O yet
    study.open(setup)        # create, or resume after checking the stored settings match
    study.finished()         # finished (complete or pruned) trials so far
    study.run(target, timeout, callbacks, should_stop)   # trials until one of them says stop
    study.view()             # a read-only Optuna study of every trial, for Result
    study.storage_full(exc)  # a full disk, whatever carried it, as StorageFullError naming it

and to look at a stored study: ``open_existing(storage, name)``, whose ``meta`` and ``view()``
are ready at once (``run`` is not for it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from adamtune._errors import StorageFullError
    from adamtune.training import TrialSetup

__all__ = [
    "Callback",
    "Engine",
    "NoStudy",
    "Study",
    "StudyOptions",
    "engine_for",
    "is_url",
    "kind_of_storage",
    "open_existing",
    "open_study",
    "stored_studies",
]

# A per-trial callback: ``callback(view, trial)``, the view being the read-only Optuna study
# (for Optuna, the live one) and ``trial`` the frozen trial just stored.
Callback = Callable[[Any, Any], None]


class NoStudy(KeyError):
    """:func:`open_existing` found no study of that name in the storage."""


@dataclasses.dataclass(frozen=True)
class StudyOptions:
    """What a search hands a study beside its settings (``meta``).

    ``target``: the finished trials the call asks for; ``record``: extra values stored with the
    study for ``adamtune worker``; ``pruner`` and ``first``: the engine's pruner and the first
    trials of a new study (engines without them ignore them); ``heartbeat``: seconds between a
    running trial's signs of life; ``log``: where the study's events go, as ``log(message,
    warning=...)``.
    """

    target: int
    log: Any
    record: dict[str, Any] = dataclasses.field(default_factory=dict)
    pruner: Any = None
    first: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    heartbeat: int = 30


class Study(Protocol):
    """One study on one engine (see the module docstring for the call order).

    ``name`` and ``meta`` are the study's name and adamtune settings (``meta`` None for a study
    adamtune did not make, from :func:`open_existing`); ``record`` what the last search call
    stored with it (None when the engine keeps none); ``oracle`` the KerasTuner oracle behind it
    (None on other engines), for :class:`~adamtune.Result`.
    """

    name: str
    meta: Any
    oracle: Any

    @property
    def record(self) -> dict[str, Any] | None: ...

    def open(self, setup: TrialSetup) -> None:
        """Create the study, or resume it after checking it was made with the same settings;
        fail and queue again the trials of workers that died."""

    def finished(self) -> int:
        """How many trials finished (complete or pruned)."""

    def run(
        self,
        target: int,
        timeout: float | None,
        callbacks: list[Callback],
        should_stop: Callable[[], bool],
    ) -> None:
        """Run trials until ``target`` finished ones, ``timeout`` seconds, the engine's own end,
        or ``should_stop()`` (asked after every trial, after ``callbacks``)."""

    def view(self) -> Any:
        """A read-only Optuna study holding every trial, for Result, export and progress."""

    def storage_full(self, exc: BaseException) -> StorageFullError | None:
        """``exc`` as a StorageFullError naming where the study is, when it is a full disk."""


class Engine(Protocol):
    """One engine's checks, defaults and constructor of studies.

    ``name``: ``"optuna"`` or ``"kerastuner"`` (for messages and the registry only);
    ``folder``: it keeps a study in a folder named by ``storage``, not behind a URL, so the CLI's
    commands (whose default is a URL) must be told where; ``parallel``: several processes may
    share one of its studies (``--workers``, ``adamtune worker``); ``prunes``: it takes a
    ``pruner``; ``finite_scores``: a diverged trial is reported to it as a finite bad score.
    """

    name: str
    folder: bool
    parallel: bool
    prunes: bool
    finite_scores: bool

    def default_storage(self, storage: Any) -> Any:
        """``storage`` or, when None, what this engine stores in by default."""

    def check_arguments(
        self,
        strategy: Any,
        storage: Any,
        *,
        pruner: Any,
        first_trials: Any,
        trust_storage: bool,
        epochs: int,
    ) -> Any:
        """Refuse what this engine cannot do, before any work; return the pruner to use."""

    def check_lr_range(self, lr_range: str | None, strategy: Any) -> None:
        """Refuse ``lr_range='auto'`` where the engine cannot narrow a stored space."""

    def check_engine_object(self, obj: Any, storage: Any, trust_storage: bool) -> None:
        """Refuse a strategy's engine object that may not run on ``storage``."""

    def open_study(
        self, obj: Any, storage: Any, name: str, meta: dict[str, Any], options: StudyOptions
    ) -> Study:
        """A :class:`Study` of ``obj`` (sampler, oracle) in ``storage``; nothing opened yet."""

    def log_file(self, storage: Any, safe_name: str) -> Path | None:
        """The study's log file beside ``storage``, or None where there is no local folder."""


def is_url(storage: Any) -> bool:
    """Whether ``storage`` is a storage URL (``scheme://...``)."""
    return isinstance(storage, str) and "://" in storage


def kind_of_storage(storage: Any) -> str:
    """``"kerastuner"`` for a folder path, else ``"optuna"`` (a URL, an Optuna storage object,
    or None for ``sqlite:///adamtune.db``)."""
    if isinstance(storage, Path) or (isinstance(storage, str) and not is_url(storage)):
        return "kerastuner"
    return "optuna"


def _engines() -> dict[str, Engine]:
    from adamtune.engine._kerastuner import KERASTUNER
    from adamtune.engine._optuna_study import OPTUNA

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


def open_existing(storage: str, name: str, *, readonly: bool = True) -> Study:
    """The stored study ``name`` in ``storage``, to look at: its ``meta`` (None when adamtune did
    not make it), ``record`` and ``view()``. Raises :class:`NoStudy` when there is none.
    ``readonly``: nothing is created nor repaired, a missing storage file is refused."""
    if kind_of_storage(storage) == "kerastuner":
        from adamtune.engine._kerastuner import existing_kerastuner

        return existing_kerastuner(storage, name)
    from adamtune.engine._optuna_study import existing_optuna

    return existing_optuna(storage, name, readonly=readonly)


def stored_studies(storage: str, *, readonly: bool = True) -> tuple[list[str], list[str]]:
    """The studies in ``storage`` (existing), sorted: adamtune's, and the others."""
    if kind_of_storage(storage) == "kerastuner":
        from adamtune.engine._kerastuner import study_names_in

        return study_names_in(storage), []
    from adamtune.engine._meta import META_KEY
    from adamtune.engine._storage import open_storage

    ours: list[str] = []
    others: list[str] = []
    for frozen in open_storage(storage, readonly=readonly).get_all_studies():
        (ours if META_KEY in frozen.user_attrs else others).append(frozen.study_name)
    return sorted(ours), sorted(others)
