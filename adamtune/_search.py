"""``adamtune.search``: validate everything, pre-flight, then hand the loop to the engine."""

from __future__ import annotations

import contextlib
import contextvars
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adamtune import _interrupt
from adamtune._errors import SearchAborted, StorageFullError
from adamtune._util import check_choice, check_positive_int, check_study_name, parse_duration
from adamtune.training._state import release as release_frozen

if TYPE_CHECKING:
    from adamtune._studylog import StudyLog

__all__ = ["RUN_KEY", "resolve_direction", "run_hooks", "search"]

# The study attribute holding the latest call's trials target and the CLI's targets.
RUN_KEY = "adamtune_run"

# Extra per-trial callbacks for searches started inside ``run_hooks`` (the CLI's worker
# recycling). A hook is called as ``hook(study, trial)``; its ``due`` attribute, when true, stops
# the search after the current trial.
_HOOKS: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar("hooks", default=())


@contextlib.contextmanager
def run_hooks(*hooks: Any) -> Iterator[None]:
    """Add ``hooks`` to every search started inside the block."""
    token = _HOOKS.set(_HOOKS.get() + hooks)
    try:
        yield
    finally:
        _HOOKS.reset(token)


def _hooks_due() -> bool:
    return any(getattr(hook, "due", False) for hook in _HOOKS.get())


_MAXIMIZE = ("accuracy", "auc", "precision", "recall", "f1", "r2")
_MINIMIZE = ("loss", "error", "mae", "mse", "rmse", "crossentropy", "hinge")


def resolve_direction(objective: str, direction: str | None) -> str:
    """``minimize`` or ``maximize`` for ``objective``; an unknown metric needs ``direction``."""
    if not isinstance(objective, str) or not objective:
        raise TypeError(
            f"`objective` must be a logged metric name such as 'val_loss'. "
            f"Received: objective={objective!r}"
        )
    if direction is not None:
        return check_choice(direction, "direction", ("minimize", "maximize"))
    name = objective.lower()
    if any(word in name for word in _MINIMIZE):
        return "minimize"
    if any(word in name for word in _MAXIMIZE):
        return "maximize"
    raise ValueError(
        f"cannot tell whether to minimize or maximize `objective`={objective!r}; "
        "pass direction='minimize' or direction='maximize'"
    )


def _default_study_name(model_fn: Callable[..., Any]) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", getattr(model_fn, "__name__", "model"))
    return f"adamtune-{name.strip('_') or 'model'}"


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


class _FailureStreak:
    """Stops the study after ``limit`` failed trials in a row, remembering their errors."""

    def __init__(self, limit: int, *, stop_study: bool = True) -> None:
        self.limit = limit
        self.stop_study = stop_study
        self.errors: list[str] = []

    def __call__(self, study: Any, trial: Any) -> None:
        from optuna.trial import TrialState

        if trial.state != TrialState.FAIL:
            self.errors.clear()
            return
        self.errors.append(
            f"trial {trial.number}: {trial.user_attrs.get('error', 'unknown error')}"
        )
        if len(self.errors) >= self.limit and self.stop_study:
            study.stop()

    @property
    def tripped(self) -> bool:
        return len(self.errors) >= self.limit

    def raise_if_tripped(self) -> None:
        if self.tripped:
            listed = "\n  ".join(self.errors)
            raise SearchAborted(
                f"{self.limit} trials failed in a row, so the search stopped:\n  {listed}\n"
                "Fix the error (model_fn, data or memory), then run the same call again to continue"
            )


def search(
    model_fn: Callable[..., Any],
    data: Any,
    *,
    space: Any = "default",
    objective: str = "val_loss",
    direction: str | None = None,
    trials: int = 20,
    timeout: float | str | None = None,
    epochs: int | None = None,
    storage: Any = None,
    study_name: str | None = None,
    seed: int | None = None,
    strategy: Any = "tpe",
    pruner: Any = None,
    loss: Any = None,
    metrics: list[str] | None = None,
    validation_split: float = 0.2,
    max_failures: int = 5,
    verbose: int = 1,
    record: dict[str, Any] | None = None,
    heartbeat: int = 30,
    lr_range: str | None = None,
    first_trials: Any = "auto",
    trust_storage: bool = False,
    class_weight: Any = None,
    steps_per_epoch: int | None = None,
) -> Any:
    """Search Adam's settings for ``model_fn`` on ``data``; return a :class:`~adamtune.Result`.

    Args:
        model_fn: returns a Keras model; takes no argument or one ``hp``. A model compiled
            inside keeps its loss and metrics; its optimizer is replaced by each trial's Adam.
        data: ``(x, y)``, ``(x, y, sample_weight)``, ``((x_train, y_train), (x_val, y_val))``
            (either part may add its sample weights as a third element) or
            :class:`adamtune.Data`. Sample weights mean what they mean to ``keras.Model.fit``:
            they weight training and, where the validation set has its own, validation. Or
            streams: ``(train_ds, val_ds)`` / ``adamtune.Data(train_ds, validation=val_ds)`` with
            ``tf.data.Dataset`` or ``keras.utils.PyDataset`` yielding ``(x, y)`` or ``(x, y,
            sample_weight)``; checks, the target and the scaler read their first 2048 samples.
            Several inputs or outputs: ``x`` a list/tuple or a dict (by input name) of arrays,
            ``y`` likewise by output; ``((a, b), (c, d))`` is read by the model's input and
            output counts when its shapes allow both readings (``adamtune.data.resolve_reading``).
        space: a shipped space name, a path to a space file, or a :class:`adamtune.Space`.
        objective: a logged metric, ``val_loss`` by default; ``direction`` is inferred for losses,
            errors and accuracies, and must be given for other names.
        trials: the study's total target of finished (complete or pruned) trials; calling again
            with a larger number continues the same study.
        timeout: stop starting trials after this long: seconds or a string like ``"8h"``.
        epochs: epochs per trial (the pruning budget); the space's ``epochs`` by default.
        storage: an Optuna storage URL or object; ``sqlite:///adamtune.db`` by default.
        study_name: defaults to ``adamtune-<model_fn name>``.
        seed: makes a single-worker study repeatable (sampler and per-trial Keras seeds); the
            validation split is always seeded with 0, so resumes and workers share it.
        strategy: how to search: a name from ``adamtune.strategies.available()`` (``tpe`` by
            default, ``random``, ``qmc``, ``cmaes``, ``grid``) or an Optuna sampler instance.
        pruner: ``hyperband`` (default), ``sha``, ``median``, ``none`` or an Optuna pruner.
        loss, metrics: override the loss and metrics inferred from ``y`` and the model's output.
        validation_split: share held out for validation when ``data`` has no validation set.
        max_failures: stop after this many crashed trials in a row.
        verbose: 0 silent, 1 progress bar (a line per trial when not on a terminal), 2 lines.
        record: extra JSON values stored with an Optuna study on every call, with the trials
            target (the CLI stores its MODEL and --data targets there, so ``adamtune worker``
            can join with only the storage URL and the study name).
        heartbeat: seconds between a running trial's signs of life in the storage. A trial whose
            worker fell silent for ``3 x heartbeat`` (a machine lost) is failed and its parameters
            queued again; a trial whose process on this machine died is failed at once.
        lr_range: ``"auto"`` runs the LR range test (:func:`adamtune.lr_range_test`) once before
            the study is created and narrows the space's learning rate to its suggestion; the
            narrowed space and the test's numbers are stored with the study (``meta["lr_range"]``)
            and reused on resume. Optuna strategies only.
        first_trials: where a new study starts. ``"auto"`` (default): its first trial is Adam's
            textbook settings put into the space (learning rate 1e-3 at batch size 32, standardized
            inputs, no regularizer, no BatchNorm), so the sampler starts from a sound incumbent;
            ``None``: the sampler's own start; or a list of dicts of settings to try first
            (``learning_rate`` at that ``batch_size``, ``regularizer``, ``regularizer_strength``,
            ``batch_norm``, ``scaling``, ``beta_1``, ``beta_2``, ``epsilon``, ``class_weight`` where
            the space searches it; a key left out takes the textbook value, no class weights).
            Optuna strategies, except ``grid``; a resumed study is not changed.
        trust_storage: allow ``cmaes``, whose sampler unpickles state read from the study, on a
            shared storage (anything but a local ``sqlite:///`` or ``journal:///`` file): only when
            everyone who can write to it may run code here. ``$ADAMTUNE_TRUST_STORAGE=1`` does
            the same.
        class_weight: as in ``keras.Model.fit``: None, ``"balanced"`` (scikit-learn's
            ``compute_class_weight("balanced", ...)`` on the training split, or on the first
            2048 samples of a stream, said once when the search starts) or a dict
            ``{class: weight}`` (a class left out weighs 1.0). It weights the training loss, not
            validation; it is exported in ``fit_kwargs()``. Not with sample weights (Keras
            refuses the pair), nor with a space that searches it (the space's ``class_weight``
            field), nor for a regression, nor with several outputs.
        steps_per_epoch: the length of an epoch of a training stream of unknown or infinite
            length (needed then; refused with arrays). A PyDataset's epoch is this many of its
            batches; a re-batched tf.data stream's is ``steps_per_epoch x 32`` samples, the
            same for every batch size.
    """
    from adamtune import engine, strategies
    from adamtune._first import first_trial_params, regression_lr_scale
    from adamtune._narrow import narrow_space
    from adamtune._studylog import StudyLog, log_path
    from adamtune._tfquiet import start_quietly
    from adamtune.data import (
        Multi,
        check_class_weight_arg,
        check_multi_options,
        check_stream_options,
        prepare_input,
        resolve_class_weight,
        resolve_reading,
    )
    from adamtune.result import Result
    from adamtune.spaces import load_space
    from adamtune.training import TrialSetup, chance_loss, model_io, preflight, takes_hp

    # 1. Every argument, before any work: nothing is stored if one is wrong.
    takes_hp(model_fn)
    check_positive_int(trials, "trials")
    seconds = parse_duration(timeout)
    check_positive_int(epochs, "epochs", allow_none=True)
    check_positive_int(max_failures, "max_failures")
    check_positive_int(heartbeat, "heartbeat")
    check_positive_int(steps_per_epoch, "steps_per_epoch", allow_none=True)
    if verbose not in (0, 1, 2):
        raise ValueError(f"`verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}")
    if study_name is not None:
        check_study_name(study_name)  # it names folders and files: nothing may escape them
    if metrics is not None and (
        isinstance(metrics, str)
        or not isinstance(metrics, list | tuple)
        or not all(isinstance(m, str) for m in metrics)
    ):
        raise TypeError(
            "`metrics` must be None or a list of metric names, such as ['accuracy']. "
            f"Received: metrics={metrics!r}"
        )
    direction = resolve_direction(objective, direction)
    if lr_range not in (None, "auto"):
        raise ValueError(
            "`lr_range` must be None or 'auto' (run the LR range test and narrow the space's "
            f"learning rate before the study starts). Received: lr_range={lr_range!r}"
        )
    the_space = load_space(space)
    n_epochs = epochs or the_space.epochs
    kind = strategies.engine_of(strategy)
    first_trial_params(first_trials, the_space)  # checked now; enqueued once the study exists
    if kind == "kerastuner" and first_trials not in (None, "auto"):
        raise ValueError(
            "`first_trials` enqueues settings in an Optuna study; KerasTuner strategies start from "
            f"their own. Received: first_trials={first_trials!r} with strategy={strategy!r}"
        )
    if kind == "kerastuner":
        if pruner is not None:
            raise ValueError(
                "`pruner` applies to Optuna strategies; KerasTuner strategies do not prune "
                "(kt-hyperband brings its own schedule). Received: pruner="
                f"{pruner!r} with strategy={strategy!r}"
            )
        engine.check_kt_storage(storage)
    else:
        the_pruner = engine.make_pruner(pruner, n_epochs)
        engine.check_storage(storage)
        strategies.check_trusted(strategy, storage, trust_storage)  # before any connection
    # The arguments hold: TensorFlow starts now, its start-up notices kept off the terminal.
    start_quietly()
    # The split's seed is fixed: every resume and every worker must see the same split.
    data, reading = resolve_reading(data, lambda: model_io(model_fn, the_space))
    prepared = prepare_input(
        data, validation_split=validation_split, seed=0, steps_per_epoch=steps_per_epoch
    )
    if isinstance(prepared, Multi):
        prepared.notes = reading
    check_stream_options(prepared, class_weight, the_space, lr_range)
    check_multi_options(prepared, class_weight, the_space, lr_range)
    class_weight = check_class_weight_arg(
        class_weight, the_space.class_weight, prepared.w_train is not None
    )
    name = study_name or _default_study_name(model_fn)

    # 2. The pre-flight: one model, one batch, in seconds. The space loses the choices that would
    # damage this model (scaling token ids, BatchNorm beside the model's own), said once.
    report = preflight(model_fn, the_space, prepared, objective, loss=loss, metrics=metrics)
    spec = report.loss
    the_space, notes, changes = _fit_to_model(the_space, report, first_trials, prepared)
    one_output = getattr(prepared, "n_outputs", 1) == 1
    weighting = (
        resolve_class_weight(
            class_weight,
            the_space.class_weight,
            prepared.target,
            prepared.y_train,
            prepared.counted_on,
        )
        if one_output
        else None
    )
    notes += [weighting.note()] if weighting else []
    for note in notes if verbose else ():
        print(f"[adamtune] note: {note}", file=sys.stderr)
    if lr_range is not None and kind == "kerastuner":
        raise ValueError(
            f"`lr_range='auto'` narrows an Optuna study's space; it is not available with "
            f"strategy={strategy!r}. Received: lr_range={lr_range!r}"
        )
    the_space, narrowed = narrow_space(
        lr_range, the_space, model_fn, data, loss, storage, name, verbose
    )
    setup = TrialSetup(
        model_fn=model_fn,
        space=the_space,
        data=prepared,
        loss=spec,
        objective=objective,
        direction=direction,
        epochs=n_epochs,
        chance_loss=(
            chance_loss(prepared.target, prepared.y_train, spec.loss, prepared.w_train)
            if one_output
            else None
        ),
        seed=seed,
        lr_params=report.lr_params,  # what a model compiled in model_fn hands to every trial
        loss_weights=report.loss_weights,
        changes=changes,
        class_weighting=weighting,
    )
    engine_object = strategies.get(
        strategy,
        strategies.StrategyContext(
            the_space, seed, n_epochs, report.user_params, setup.monitor, direction
        ),
    )
    if kind != "kerastuner":  # a third-party factory may return a pickle-reading sampler too
        strategies.check_trusted(engine_object, storage, trust_storage)
    meta = {
        "format": 1,
        "space": the_space.to_dict(),
        "objective": objective,
        "direction": direction,
        "epochs": n_epochs,
        "data": prepared.fingerprint(),
        "loss": spec.loss,
        "metrics": spec.metrics,
        "strategy": strategy if isinstance(strategy, str) else type(strategy).__name__,
        "model": f"{getattr(model_fn, '__module__', '?')}:{getattr(model_fn, '__qualname__', '?')}",
        "architecture": report.facts.architecture if report.facts else None,
        "notes": notes,
        "class_weight": weighting.to_meta() if weighting else None,
    }
    if narrowed is not None:
        meta["lr_range"] = narrowed
    if spec.outputs and report.loss_weights is not None:  # exported with the loss
        meta["loss_weights"] = report.loss_weights

    # 3. The study: created, or resumed after checking it was made with the same settings.
    log = StudyLog(log_path(storage, name, kerastuner=kind == "kerastuner"))
    try:
        for note in notes:
            log(f"note: {note}")
        if kind == "kerastuner":
            return _run_kerastuner(
                engine.KerasTunerStudy(engine_object, storage, name, meta),
                setup,
                trials,
                seconds,
                max_failures,
                verbose,
                log,
            )

        def report_damage(damage: str) -> None:
            log(damage, warning=True)
            print(f"[adamtune] warning: {damage}", file=sys.stderr)

        with _quiet_optuna():
            scale = (
                regression_lr_scale(prepared.y_train, not prepared.target.is_classification)
                if one_output
                else 1.0
            )
            first = first_trial_params(first_trials, the_space, False, scale)
            the_storage = engine.open_storage(storage, heartbeat=heartbeat, report=report_damage)
            study = engine.open_study(
                the_storage,
                name,
                meta,
                engine_object,
                the_pruner,
                on_create=lambda created: _enqueue_first(created, first),
            )
            study.set_user_attr(RUN_KEY, {**(record or {}), "trials": trials})
            _log_start(log, trials, meta)
            _reclaim(study, log)
        result = Result(study, meta)
        done = engine.finished_count(study)
        if not _target_reached(name, done, trials, verbose):
            _run(study, setup, trials, done, seconds, max_failures, verbose, log)
        log(f"search ended: {engine.finished_count(study)} finished trials")
        return result
    except KeyboardInterrupt:
        log("search interrupted (Ctrl-C or SIGTERM); the running trial was closed", warning=True)
        raise
    except Exception as exc:
        # A full disk can surface anywhere (a storage write, a trial's attributes, a streak of
        # trials failing to store): said once, with the path, whatever carried it.
        full = (
            None
            if isinstance(exc, StorageFullError)
            else _storage_full(exc, storage, name, kind == "kerastuner")
        )
        if full is not None:
            raise full from exc
        if isinstance(exc, SearchAborted):
            log(str(exc).splitlines()[0], warning=True)
        raise
    finally:
        release_frozen()  # the objects trials froze for cheaper collections (training/_state.py)
        log.close()


def _fit_to_model(
    space: Any, report: Any, first_trials: Any, prepared: Any
) -> tuple[Any, list[str], tuple[str, ...]]:
    """The space fitted to the user's model and data, the notes to say once (the pre-flight's,
    the space's and the data's: re-batching, a fixed batch size, the scaler's sample), and the
    changes to record with every trial."""
    from adamtune._first import first_trial_params
    from adamtune.training import fit_space

    fitted, fits = space, list[Any]()
    if report.facts is not None:
        fitted, fits = fit_space(space, report.facts, places_batch_norm=report.places_batch_norm)
    fitted, data_notes, data_changes = prepared.fit_space(fitted)
    if fitted != space:
        first_trial_params(first_trials, fitted)  # the user's first trials must fit it too
    notes = [*report.notes, *(f.note for f in fits), *data_notes]
    return fitted, notes, (*(f.change for f in fits), *data_changes)


def _storage_full(exc: Exception, storage: Any, name: str, kerastuner: bool) -> Any:
    """A :class:`~adamtune.StorageFullError` naming the storage's path when ``exc`` is a full
    disk, else None."""
    from adamtune.engine import DEFAULT_KT_STORAGE, DEFAULT_STORAGE, local_file, mask_url
    from adamtune.engine._diskfull import storage_full_error

    if kerastuner:
        where: Path | None = Path(storage or DEFAULT_KT_STORAGE) / name
        what = str(where)
    elif storage is None or isinstance(storage, str):
        where, what = local_file(storage), mask_url(storage or DEFAULT_STORAGE)
    else:
        where, what = None, type(storage).__name__
    return storage_full_error(exc, where, what)


def _enqueue_first(study: Any, params: list[dict[str, Any]]) -> None:
    """A new study's first trials (a grid enumerates its own points: left alone).

    Called by the one process that created the study (see ``open_study``'s ``on_create``), so
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


def _log_start(log: StudyLog, trials: int, meta: dict[str, Any]) -> None:
    log(f"search started: target {trials} finished trials, strategy {meta['strategy']}")


def _reclaim(study: Any, log: StudyLog) -> None:
    """Fail (and queue again) the trials of workers that died, before counting what is done."""
    import optuna
    from optuna.trial import TrialState

    running = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if trial.number in running:
            log(f"trial {trial.number} failed: {trial.user_attrs.get('error')}", warning=True)


def _target_reached(name: str, done: int, trials: int, verbose: int) -> bool:
    if done < trials:
        return False
    if verbose:
        print(
            f"[adamtune] study {name!r} already has {done} finished trials "
            f"(target {trials}); nothing to run",
            file=sys.stderr,
        )
    return True


def _run_kerastuner(
    study: Any,
    setup: Any,
    target: int,
    seconds: float | None,
    max_failures: int,
    verbose: int,
    log: StudyLog,
) -> Any:
    from adamtune._progress import Progress
    from adamtune.result import Result

    study.open(setup.monitor)
    _log_start(log, target, study.meta)
    done = study.finished()
    if not _target_reached(study.name, done, target, verbose):
        streak = _FailureStreak(max_failures, stop_study=False)  # the loop asks it instead
        progress = Progress(target=target, done=done, objective=setup.objective, verbose=verbose)
        try:
            with _interrupt.protected():
                study.run(
                    setup,
                    target,
                    seconds,
                    [streak, progress, log.trial, *_HOOKS.get(), _interrupt.check],
                    lambda: streak.tripped or _hooks_due(),
                )
        finally:
            progress.close()
        streak.raise_if_tripped()
    result = Result(study.view(), study.meta)
    result.oracle = study.oracle
    return result


def _run(
    study: Any,
    setup: Any,
    target: int,
    done: int,
    seconds: float | None,
    max_failures: int,
    verbose: int,
    log: StudyLog,
) -> None:
    from optuna.study import MaxTrialsCallback

    from adamtune import engine
    from adamtune._progress import Progress

    streak = _FailureStreak(max_failures)
    progress = Progress(target=target, done=done, objective=setup.objective, verbose=verbose)
    objective = engine.make_objective(setup)
    try:
        with _quiet_optuna(), _interrupt.protected():
            study.optimize(
                objective,
                timeout=seconds,
                catch=(Exception,),
                callbacks=[
                    objective.stop_if_full,  # first: a full disk ends the search, said as such
                    MaxTrialsCallback(target, states=engine.FINISHED),
                    streak,
                    progress,
                    log.trial,
                    *_HOOKS.get(),
                    _interrupt.check,  # an interrupt deferred while the trial was stored
                ],
            )
    finally:
        progress.close()
    if objective.full:  # search() turns it into StorageFullError naming the storage
        raise objective.full[0]
    streak.raise_if_tripped()
