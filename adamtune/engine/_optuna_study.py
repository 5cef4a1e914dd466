"""The Optuna engine behind :class:`~adamtune.engine.Study`: storage, first trials, reclaiming
the trials of dead workers, and the loop (:func:`adamtune.engine._loop.optimize`)."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adamtune._record import TrialRecord
from adamtune.engine._meta import META_KEY
from adamtune.engine._quiet import quiet_optuna
from adamtune.engine._study import Callback, NoStudy, StudyOptions

if TYPE_CHECKING:
    import optuna

    from adamtune._errors import StorageFullError
    from adamtune.engine._study import TrialObjective

__all__ = ["OPTUNA", "RUN_KEY", "OptunaStudy", "existing_optuna", "wait_for_record"]

# The study attribute holding the latest call's trials target and the CLI's targets.
RUN_KEY = "adamtune_run"


class OptunaStudy:
    """A study in an Optuna storage (a URL, None for ``sqlite:///adamtune.db``, or an object)."""

    oracle = None

    def __init__(
        self,
        sampler: Any,
        storage: Any,
        name: str,
        meta: Any,
        options: StudyOptions | None = None,
        study: optuna.Study | None = None,
    ) -> None:
        self.sampler = sampler
        self.storage = storage
        self.name = name
        self.meta = meta
        self.options = options
        self._study = study
        self._setup: TrialObjective | None = None

    @property
    def study(self) -> optuna.Study:
        if self._study is None:
            raise RuntimeError(f"study {self.name!r} is not open yet: call open() first")
        return self._study

    @property
    def record(self) -> dict[str, Any] | None:
        return self.study.user_attrs.get(RUN_KEY)

    def _damage(self, damage: str) -> None:
        assert self.options is not None
        self.options.log(damage, warning=True)
        print(f"[adamtune] warning: {damage}", file=sys.stderr)

    def open(self, setup: TrialObjective) -> None:
        from adamtune.engine._optuna import create_or_load
        from adamtune.engine._storage import open_storage

        options = self.options
        assert options is not None, "a study from open_existing() is only looked at"
        self._setup = setup
        with quiet_optuna():
            the_storage = open_storage(
                self.storage if options.opened is None else options.opened,
                heartbeat=options.heartbeat,
                report=self._damage,
            )
            self._study = create_or_load(
                the_storage,
                self.name,
                self.meta,
                self.sampler,
                options.pruner,
                on_create=lambda created: enqueue_first(created, options.first),
            )
            self._study.set_user_attr(RUN_KEY, {**options.record, "trials": options.target})
            options.log(
                f"search started: target {options.target} finished trials, "
                f"strategy {self.meta['strategy']}, pruner {str(self.meta.get('pruner', '?')).strip('<>')}"
            )
            reclaim(self._study, options.log)

    def finished(self) -> int:
        from adamtune.engine._optuna import finished_count

        return finished_count(self.study)

    def run(
        self,
        target: int,
        timeout: float | None,
        callbacks: list[Callback],
        should_stop: Callable[[], bool],
    ) -> None:
        from adamtune.engine._loop import optimize
        from adamtune.engine._optuna import make_objective
        from adamtune.engine._repeats import QueueRepeats

        assert self._setup is not None, "open() the study before running it"
        confirm = int(self.meta.get("confirm", 0))
        if confirm:  # after the trial is counted, before the hooks that may stop the search
            callbacks = [QueueRepeats(confirm, self.meta["direction"] == "maximize"), *callbacks]
        optimize(self.study, make_objective(self._setup), target, timeout, callbacks, should_stop)

    def view(self) -> optuna.Study:
        return self.study

    def storage_full(self, exc: BaseException) -> StorageFullError | None:
        from adamtune.engine._diskfull import storage_full_error
        from adamtune.engine._storage import DEFAULT_STORAGE, local_file, mask_url

        storage = self.storage
        if storage is None or isinstance(storage, str):
            where, what = local_file(storage), mask_url(storage or DEFAULT_STORAGE)
        else:
            where, what = None, type(storage).__name__
        return storage_full_error(exc, where, what)


def enqueue_first(study: optuna.Study, params: list[dict[str, Any]]) -> None:
    """A new study's first trials (a grid enumerates its own points: left alone).

    Called by the one process that created the study (see ``create_or_load``'s ``on_create``), so
    two searches or workers that open a fresh study at the same moment queue them once, not
    each. Looking for queued trials first would not do: between one process's look and its
    enqueue, another can look too, and Optuna's ``enqueue_trial(skip_if_exists=True)`` and
    ``set_user_attr`` markers are not atomic across processes; creating a study is, on every
    storage (SQLite, PostgreSQL, journal files). Should that process die between creating the
    study and queuing its first trials (milliseconds), the study starts from the sampler's own.
    """
    import optuna

    if study.trials or isinstance(study.sampler, optuna.samplers.GridSampler):
        return
    for p in params:
        study.enqueue_trial(p, skip_if_exists=True)


def reclaim(study: optuna.Study, log: Any) -> None:
    """Fail (and queue again) the trials of workers that died, before counting what is done."""
    import optuna
    from optuna.trial import TrialState

    running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.number in running:
            error = TrialRecord.from_attrs(trial.user_attrs).error
            log(f"trial {trial.number} failed: {error}", warning=True)


def _load(storage: Any, name: str) -> optuna.Study:
    import optuna

    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise NoStudy(name) from None


def existing_optuna(storage: Any, name: str, *, readonly: bool = True) -> OptunaStudy:
    """A stored Optuna study, to look at (see :func:`adamtune.engine.open_existing`)."""
    from adamtune.engine._storage import open_storage

    with quiet_optuna():
        loaded = _load(open_storage(storage, readonly=readonly), name)
    return OptunaStudy(None, storage, name, loaded.user_attrs.get(META_KEY), study=loaded)


def wait_for_record(
    storage: str, name: str, wait: float
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The settings and last run record of study ``name`` once a search has stored both (its
    creation takes a pre-flight), polled for up to ``wait`` seconds; None when they never came."""
    from adamtune.engine._storage import open_storage

    with quiet_optuna():
        the_storage = open_storage(storage)
        deadline = time.monotonic() + wait
        while True:
            try:
                attrs = _load(the_storage, name).user_attrs
            except NoStudy:
                attrs = {}
            if META_KEY in attrs and RUN_KEY in attrs:
                return attrs[META_KEY], attrs[RUN_KEY]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.25)


class _Optuna:
    """The Optuna engine (see :class:`adamtune.engine.Engine`)."""

    name = "optuna"
    folder = False
    parallel = True
    prunes = True
    finite_scores = False
    repeats = True

    def default_storage(self, storage: Any) -> Any:
        from adamtune.engine._storage import DEFAULT_STORAGE

        return storage or DEFAULT_STORAGE

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
        from adamtune.engine._optuna import make_pruner
        from adamtune.engine._storage import check_storage
        from adamtune.engine._trust import check_trusted

        make_pruner(pruner, epochs)  # a wrong name refused now; chosen once the study is read
        check_storage(storage)
        check_trusted(strategy, storage, trust_storage)  # before any connection
        return pruner

    def study_pruner(
        self, asked: Any, stored: dict[str, Any] | None, name: str, epochs: int
    ) -> tuple[Any, str | None, str | None]:
        from adamtune.engine._optuna import choose_pruner

        return choose_pruner(asked, stored, name, epochs)

    def lr_range_refusal(self, strategy: Any) -> str | None:
        return None

    def check_engine_object(self, obj: Any, storage: Any, trust_storage: bool) -> None:
        from adamtune.engine._trust import check_trusted

        # A third-party factory may return a pickle-reading sampler too.
        check_trusted(obj, storage, trust_storage)

    def stored_settings(
        self, storage: Any, name: str, heartbeat: int
    ) -> tuple[dict[str, Any] | None, Any]:
        from adamtune.engine._diskfull import storage_full_error
        from adamtune.engine._storage import local_file, mask_url, open_storage

        path = local_file(storage) if isinstance(storage, str) else None
        if path is not None and not path.exists():  # no study yet, and no file made to say so
            return None, None
        try:
            with quiet_optuna():
                the_storage = open_storage(storage, heartbeat=heartbeat)
                try:
                    meta = _load(the_storage, name).user_attrs.get(META_KEY)
                except NoStudy:
                    meta = None
        except Exception as exc:  # a full disk is said as such here too, before the study opens
            what = mask_url(storage) if isinstance(storage, str) else type(storage).__name__
            full = storage_full_error(exc, path, what)
            if full is not None:
                raise full from exc
            raise
        return (meta if isinstance(meta, dict) else None), the_storage

    def open_study(
        self, obj: Any, storage: Any, name: str, meta: dict[str, Any], options: StudyOptions
    ) -> OptunaStudy:
        return OptunaStudy(obj, storage, name, meta, options)

    def log_file(self, storage: Any, safe_name: str) -> Path | None:
        from adamtune.engine._storage import local_file

        if storage is not None and not isinstance(storage, str):
            return None
        file = local_file(storage)
        return None if file is None else file.with_name(f"{file.stem}.{safe_name}.log")


OPTUNA = _Optuna()
