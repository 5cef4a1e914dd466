"""The Optuna engine: storage, sampler, pruner, and the trial adapter.

This module knows Optuna and the objective it is handed (``TrialObjective``); it never touches a
Keras model.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from adamtune._interrupt import interruptible, protected
from adamtune._json import jsonable
from adamtune._record import ERROR_ATTR, INTERRUPTED_OUTCOME, OUTCOME_ATTR, RSS_ATTR, WORKER_ATTR
from adamtune.engine._meta import META_KEY, check_same
from adamtune.engine._process import rss_mb, worker_identity
from adamtune.engine._records import error_attrs
from adamtune.engine._repeats import repeat_of
from adamtune.engine._storage import retry_trial, write_attrs
from adamtune.engine._study import TrialObjective
from adamtune.params import Condition

__all__ = ["OptunaSource", "choose_pruner", "create_or_load", "make_objective", "make_pruner"]

PRUNERS = ("hyperband", "asha", "asha-third", "sha", "median", "none")
# A new study's pruner when none is asked for (benchmarks/NOTES.md sections 14 and 15).
DEFAULT_PRUNER = "asha"
# What a study stored without a pruner was made with: until the default became asha, a study
# stored its pruner only when one other than hyperband was asked for. It resumes, and its workers
# prune, with that.
UNSTORED_PRUNER = "hyperband"
# The error of a trial closed by a signal: Ctrl-C, SIGTERM, or (a --workers helper) its parent's end.
INTERRUPTED = "Interrupted: stopped mid-trial by Ctrl-C, SIGTERM or the end of its --workers parent"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class OptunaSource:
    """A parameter source backed by an Optuna trial (define-by-run). Each suggestion is a storage
    write made while the trial runs: a Ctrl-C waits for it.

    Optuna has no ``reverse_log`` sampling: such a parameter is drawn on a log scale and mirrored
    (``low + high - x``), so the study stores the mirrored draw and the trial's ``user_params`` the
    value the model_fn got.
    """

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def float(
        self,
        name: str,
        low: float,
        high: float,
        log: bool,
        condition: Condition = None,
        *,
        step: float | None = None,
        reverse: bool = False,
        default: float | None = None,
    ) -> float:
        with protected():
            value = self.trial.suggest_float(name, low, high, step=step, log=log)
        return low + high - value if log and reverse else value

    def int(
        self,
        name: str,
        low: int,
        high: int,
        step: int,
        log: bool,
        *,
        reverse: bool = False,
        default: int | None = None,
    ) -> int:
        with protected():
            value = self.trial.suggest_int(name, low, high, step=step, log=log)
        return low + high - value if log and reverse else value

    def choice(
        self,
        name: str,
        choices: Sequence[Any],
        *,
        ordered: bool | None = None,
        default: Any = None,
    ) -> Any:
        with protected():
            return self.trial.suggest_categorical(name, list(choices))


def choose_pruner(
    asked: str | optuna.pruners.BasePruner | None,
    stored: dict[str, Any] | None,
    name: str,
    epochs: int,
) -> tuple[optuna.pruners.BasePruner, str, str | None]:
    """``(pruner, label, note)``: the pruner study ``name`` runs with in this call, its name
    (``<ClassName>`` for a pruner object: a new study stores it as ``meta["pruner"]``, a resumed
    one keeps what it stored) and what to say, or None.

    ``asked``: the ``pruner`` argument (checked by :func:`make_pruner`); ``stored``: the
    study's stored settings, None for a new study. Not asked for, a new study prunes with
    :data:`DEFAULT_PRUNER` and a resumed one with the pruner it was made with (one stored
    without: :data:`UNSTORED_PRUNER`), so a default changed between versions never changes a
    study halfway; a pruner object cannot be rebuilt from the storage, which is said. Asked for,
    it is used, and said where the study was made with another (the study keeps its own for
    ``adamtune worker``).
    """
    kept = None if stored is None else str(stored.get("pruner", UNSTORED_PRUNER))
    if asked is not None:
        label = asked if isinstance(asked, str) else f"<{type(asked).__name__}>"
        note = None
        if kept is not None and kept != label:
            note = (
                f"study {name!r} was made with pruner {kept.strip('<>')}; this call prunes with "
                f"{label.strip('<>')} (workers that join it keep {kept.strip('<>')})"
            )
        return make_pruner(asked, epochs), label, note
    if kept is None:
        return make_pruner(DEFAULT_PRUNER, epochs), DEFAULT_PRUNER, None
    if kept.startswith("<"):
        note = (
            f"study {name!r} was made with an Optuna pruner object ({kept.strip('<>')}), which "
            f"cannot be rebuilt from the storage: this call prunes with {DEFAULT_PRUNER} (pass "
            "the same object as `pruner=` to prune with it)"
        )
        return make_pruner(DEFAULT_PRUNER, epochs), DEFAULT_PRUNER, note
    return make_pruner(kept, epochs), kept, None


def make_pruner(
    pruner: str | optuna.pruners.BasePruner | None, epochs: int
) -> optuna.pruners.BasePruner:
    """``asha`` (the default, :data:`DEFAULT_PRUNER`: rungs after epochs 1, 3, 9,
    :mod:`._pruners`), ``asha-third`` (a rung a third into epoch 1 below those), ``hyperband``,
    ``sha`` (Optuna's, rungs after epochs 2, 4, 10), ``median`` or ``none``; or an Optuna
    pruner instance."""
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    name = DEFAULT_PRUNER if pruner is None else pruner
    if name == "hyperband":
        from adamtune.engine._pruners import Hyperband

        return Hyperband(min_resource=1, max_resource=epochs, reduction_factor=3)
    if name == "asha":
        from adamtune.engine._pruners import EpochsDoneHalving

        return EpochsDoneHalving(min_resource=1, reduction_factor=3)
    if name == "asha-third":
        from adamtune.engine._pruners import ThirdsDoneHalving

        return ThirdsDoneHalving()
    if name == "sha":
        from adamtune.engine._pruners import Halving

        return Halving(min_resource=1, reduction_factor=3)
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(
        f"`pruner` must be one of {', '.join(PRUNERS)} or an optuna.pruners.BasePruner. "
        f"Received: pruner={pruner!r}"
    )


def _find_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


CREATING_WAIT = 10.0  # seconds a study without adamtune's settings may take to receive them


def check_existing(storage: optuna.storages.BaseStorage, name: str, meta: dict[str, Any]) -> bool:
    """Refuse to continue a study created with other settings (read-only); True when it exists.

    A study that exists with no settings and no trials may be one another process is creating
    this instant (its settings are stored right after): waited for, up to
    :data:`CREATING_WAIT` seconds, before it is refused as not adamtune's.
    """
    deadline = time.monotonic() + CREATING_WAIT
    while True:
        existing = _find_study(storage, name)
        if existing is None:
            return False
        stored = existing.user_attrs.get(META_KEY)
        if stored is not None or existing.trials or time.monotonic() >= deadline:
            check_same(name, stored, jsonable(meta))
            return True
        time.sleep(0.1)


def create_or_load(
    storage: optuna.storages.BaseStorage,
    name: str,
    meta: dict[str, Any],
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    on_create: Callable[[optuna.Study], None] | None = None,
) -> optuna.Study:
    """Create the study, or load it after checking its stored settings match ``meta``.

    ``on_create(study)`` runs in the one process whose creation succeeded, however many open the
    same new study at once: the storage decides, atomically, who created it (a unique study
    name in SQLite and PostgreSQL, the first create record in a journal file; every other
    process gets ``DuplicatedStudyError`` and loads it). Work done once per study goes there;
    it runs after the study's settings are stored, so other processes may already load it.
    """
    if not check_existing(storage, name, meta):
        try:
            study = optuna.create_study(
                storage=storage,
                study_name=name,
                direction=meta["direction"],
                sampler=sampler,
                pruner=pruner,
            )
        except optuna.exceptions.DuplicatedStudyError:  # another process created it just now
            check_existing(storage, name, meta)
        else:
            study.set_user_attr(META_KEY, jsonable(meta))
            if on_create is not None:
                on_create(study)
            return study
    return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


def finished_count(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))


class Objective:
    """The Optuna objective: runs a trial, stores its outcome, prunes divergence.

    ``full`` holds a full-disk error met while storing a trial. Optuna's ``catch`` would take it
    for one more failed trial (on PostgreSQL the trial's state is still written while its error
    is not), so the search loop stops on it (:meth:`stop_if_full`) and raises it.
    """

    def __init__(self, setup: TrialObjective) -> None:
        self.setup = setup
        self.full: list[BaseException] = []

    def __call__(self, trial: optuna.Trial) -> float:
        from adamtune.engine._diskfull import disk_full

        try:
            return self._run(trial)
        except Exception as exc:
            if not isinstance(exc, optuna.TrialPruned) and disk_full(exc):
                self.full.append(exc)
            raise

    def stop_if_full(self, study: optuna.Study, _trial: Any) -> None:
        """An ``optimize`` callback: no more trials once the storage's disk is full."""
        if self.full:
            study.stop()

    def _run(self, trial: optuna.Trial) -> float:
        setup = self.setup
        repeat = repeat_of(trial) is not None  # a second run of a best: judged to its end

        prune = _PruneHook(trial, judged=not repeat)
        # Who runs the trial: a later worker fails it at once if this process dies.
        trial.set_user_attr(WORKER_ATTR, worker_identity(trial.number))
        try:
            with interruptible():
                result = setup.run(OptunaSource(trial), prune, number=trial.number)
        except KeyboardInterrupt:
            write_attrs(trial, {OUTCOME_ATTR: INTERRUPTED_OUTCOME, ERROR_ATTR: INTERRUPTED})
            # The sampler's pick was not measured: the same parameters run first on resume.
            retry_trial(trial.study, trial.storage.get_trial(trial._trial_id))
            raise
        except Exception as exc:
            # One storage operation (see write_attrs): a crash leaves the record whole or absent.
            write_attrs(trial, {**error_attrs(exc), RSS_ATTR: rss_mb()})
            raise
        write_attrs(trial, {**result.record(), RSS_ATTR: rss_mb()})
        if result.diverged:
            # Report the worst value at the epoch it failed, so samplers rank the region last.
            trial.report(setup.worst, result.epochs_run - 1 if result.epochs_run else 0)
            raise optuna.TrialPruned(f"{result.outcome}: {result.reason}")
        if result.outcome == "pruned" or result.value is None:
            raise optuna.TrialPruned("pruned by the engine's pruner")
        return result.value


class _PruneHook:
    """The trial's :class:`adamtune.training.PruneHook`: reports each epoch's value (and a value
    inside the first epoch, where the study's pruner has a rung there) and asks the pruner. A
    repeat of a best (``judged=False``) reports but is never pruned."""

    def __init__(self, trial: optuna.Trial, judged: bool) -> None:
        self.trial, self.judged = trial, judged
        self.first_epoch_parts: tuple[float, ...] = tuple(
            getattr(trial.study.pruner, "first_epoch_parts", ())
        )

    def __call__(self, value: float, epoch: int, part: float = 1.0) -> bool:
        from adamtune.engine._pruners import FIRST_PART_ATTR

        with protected():  # storage work mid-training: a Ctrl-C waits for it
            if part < 1.0:
                self.trial.set_user_attr(FIRST_PART_ATTR, [part, value])
            else:
                self.trial.report(value, epoch)
            return self.judged and self.trial.should_prune()


def make_objective(setup: TrialObjective) -> Objective:
    """The Optuna objective running ``setup``'s trials (see :class:`Objective`)."""
    return Objective(setup)
