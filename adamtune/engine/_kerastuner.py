"""The KerasTuner engine: drives an oracle directly, never KerasTuner's Tuner.

No weight checkpoint is written per trial; the oracle keeps its own small JSON files in
``<storage>/<study>/`` and adamtune writes one JSON record per trial beside them
(``adamtune_trials/``), from which a read-only Optuna view of the study is built, so ``Result``,
export and progress work as for Optuna. This module never touches a Keras model.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adamtune._interrupt import interruptible
from adamtune._json import jsonable
from adamtune._record import ERROR_ATTR, RSS_ATTR
from adamtune._util import atomic_write_text, check_study_name
from adamtune.engine._meta import META_KEY, check_same
from adamtune.engine._process import rss_mb
from adamtune.engine._quiet import quiet_optuna
from adamtune.engine._records import error_attrs
from adamtune.engine._study import Callback, NoStudy, StudyOptions, TrialObjective, is_url
from adamtune.params import Condition

if TYPE_CHECKING:
    from adamtune._errors import StorageFullError

__all__ = [
    "DEFAULT_KT_STORAGE",
    "KERASTUNER",
    "KerasTunerSource",
    "KerasTunerStudy",
    "check_kt_storage",
    "existing_kerastuner",
    "read_meta",
    "study_names_in",
]

DEFAULT_KT_STORAGE = "adamtune_kt"
_TUNER_ID = "adamtune"


class KerasTunerSource:
    """A parameter source backed by a KerasTuner ``HyperParameters`` (define-by-run).

    KerasTuner's ``Choice`` holds one type of value: a choice that mixes types (``[0, 0.25]``,
    ``[None, "max"]``) is handed to it as floats (numbers) or as the values' ``repr`` texts, and
    mapped back, so the model_fn gets its own values. ``scope`` opens KerasTuner's
    ``conditional_scope``: inside an inactive one, KerasTuner registers the parameter as
    conditional and answers ``None``.
    """

    def __init__(self, hps: Any) -> None:
        self.hps = hps
        self._mapped: dict[str, tuple[list[Any], list[Any]]] = {}  # name -> (values, as stored)

    def _scope(self, condition: Condition) -> AbstractContextManager[Any]:
        if condition is None:
            return nullcontext()
        parent, value = condition
        return self.hps.conditional_scope(parent, [value])

    def scope(self, parent: str, values: Sequence[Any]) -> AbstractContextManager[Any]:
        """KerasTuner's conditional scope (values mapped as the parent's were); none when
        KerasTuner does not hold the parent under the current conditions."""
        if not self.hps._exists(parent):
            return nullcontext()
        if parent in self._mapped:
            own, stored = self._mapped[parent]
            values = [stored[own.index(v)] for v in values if v in own]
            if not values:  # no value of the parent opens it: a scope that is never active
                values = ["<never>"] if isinstance(stored[0], str) else [math.nan]
        return self.hps.conditional_scope(parent, list(values))

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
        if low == high:
            return low
        sampling = ("reverse_log" if reverse else "log") if log else "linear"
        with self._scope(condition):
            value = self.hps.Float(name, low, high, step=step, sampling=sampling, default=default)
        return None if value is None else float(value)  # type: ignore[return-value]

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
        if low == high:
            return low
        sampling = ("reverse_log" if reverse else "log") if log else "linear"
        value = self.hps.Int(
            name, low, high, step=None if log else step, sampling=sampling, default=default
        )
        return None if value is None else int(value)  # type: ignore[return-value]

    def choice(
        self,
        name: str,
        choices: Sequence[Any],
        *,
        ordered: bool | None = None,
        default: Any = None,
    ) -> Any:
        own = list(choices)
        stored = _kt_values(own)
        if stored is own:
            return self.hps.Choice(name, own, ordered=ordered, default=default)
        self._mapped[name] = (own, stored)
        numeric = isinstance(stored[0], float)
        value = self.hps.Choice(
            name,
            stored,
            ordered=ordered if numeric else False,
            default=None if default is None else stored[own.index(default)],
        )
        return None if value is None else own[stored.index(value)]


def _kt_values(values: list[Any]) -> list[Any]:
    """``values`` as KerasTuner's ``Choice`` takes them: one type of int, float, str or bool.
    Mixed numbers become floats (kept in order), anything else their ``repr`` texts; ``values``
    itself when it already fits."""
    kinds = {type(v) for v in values}
    if len(kinds) == 1 and kinds <= {int, float, str, bool}:
        return values
    if kinds <= {int, float}:
        floats = [float(v) for v in values]
        if len(set(floats)) == len(set(values)):
            return floats
    return [repr(v) for v in values]


def check_kt_storage(storage: Any) -> None:
    """A KerasTuner study lives in a directory: refuse URLs and non-paths."""
    if storage is None:
        return
    if not isinstance(storage, str | Path) or is_url(str(storage)):
        from adamtune.engine._storage import mask_url

        shown = mask_url(storage) if isinstance(storage, str) else storage
        raise ValueError(
            "KerasTuner strategies keep their study in a directory: `storage` must be a folder "
            f"path such as 'adamtune_kt'. Received: storage={shown!r}"
        )


class KerasTunerStudy:
    """One study: an oracle, its project folder, and adamtune's per-trial records (a
    :class:`~adamtune.engine.Study`)."""

    record = None  # a KerasTuner study keeps no run record: workers join Optuna studies only

    def __init__(
        self,
        oracle: Any,
        storage: str | Path | None,
        name: str,
        meta: dict[str, Any],
        options: StudyOptions | None = None,
    ) -> None:
        self.oracle = oracle
        self.options = options
        self._setup: TrialObjective | None = None
        # The name becomes the project folder: checked here, where it does, whoever calls.
        self.name = check_study_name(name)
        self.meta = jsonable(meta)
        self.root = Path(storage or DEFAULT_KT_STORAGE)
        self.project = self.root / name
        self.records_dir = self.project / "adamtune_trials"
        self._records: list[dict[str, Any]] | None = None
        self._view: Any = None

    # -- opening -------------------------------------------------------------------------------
    def check_existing(self) -> None:
        """Refuse a study folder made with other settings (read-only)."""
        meta_file = self.project / "adamtune.json"
        if meta_file.exists():
            check_same(self.name, json.loads(meta_file.read_text())[META_KEY], self.meta)
        elif self.project.exists() and any(self.project.iterdir()):
            check_same(self.name, None, self.meta)

    def check_objective(self, monitor: str) -> None:
        """The oracle must score the key adamtune reports (``val_data_loss`` for ``val_loss``)."""
        names = [o.name for o in getattr(self.oracle.objective, "objectives", [])] or [
            getattr(self.oracle.objective, "name", None)
        ]
        if names != [monitor]:
            raise ValueError(
                f"the KerasTuner oracle's objective is {names}, but this search reports "
                f"{monitor!r}; build it with keras_tuner.Objective({monitor!r}, ...)"
            )

    def open(self, setup: TrialObjective) -> None:
        self._setup = setup
        self.check_objective(setup.monitor)
        self.check_existing()
        self.records_dir.mkdir(parents=True, exist_ok=True)
        meta_file = self.project / "adamtune.json"
        if not meta_file.exists():
            atomic_write_text(meta_file, json.dumps({META_KEY: self.meta}, indent=2))
        self.oracle._set_project_dir(str(self.root), self.name)
        if (self.project / "oracle.json").exists():
            self.oracle.reload()
        self.oracle.max_consecutive_failed_trials = 10**9  # adamtune counts failure streaks
        self.oracle._display.verbose = 0  # adamtune shows its own progress
        if self.options is not None:
            self.options.log(
                f"search started: target {self.options.target} finished trials, "
                f"strategy {self.meta['strategy']}"
            )

    def populate_space(self, setup: TrialObjective) -> None:
        """Register every parameter with the oracle before the first trial, as KerasTuner's Tuner
        does: each regularizer type's conditional strength, and the model_fn's own ``hp.*``."""
        import keras_tuner

        from adamtune.params import sample_adam_params

        hps = keras_tuner.HyperParameters()
        source = KerasTunerSource(hps)
        adam = sample_adam_params(setup.space, source)
        for kind in list(setup.space.regularizer)[1:]:
            hps.values["regularizer"] = kind
            sample_adam_params(setup.space, source)
        hps.values["regularizer"] = adam.regularizer
        setup.probe(source, adam)  # the model_fn's own hp.* (the objective builds the model)
        self.oracle.update_space(hps)

    # -- records and the Optuna view -------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """Every trial's record: read from the folder once, then kept as trials are added."""
        if self._records is None:
            folder = self.records_dir
            files = sorted(folder.glob("trial_*.json")) if folder.exists() else []
            self._records = [json.loads(f.read_text()) for f in files]
        return self._records

    def _write(self, record: dict[str, Any]) -> None:
        path = self.records_dir / f"trial_{record['number']:06d}.json"
        atomic_write_text(path, json.dumps(record, indent=1, allow_nan=False))
        self.records().append(record)
        if self._view is not None:
            self._view.add_trial(_frozen(record))

    def view(self) -> Any:
        """An in-memory Optuna study holding these trials, for Result, export and progress."""
        import optuna

        if self._view is None:
            with quiet_optuna():
                self._view = optuna.create_study(
                    direction=self.meta["direction"], study_name=self.name
                )
            self._view.set_user_attr(META_KEY, self.meta)
            for record in self.records():
                self._view.add_trial(_frozen(record))
        return self._view

    def finished(self) -> int:
        return sum(r["state"] in ("COMPLETE", "PRUNED") for r in self.records())

    # -- running -------------------------------------------------------------------------------
    def run(
        self,
        target: int,
        timeout: float | None,
        callbacks: list[Callback],
        should_stop: Callable[[], bool],
    ) -> None:
        """Run trials until ``target`` finished ones, the timeout, the oracle's end, or a stop."""
        import keras_tuner

        setup, seconds = self._setup, timeout
        assert setup is not None, "open() the study before running it"
        started = time.monotonic()
        if not self.oracle.hyperparameters.space:
            self.populate_space(setup)
        number = len(self.records())
        while self.finished() < target and not should_stop():
            if seconds is not None and time.monotonic() - started > seconds:
                break
            trial = self.oracle.create_trial(_TUNER_ID)
            if trial.status == keras_tuner.engine.trial.TrialStatus.STOPPED:
                break
            record = self._run_one(setup, trial, number)
            number += 1
            self._write(record)
            view = self.view()
            frozen = view.trials[-1]
            for callback in callbacks:
                callback(view, frozen)

    def storage_full(self, exc: BaseException) -> StorageFullError | None:
        from adamtune.engine._diskfull import storage_full_error

        return storage_full_error(exc, self.project, str(self.project))

    def _end(self, trial: Any) -> None:
        """End the trial and save the oracle again: KerasTuner 1.4 saves ``oracle.json`` before it
        drops the trial from ``ongoing_trials``, so a resumed study would be handed the finished
        trial again and run it twice."""
        self.oracle.end_trial(trial)
        self.oracle.save()

    def _run_one(self, setup: TrialObjective, trial: Any, number: int) -> dict[str, Any]:
        from keras_tuner.engine.trial import TrialStatus

        values = trial.hyperparameters.values
        epochs = int(values.get("tuner/epochs", setup.epochs))
        record: dict[str, Any] = {"number": number, "kt_trial_id": trial.trial_id}
        try:
            with interruptible():  # an interrupt leaves the trial ongoing: the oracle re-issues it
                result = setup.run(
                    KerasTunerSource(trial.hyperparameters), _no_pruning, number, epochs
                )
        except Exception as exc:
            trial.status, trial.message = TrialStatus.FAILED, error_attrs(exc)[ERROR_ATTR]
            self._end(trial)
            return {
                **record,
                "state": "FAIL",
                "value": None,
                "attrs": {**error_attrs(exc), RSS_ATTR: rss_mb()},
                "intermediate": {},
                "params": _params(trial.hyperparameters.values),
            }
        attrs = {**result.record(), RSS_ATTR: rss_mb()}
        curve = result.history.get(setup.monitor, [])
        intermediate = {str(i): v for i, v in enumerate(curve) if math.isfinite(v)}
        if result.diverged or result.value is None:
            # A finite bad score: KerasTuner's Bayesian oracle turns inf into 0 and fails on NaN.
            bad = self._penalty(setup, curve)
            self.oracle.update_trial(trial.trial_id, {setup.monitor: bad}, step=0)
            state, value = "PRUNED", None
            intermediate[str(max(result.epochs_run - 1, 0))] = bad
        else:
            for epoch, v in enumerate(curve):
                if math.isfinite(v):
                    self.oracle.update_trial(trial.trial_id, {setup.monitor: v}, step=epoch)
            state, value = "COMPLETE", result.value
        trial.status = TrialStatus.COMPLETED
        self._end(trial)
        return {
            **record,
            "state": state,
            "value": value,
            "attrs": attrs,
            "intermediate": intermediate,
            "params": _params(trial.hyperparameters.values),
        }

    def _penalty(self, setup: TrialObjective, curve: list[float]) -> float:
        """Worse than every finite score seen in the study so far (and than this run's own)."""
        seen = [r["value"] for r in self.records() if r.get("value") is not None]
        seen += [v for v in curve if math.isfinite(v)]
        if setup.chance_loss is not None and setup.direction == "minimize":
            seen.append(setup.chance_loss)
        if setup.direction == "minimize":
            worst = max(seen, default=1.0)
            return worst + abs(worst) + 1.0
        worst = min(seen, default=0.0)
        return worst - abs(worst) - 1.0


def _no_pruning(value: float, epoch: int, part: float = 1.0) -> bool:
    return False


def _params(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def _frozen(record: dict[str, Any]) -> Any:
    import optuna
    from optuna.distributions import CategoricalDistribution

    params = record.get("params", {})
    return optuna.trial.create_trial(
        state=optuna.trial.TrialState[record["state"]],
        value=record["value"],
        params=params,
        distributions={k: CategoricalDistribution([v]) for k, v in params.items()},
        user_attrs=record.get("attrs", {}),
        intermediate_values={int(k): v for k, v in record.get("intermediate", {}).items()},
    )


def read_meta(folder: str | Path, name: str) -> dict[str, Any] | None:
    """The adamtune settings of study ``name`` in KerasTuner folder ``folder`` (None when it has
    none)."""
    meta_file = Path(folder) / check_study_name(name, "--study") / "adamtune.json"
    if not meta_file.is_file():
        return None
    meta = json.loads(meta_file.read_text()).get(META_KEY)
    return meta if isinstance(meta, dict) else None


def study_names_in(folder: str | Path) -> list[str]:
    """The adamtune studies in a KerasTuner folder: sub-folders holding ``adamtune.json``."""
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "adamtune.json").is_file())


def existing_kerastuner(storage: str | Path, name: str) -> KerasTunerStudy:
    """A stored KerasTuner study, to look at (see :func:`adamtune.engine.open_existing`)."""
    meta = read_meta(storage, name)
    if meta is None:
        raise NoStudy(name)
    return KerasTunerStudy(None, storage, name, meta)


class _KerasTuner:
    """The KerasTuner engine (see :class:`adamtune.engine.Engine`)."""

    name = "kerastuner"
    folder = True
    parallel = False
    prunes = False
    finite_scores = True  # KerasTuner's Bayesian oracle turns inf into 0 and fails on NaN
    repeats = False  # an oracle runs each set of values once

    def default_storage(self, storage: Any) -> Any:
        return storage or DEFAULT_KT_STORAGE

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
        if first_trials not in (None, "auto", "lr-range"):
            raise ValueError(
                "`first_trials` enqueues settings in an Optuna study; KerasTuner strategies start "
                f"from their own. Received: first_trials={first_trials!r} with strategy={strategy!r}"
            )
        if pruner is not None:
            raise ValueError(
                "`pruner` applies to Optuna strategies; KerasTuner strategies do not prune "
                "(kt-hyperband brings its own schedule). Received: pruner="
                f"{pruner!r} with strategy={strategy!r}"
            )
        check_kt_storage(storage)
        return None

    def study_pruner(
        self, asked: Any, stored: dict[str, Any] | None, name: str, epochs: int
    ) -> tuple[Any, str | None, str | None]:
        return None, None, None  # kt-hyperband brings its own schedule; the others never cut

    def lr_range_refusal(self, strategy: Any) -> str | None:
        return (
            f"strategy={strategy!r} keeps its space in a KerasTuner oracle, which adamtune "
            "does not narrow"
        )

    def check_engine_object(self, obj: Any, storage: Any, trust_storage: bool) -> None:
        return None  # an oracle keeps its state in JSON files: nothing to unpickle

    def stored_settings(
        self, storage: Any, name: str, heartbeat: int
    ) -> tuple[dict[str, Any] | None, Any]:
        return read_meta(storage or DEFAULT_KT_STORAGE, name), None  # a folder: nothing held open

    def open_study(
        self, obj: Any, storage: Any, name: str, meta: dict[str, Any], options: StudyOptions
    ) -> KerasTunerStudy:
        return KerasTunerStudy(obj, storage, name, meta, options)

    def log_file(self, storage: Any, safe_name: str) -> Path | None:
        return Path(storage or DEFAULT_KT_STORAGE) / f"{safe_name}.log"


KERASTUNER = _KerasTuner()
