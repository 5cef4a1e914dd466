"""``adamtune.search``: check the arguments, pre-flight, open the study, run it, return the result.

As Optuna's ``Study.optimize`` hands its loop to ``study/_optimize.py``, ``search`` hands its
study to ``engine/``: one :class:`~adamtune.engine.Study` per engine, run by
:func:`adamtune.engine.run_study`. Nothing here tells one engine from another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from adamtune._errors import SearchAborted, StorageFullError
from adamtune._search_args import default_study_name as _default_study_name
from adamtune._search_args import resolve_direction
from adamtune._tfquiet import hides_retracing
from adamtune.engine._loop import run_hooks
from adamtune.engine._optuna_study import RUN_KEY
from adamtune.training import release as release_frozen

if TYPE_CHECKING:
    from adamtune._narrow import Narrowed
    from adamtune._search_args import CheckedArgs
    from adamtune._studylog import StudyLog
    from adamtune.engine import Study
    from adamtune.result import Result
    from adamtune.spaces import Space
    from adamtune.training import PreflightReport, TrialSetup

__all__ = ["RUN_KEY", "resolve_direction", "run_hooks", "search"]


@hides_retracing  # a model a trial or probe: traced anew by design
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
    lr_range: str | None = "auto",
    first_trials: Any = "lr-range",
    trust_storage: bool = False,
    class_weight: Any = None,
    steps_per_epoch: int | None = None,
    confirm: int = 0,
) -> Result:
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
        pruner: ``asha`` (rungs after epochs 1, 3, 9; the default for a new study),
            ``asha-third`` (a rung a third into epoch 1 too, judged on a validation pass there),
            ``hyperband``, ``sha`` (Optuna's: after epochs 2, 4, 10), ``median``, ``none`` or an
            Optuna pruner. The study stores it by name; None on a resume: the pruner the study
            was made with (``hyperband`` for one made before ``asha`` was the default, which
            stored none), as ``adamtune worker`` does. A pruner given on a resume is used by that
            call, and said in a note where it is not the study's.
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
        lr_range: ``"auto"`` (default) runs the LR range test (:func:`adamtune.lr_range_test`,
            up to 100 batches) once before a new study is created and narrows the space's
            learning rate to its suggestion; the narrowed space and the test's numbers are stored
            with the study (``meta["lr_range"]``), said in a note, and kept on every resume.
            A suggestion that misses the space's range leaves the space as it is. Where the test
            cannot run or has nothing to narrow (KerasTuner strategies, a space that fixes the
            learning rate, streams, several inputs or outputs, a test whose training failed) it
            steps aside and a note says why. ``None``: no test,
            the space's range as it is. A resumed study keeps the space it was made with either
            way.
        first_trials: where a new study starts. ``"lr-range"`` (default): its first trial is
            Adam's textbook settings put into the space (batch size 32, standardized inputs, no
            regularizer, no BatchNorm) at the geometric middle of the learning rates the LR range
            test suggested, so the sampler starts from a sound incumbent (a note says the rate);
            where the test did not run or its suggestion missed the space's range, as ``"auto"``:
            the textbook settings at learning rate 1e-3;
            ``None``: the sampler's own start; or a list of dicts of settings to try first
            (``learning_rate`` at that ``batch_size``, ``regularizer``, ``regularizer_strength``,
            ``batch_norm``, ``scaling``, ``beta_1``, ``beta_2``, ``epsilon``, ``class_weight``,
            ``optimizer``, ``global_clipnorm``, ``clipnorm``, ``schedule``, ``warmup``,
            ``decay_to`` where the space searches it; a key left out takes the textbook value: no
            class weights, Adam, no clipping, a constant rate where the space allows one, a
            range's low end).
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
        confirm: how many more runs, with other seeds, each trial that beats every earlier one
            gets (0 by default). With ``confirm=1`` the study's best is the config with the best
            mean over its two runs, among those run twice, so a config that won by one lucky
            seed is not exported; a second run that diverges rules its config out. The second
            runs are trials of the study (they count toward ``trials``, the pruner never stops
            them) marked ``repeat_of`` in their attributes. Optuna strategies only.
    """
    from adamtune._first import clipped_first_rates
    from adamtune._search_args import check_arguments
    from adamtune._tfquiet import start_quietly
    from adamtune.training import preflight

    # 1. Every argument, before any work: nothing is stored if one is wrong.
    checked = check_arguments(
        model_fn, space=space, objective=objective, direction=direction, trials=trials,
        timeout=timeout, epochs=epochs, storage=storage, study_name=study_name, seed=seed,
        strategy=strategy, pruner=pruner, metrics=metrics, max_failures=max_failures,
        verbose=verbose, heartbeat=heartbeat, lr_range=lr_range, first_trials=first_trials,
        trust_storage=trust_storage, steps_per_epoch=steps_per_epoch, confirm=confirm,
    )  # fmt: skip
    # The arguments hold: TensorFlow starts now, its start-up notices kept off the terminal.
    start_quietly()
    data, prepared, class_weight = _prepare_data(
        model_fn, data, checked, validation_split, steps_per_epoch, class_weight
    )
    name = study_name or _default_study_name(model_fn)

    # 2. The pre-flight: one model, one batch, in seconds. The space loses the choices that would
    # damage this model (scaling token ids, BatchNorm beside the model's own), said once.
    report = preflight(model_fn, checked.space, prepared, objective, loss=loss, metrics=metrics)
    the_space, notes, changes = _fit_to_model(checked.space, report, first_trials, prepared)
    weighting = _class_weighting(class_weight, the_space, prepared)
    notes += [weighting.note()] if weighting else []
    stored, opened = checked.engine.stored_settings(
        checked.engine.default_storage(storage), name, heartbeat
    )  # read once, the storage kept open for the study
    narrowed = _narrowed(
        checked, lr_range, strategy, stored, name, the_space, model_fn, prepared, report
    )
    the_space = narrowed.space
    pruner_now, pruner_label, pruner_note = checked.engine.study_pruner(
        checked.pruner, stored, name, checked.epochs
    )
    notes += [n for n in (narrowed.note, pruner_note) if n]
    # the test's suggestion, where it narrowed the space, is where first_trials="lr-range" starts
    suggested = narrowed.tested and not (narrowed.record or {}).get("outside", False)
    if narrowed.tested:  # the user's own first trials, clipped to the narrowed range, are said
        notes += clipped_first_rates(first_trials, the_space)
    if suggested:
        notes += _range_start_note(first_trials, the_space)
    for note in notes if verbose else ():
        print(f"[adamtune] note: {note}", file=sys.stderr)
    setup = _trial_setup(
        model_fn, the_space, prepared, report, objective, checked, seed, changes, weighting
    )
    engine_object = _engine_object(checked, strategy, seed, report, setup, storage, trust_storage)
    meta = _meta(setup, strategy, report, notes, weighting, narrowed.record)
    if confirm:  # read by the study's loop and by `adamtune worker`; not compared on resume
        meta["confirm"] = confirm
    if pruner_label is not None:  # a new study stores it: read on resume and by `adamtune
        meta["pruner"] = pruner_label  # worker`; not compared

    # 3. The study: created, or resumed after checking it was made with the same settings.
    first = _first_trials(first_trials, the_space, prepared, suggested)
    study, log = _study(
        dataclasses.replace(checked, pruner=pruner_now),
        engine_object, storage, name, meta, (trials, record, heartbeat, first, opened),
    )  # fmt: skip
    with _closing(study, log):
        return _open_and_run(
            study, setup, trials, checked.seconds, max_failures, (verbose, notes), log
        )


def _narrowed(
    checked: CheckedArgs,
    lr_range: str | None,
    strategy: Any,
    stored: dict[str, Any] | None,
    name: str,
    space: Space,
    model_fn: Callable[..., Any],
    prepared: Any,
    report: PreflightReport,
) -> Narrowed:
    """The space narrowed by the LR range test with ``lr_range="auto"`` on a new study, as a
    resumed study (``stored``: its settings) stored it, or as it is; and what was done
    (:class:`~adamtune._narrow.Narrowed`)."""
    from adamtune._narrow import narrow_space

    refusal = checked.engine.lr_range_refusal(strategy)
    return narrow_space(lr_range, space, model_fn, prepared, report.loss, stored, name, refusal)


def _engine_object(
    checked: CheckedArgs,
    strategy: Any,
    seed: int | None,
    report: PreflightReport,
    setup: TrialSetup,
    storage: Any,
    trust_storage: bool,
) -> Any:
    """The strategy's sampler or oracle for the (fitted, narrowed) space, checked against the
    storage it will run on."""
    from adamtune import strategies

    context = strategies.StrategyContext(
        setup.space, seed, checked.epochs, report.user_params, setup.monitor, checked.direction
    )
    engine_object = strategies.get(strategy, context)
    checked.engine.check_engine_object(engine_object, storage, trust_storage)
    return engine_object


def _prepare_data(
    model_fn: Callable[..., Any],
    data: Any,
    checked: CheckedArgs,
    validation_split: float,
    steps_per_epoch: int | None,
    class_weight: Any,
) -> tuple[Any, Any, Any]:
    """The data as given (its reading resolved), prepared (split, checked), and the checked
    ``class_weight``. The split's seed is fixed: every resume and every worker sees the same."""
    from adamtune.data import (
        Multi,
        check_class_weight_arg,
        check_multi_options,
        check_stream_options,
        prepare_input,
        resolve_reading,
    )
    from adamtune.training import model_io

    space = checked.space
    data, reading = resolve_reading(data, lambda: model_io(model_fn, space))
    prepared = prepare_input(
        data, validation_split=validation_split, seed=0, steps_per_epoch=steps_per_epoch
    )
    if isinstance(prepared, Multi):
        prepared.notes = reading
    check_stream_options(prepared, class_weight, space)
    check_multi_options(prepared, class_weight, space)
    class_weight = check_class_weight_arg(
        class_weight, space.class_weight, prepared.w_train is not None
    )
    return data, prepared, class_weight


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


def _one_output(prepared: Any) -> bool:
    return bool(getattr(prepared, "n_outputs", 1) == 1)


def _class_weighting(class_weight: Any, space: Any, prepared: Any) -> Any:
    """The class weighting trials train with (None with several outputs, or none asked for)."""
    from adamtune.data import resolve_class_weight

    if not _one_output(prepared):
        return None
    return resolve_class_weight(
        class_weight, space.class_weight, prepared.target, prepared.y_train, prepared.counted_on
    )


def _trial_setup(
    model_fn: Callable[..., Any],
    space: Any,
    prepared: Any,
    report: Any,
    objective: str,
    checked: CheckedArgs,
    seed: int | None,
    changes: tuple[str, ...],
    weighting: Any,
) -> TrialSetup:
    """Everything a trial needs, the same on every engine."""
    from adamtune.training import TrialSetup, chance_loss

    spec = report.loss
    return TrialSetup(
        model_fn=model_fn,
        space=space,
        data=prepared,
        loss=spec,
        objective=objective,
        direction=checked.direction,
        epochs=checked.epochs,
        chance_loss=(
            chance_loss(prepared.target, prepared.y_train, spec.loss, prepared.w_train)
            if _one_output(prepared)
            else None
        ),
        seed=seed,
        lr_params=report.lr_params,  # what a model compiled in model_fn hands to every trial
        loss_weights=report.loss_weights,
        changes=changes,
        class_weighting=weighting,
    )


def _meta(
    setup: TrialSetup,
    strategy: Any,
    report: Any,
    notes: list[str],
    weighting: Any,
    narrowed: Any,
) -> dict[str, Any]:
    """The settings stored with the study; a resume must match them."""
    model_fn, spec = setup.model_fn, report.loss
    meta = {
        "format": 1,
        "space": setup.space.to_dict(),
        "objective": setup.objective,
        "direction": setup.direction,
        "epochs": setup.epochs,
        "data": setup.data.fingerprint(),
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
    return meta


def _first_trials(
    first_trials: Any, space: Any, prepared: Any, suggested: bool
) -> list[dict[str, Any]]:
    """A new study's first trials, the learning rate scaled to a regression's targets (or, with
    ``"lr-range"`` after the LR range test, at the middle of the range it suggested)."""
    from adamtune._first import first_trial_params, regression_lr_scale

    scale = (
        regression_lr_scale(prepared.y_train, not prepared.target.is_classification)
        if _one_output(prepared)
        else 1.0
    )
    return list(first_trial_params(first_trials, space, False, scale, suggested))


def _range_start_note(first_trials: Any, space: Any) -> list[str]:
    """What ``first_trials="lr-range"`` starts at, once the LR range test has narrowed ``space``."""
    from adamtune._first import range_middle

    if first_trials != "lr-range":
        return []
    lr = space.learning_rate
    return [
        f"first trial at learning rate {range_middle(space):.2g} (batch size "
        f"{lr.reference_batch_size}), the middle of the range the LR range test suggested "
        "(first_trials='auto' starts at the textbook rate)"
    ]


def _study(
    checked: CheckedArgs,
    engine_object: Any,
    storage: Any,
    name: str,
    meta: dict[str, Any],
    run: tuple[int, dict[str, Any] | None, int, list[dict[str, Any]], Any],
) -> tuple[Study, StudyLog]:
    """The study (not opened yet) and its log; ``run``: the trials target, the record to store,
    the heartbeat, the first trials and the storage already opened (or None)."""
    from adamtune._studylog import StudyLog, log_path
    from adamtune.engine import StudyOptions

    trials, record, heartbeat, first, opened = run
    where = checked.engine.default_storage(storage)
    log = StudyLog(log_path(where, name))
    options = StudyOptions(
        target=trials,
        log=log,
        record=record or {},
        pruner=checked.pruner,
        first=first,
        heartbeat=heartbeat,
        opened=opened,
    )
    return checked.engine.open_study(engine_object, where, name, meta, options), log


def _open_and_run(
    study: Study,
    setup: TrialSetup,
    target: int,
    seconds: float | None,
    max_failures: int,
    said: tuple[int, list[str]],
    log: StudyLog,
) -> Result:
    """Open the study, write the notes (``said``: verbosity, notes) to its log, run it to
    ``target`` finished trials, and return what it holds. Nothing is written before the study
    opens: a study the engine refuses leaves no log (nor its folder) behind."""
    from adamtune._progress import Progress
    from adamtune.engine import run_study
    from adamtune.result import Result

    verbose, notes = said
    study.open(setup)
    for note in notes:
        log(f"note: {note}")
    done = study.finished()
    if not _target_reached(study.name, done, target, verbose):
        progress = Progress(target=target, done=done, objective=setup.objective, verbose=verbose)
        try:
            run_study(study, target, seconds, max_failures, [progress, log.trial])
        finally:
            progress.close()
    log(f"search ended: {study.finished()} finished trials")
    return Result(study.view(), study.meta, oracle=study.oracle)


@contextlib.contextmanager
def _closing(study: Study, log: StudyLog) -> Iterator[None]:
    """The search's end, however it comes: an interrupt and an abort said in the log, a full
    disk said as such (it can surface anywhere: a storage write, a trial's attributes, a streak
    of trials failing to store) with the path, whatever carried it; the log closed."""
    try:
        yield
    except KeyboardInterrupt:
        log("search interrupted (Ctrl-C or SIGTERM); the running trial was closed", warning=True)
        raise
    except Exception as exc:
        full = None if isinstance(exc, StorageFullError) else study.storage_full(exc)
        if full is not None:
            raise full from exc
        if isinstance(exc, SearchAborted):
            log(str(exc).splitlines()[0], warning=True)
        raise
    finally:
        release_frozen()  # the objects trials froze for cheaper collections (training/_state.py)
        log.close()


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
