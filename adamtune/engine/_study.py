"""The one interface a search engine fills in: :class:`Study`, and the ways in.

Every engine (Optuna, KerasTuner) keeps a study behind the same few calls, as Optuna's samplers
and storages each fill in one base class. Nothing outside ``engine/`` tells one engine from the
other: it asks :func:`engine_for` (a strategy) or :func:`kind_of_storage` (a storage) for an
:class:`Engine`, whose checks, defaults and :meth:`Engine.open_study` are that engine's own.

The call order, for a search::

    engine = engine_for(strategy)                  # the strategy's engine
    engine.check_arguments(...)                    # before any work: nothing opened yet
    ...                                            # pre-flight
    engine.stored_settings(storage, name, heartbeat)   # what a resume holds (the LR range
                                                   # test's narrowed space); creates nothing
    engine.lr_range_refusal(strategy)              # why the test steps aside, or None
    ...                                            # the strategy's engine object
    study = engine.open_study(obj, storage, name, meta, options)   # no I/O yet
    study.open(objective)    # create, or resume after checking the stored settings match;
                             # objective: a TrialObjective (training.TrialSetup), whose run()
                             # trains one trial: the engine never builds a model itself
    study.finished()         # finished (complete or pruned) trials so far
    study.run(target, timeout, callbacks, should_stop)   # trials until one of them says stop
    study.view()             # a read-only Optuna study of every trial, for Result
    study.storage_full(exc)  # a full disk, whatever carried it, as StorageFullError naming it

``engine_for``, ``open_study`` and ``open_existing`` live in ``_engines.py``, where the engines
register. To look at a stored study: ``open_existing(storage, name)``, whose ``meta`` and ``view()``
are ready at once (``run`` is not for it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from adamtune._errors import StorageFullError
    from adamtune.params import AdamParams, ParamSource

__all__ = [
    "Callback",
    "Engine",
    "NoStudy",
    "Study",
    "StudyOptions",
    "TrialObjective",
    "TrialRun",
    "is_url",
    "kind_of_storage",
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
    warning=...)``; ``opened``: the storage :meth:`Engine.stored_settings` already opened for
    this study, used instead of opening it again (None: the study opens its own).
    """

    target: int
    log: Any
    record: dict[str, Any] = dataclasses.field(default_factory=dict)
    pruner: Any = None
    first: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    heartbeat: int = 30
    opened: Any = None


class TrialRun(Protocol):
    """What one trial of a :class:`TrialObjective` gives back to the engine."""

    outcome: str  # ok, pruned, a divergence outcome, too-slow or overfit
    value: float | None  # the best objective value it reached (None: none finite)
    reason: str | None
    epochs_run: int
    history: dict[str, list[float]]  # per-epoch logged values, by key

    @property
    def diverged(self) -> bool:
        """Stopped by the divergence guard: the engine ranks it last."""

    def record(self) -> dict[str, Any]:
        """The trial's record to store (``TrialRecord.to_attrs()``, JSON-safe)."""


class Prune(Protocol):
    """The engine's answer to a trial's value ``part`` of the way through epoch ``epoch`` (1.0:
    at its end): stop now? (``adamtune.training.PruneHook`` from the trial's side.)"""

    def __call__(self, value: float, epoch: int, part: float = 1.0) -> bool: ...


class TrialObjective(Protocol):
    """What a search hands an engine: it runs trials and says how they are scored. The engine
    never builds or trains a model itself (``adamtune.training.TrialSetup`` is the one there is).

    ``monitor``: the logged key a trial is scored on; ``direction``: ``"minimize"`` or
    ``"maximize"``; ``epochs``: a full trial's epochs; ``worst``: the worst possible score;
    ``chance_loss``: the loss of guessing (None when unknown); ``space``: the search space.
    """

    space: Any
    direction: str
    epochs: int
    chance_loss: float | None

    @property
    def monitor(self) -> str: ...

    @property
    def worst(self) -> float: ...

    def run(
        self,
        source: ParamSource,
        prune: Prune,
        number: int = 0,
        epochs: int | None = None,
    ) -> TrialRun:
        """One trial: parameters from ``source``; ``prune(value, epoch)`` asked after each epoch
        (and ``prune(value, 0, part)`` inside the first where the engine's pruner lists
        ``first_epoch_parts``); exceptions from user code propagate (the engine records them)."""

    def probe(self, source: ParamSource, adam: AdamParams) -> None:
        """Ask ``source`` every parameter the model asks for, without training."""


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

    def open(self, objective: TrialObjective) -> None:
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
    ``pruner``; ``finite_scores``: a diverged trial is reported to it as a finite bad score;
    ``repeats``: it can run a new best again with other seeds (``search(confirm=N)``).
    """

    name: str
    folder: bool
    parallel: bool
    prunes: bool
    finite_scores: bool
    repeats: bool

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
        """Refuse what this engine cannot do, before any work; return the ``pruner`` argument
        as checked (the pruner itself is chosen by :meth:`study_pruner` once the study's
        settings are read)."""

    def study_pruner(
        self, asked: Any, stored: dict[str, Any] | None, name: str, epochs: int
    ) -> tuple[Any, str | None, str | None]:
        """``(pruner, label, note)`` for study ``name``: the pruner to run with (None where
        this engine does not prune), its name (a new study stores it; None: nothing to store)
        and a note to say, or None. ``asked``: the checked ``pruner`` argument; ``stored``: the study's
        stored settings, None for a new study."""

    def lr_range_refusal(self, strategy: Any) -> str | None:
        """Why ``lr_range='auto'`` steps aside on this engine (it cannot narrow a stored
        space), or None where it runs."""

    def check_engine_object(self, obj: Any, storage: Any, trust_storage: bool) -> None:
        """Refuse a strategy's engine object that may not run on ``storage``."""

    def stored_settings(
        self, storage: Any, name: str, heartbeat: int
    ) -> tuple[dict[str, Any] | None, Any]:
        """``(meta, opened)``: the settings study ``name`` was stored with (None when there is no
        such study yet, or it holds none), and the storage opened to read them, to hand the study
        in :attr:`StudyOptions.opened` (None where there is nothing to keep open). A local
        storage file that does not exist yet is not created to say there is no study."""

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
