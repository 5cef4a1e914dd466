"""One trial, engine-agnostic: data + scaler -> model_fn(hp) -> compile(Adam) -> fit -> score.

The engine adapter hands in a parameter source and a pruning hook; this module never sees the
engine, and the engine never sees a Keras model.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from adamtune.data import (
    ClassWeighting,
    Multi,
    Prepared,
    Streamed,
    class_sample_weights,
    scale_split,
)
from adamtune.params import HP, AdamParams, ParamSource, needs_steps, sample_adam_params
from adamtune.spaces import Space
from adamtune.training._build import build_model, make_optimizer
from adamtune.training._feed import make_feed
from adamtune.training._midepoch import mid_epoch_marks, value_mid_epoch
from adamtune.training._outcome import label_finished, label_stopped
from adamtune.training._state import (
    build_state,
    custom_gradients,
    forget_custom_gradients,
    settle,
)
from adamtune.training._task import DATA_LOSS, LossSpec, chance_loss, monitored_key

__all__ = ["PruneHook", "TrialResult", "TrialSetup", "run_trial"]


class PruneHook(Protocol):
    """The engine's pruning hook: given the objective's value ``part`` of the way through epoch
    ``epoch`` (1.0: at its end), say whether to stop now. A hook whose pruner also judges
    inside the first epoch lists those parts as ``first_epoch_parts`` (see :func:`_parts_of`)."""

    def __call__(self, value: float, epoch: int, part: float = 1.0) -> bool: ...


def _parts_of(prune: PruneHook) -> tuple[float, ...]:
    """The parts of the first epoch at which ``prune`` wants the objective (none by default:
    only epoch ends)."""
    return tuple(getattr(prune, "first_epoch_parts", ()))


@dataclass
class TrialSetup:
    """Everything constant across the trials of one search."""

    model_fn: Callable[..., Any]
    space: Space
    data: Prepared | Streamed | Multi  # arrays, streams (through their first samples), or
    # several inputs/outputs
    loss: LossSpec
    objective: str
    direction: str
    epochs: int
    chance_loss: float | None
    seed: int | None = None
    # Float parameters of the model_fn whose only use is a compiled optimizer's learning rate (the
    # pre-flight finds them): not searched, answered with the trial's coupled learning rate.
    lr_params: frozenset[str] = frozenset()
    # The loss weight of a model_fn that compiles its model with loss_weights (else None).
    loss_weights: Any = None
    # What the search changed for every trial (a choice dropped from the space for this model),
    # recorded with each trial beside the changes its own build makes.
    changes: tuple[str, ...] = ()
    # The search's class weighting (search(class_weight=...) or the space's choice), or None.
    class_weighting: ClassWeighting | None = None
    _scaled: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _class_weights: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def fixed_class_weight(self) -> str:
        """Every trial's class weighting when the space does not search it."""
        return "none" if self.class_weighting is None else self.class_weighting.fixed_mode

    def sample_weights(self, mode: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Training and validation sample weights for class weighting ``mode``: the user's, or
        the class weights per training sample (Keras weights no class in validation). For a
        stream they weight its sample's labels (for :meth:`chance_for`); its batches get theirs
        in :meth:`feed`."""
        classes = None if self.class_weighting is None else self.class_weighting.for_mode(mode)
        if classes is None:
            return self.data.w_train, self.data.w_val
        if mode not in self._class_weights:
            self._class_weights[mode] = class_sample_weights(self.data.y_train, classes)
        return self._class_weights[mode], None

    def chance_for(self, w_train: np.ndarray | None) -> float | None:
        """The guard's chance level under the training weights: a constant prediction's
        weighted loss (``chance_loss`` when unweighted), over a stream's sample labels."""
        if w_train is None or self.chance_loss is None:
            return self.chance_loss
        return chance_loss(self.data.target, self.data.y_train, self.loss.loss, w_train)

    def feed(
        self, scaling: str, batch_size: int, w_train: np.ndarray | None, w_val: np.ndarray | None
    ) -> tuple[dict[str, Any], tuple[Any, Any]]:
        """``fit``'s data keyword arguments for a trial, and one sample ``(x, y)`` as its batches
        hold it (to build the model's state). A stream brings its own sample weights."""
        if isinstance(self.data, Streamed):
            # Weights that are not the stream's own are class weights (search refuses the two
            # together): each training batch gets them from its labels.
            classes = None
            if self.class_weighting is not None and w_train is not self.data.w_train:
                classes = self.class_weighting.weights
            return self.data.feed(batch_size, scaling, classes), self.data.first(scaling)
        if isinstance(self.data, Multi):
            return self._multi_feed(self.data, scaling, batch_size, w_train, w_val)
        x_train, x_val = self.scaled(scaling)
        feed = make_feed(
            x_train, self.data.y_train, x_val, self.data.y_val, batch_size, w_train, w_val
        )
        return feed, (x_train[:1], self.data.y_train[:1])

    def _multi_feed(
        self,
        data: Multi,
        scaling: str,
        batch_size: int,
        w_train: np.ndarray | None,
        w_val: np.ndarray | None,
    ) -> tuple[dict[str, Any], tuple[Any, Any]]:
        """:meth:`feed` for several inputs or outputs: each float input scaled on its own."""
        train, val = data.scaled(scaling)
        x_train, x_val = data.pack_x(train), data.pack_x(val)
        y_train, y_val = data.pack_y(data.outputs_train), data.pack_y(data.outputs_val)
        feed = make_feed(x_train, y_train, x_val, y_val, batch_size, w_train, w_val)
        first = data.pack_x(tuple(a[:1] for a in train)), data.head(1)[1]
        return feed, first

    def callbacks(self) -> list[Any]:
        """Callbacks that go before the guard: the outputs' loss sum for several outputs."""
        if not self.loss.outputs:
            return []
        from adamtune.training._outputs import output_loss_sum

        return [output_loss_sum(self.loss.outputs, self.loss_weights)]

    def scaled(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Train/validation inputs under scaler ``name``, fitted on the training split, cached."""
        data = self.data
        if isinstance(data, Multi):  # each input its own scaler: Multi.scaled
            raise TypeError("several inputs are scaled one by one, by Multi.scaled")
        if name not in self._scaled:
            self._scaled[name] = scale_split(name, data.x_train, data.x_val)
        return self._scaled[name]

    @property
    def monitor(self) -> str:
        """The logged key behind ``objective`` (a loss is watched without its L1/L2 penalty)."""
        return monitored_key(self.objective)

    def better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "minimize" else a > b

    @property
    def worst(self) -> float:
        return math.inf if self.direction == "minimize" else -math.inf

    # -- the objective an engine receives (adamtune.engine.TrialObjective) -----------------------
    def run(
        self, source: ParamSource, prune: PruneHook, number: int = 0, epochs: int | None = None
    ) -> TrialResult:
        """One trial with parameters from ``source`` (see :func:`run_trial`)."""
        return run_trial(self, source, prune, number, epochs)

    def probe(self, source: ParamSource, adam: AdamParams) -> None:
        """Build the model once with ``adam`` and ``source``, so that every ``hp.*`` the model_fn
        asks for is asked of ``source`` before a trial runs (KerasTuner's oracles need the whole
        space up front); the model is dropped."""
        import keras

        try:
            build_model(self.model_fn, HP(adam, source, lr_params=self.lr_params))
        finally:
            keras.backend.clear_session()


@dataclass
class TrialResult:
    """What a trial produced. ``outcome`` is ``ok``, ``pruned``, a divergence outcome, ``too-slow``
    or ``overfit`` (see ``_outcome``)."""

    hp: HP
    outcome: str
    value: float | None
    best_epoch: int | None
    epochs_run: int
    reason: str | None
    history: dict[str, list[float]]
    seconds: float
    stopped: bool = False  # by the divergence guard

    @property
    def diverged(self) -> bool:
        """Stopped by the guard: the engine prunes it and reports the worst value."""
        return self.stopped

    def record(self) -> dict[str, Any]:
        """What the engine stores with the trial (``TrialRecord.to_attrs()``, JSON-safe)."""
        from adamtune.training._records import result_attrs

        return result_attrs(self)


def _history_floats(history: Any) -> dict[str, list[float]]:
    return {k: [float(v) for v in vals] for k, vals in getattr(history, "history", {}).items()}


def _make_reporter(
    setup: TrialSetup, guard: Any, prune: PruneHook, feed: dict[str, Any], steps: int | None
) -> Any:
    import keras

    marks = mid_epoch_marks(steps, _parts_of(prune))

    class _Reporter(keras.callbacks.Callback):
        """Reports each epoch's objective to the engine, and the first epoch's at the parts its
        pruner judges there (a validation pass each); stops training when it says prune."""

        def __init__(self) -> None:
            super().__init__()
            self.pruned = False
            self.pruned_at: float | None = None  # the part of the first epoch, if cut inside it
            self.best: float | None = None
            self.best_epoch: int | None = None
            self.epochs_run = 0

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if self.epochs_run or self.pruned or batch + 1 not in marks or guard.outcome:
                return
            value = value_mid_epoch(self.model, feed, setup.monitor)
            if value is None or not math.isfinite(value):
                return  # the guard judges a non-finite run; the epoch's end is judged as ever
            part = marks[batch + 1]
            if prune(value, 0, part):
                self.pruned, self.pruned_at = True, part
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epochs_run = epoch + 1
            if guard.outcome is not None or self.pruned:
                return  # Keras validates an epoch cut short too: the pruner has judged already
            logs = logs or {}
            if setup.monitor not in logs:
                raise KeyError(
                    f"objective {setup.objective!r} ({setup.monitor!r}) is not among the logged "
                    f"values {sorted(logs)}"
                )
            value = float(logs[setup.monitor])
            if not math.isfinite(value):
                return  # the guard stops a non-finite run; do not report NaN to the engine
            if self.best is None or setup.better(value, self.best):
                self.best, self.best_epoch = value, epoch
            # The last epoch is reported and judged (its rung value is there for the trials
            # after it) but never cut: a cut then saves nothing and loses the trial's value.
            last = epoch + 1 >= self.params.get("epochs", math.inf)
            if prune(value, epoch) and not last:
                self.pruned = True
                self.model.stop_training = True

    return _Reporter()


def _compiled_model(setup: TrialSetup, hp: HP) -> Any:
    """The trial's model, built by the model_fn with ``hp`` and compiled with the trial's Adam."""
    model = build_model(setup.model_fn, hp)
    model.compile(  # a model compiled by model_fn is compiled again: its optimizer goes
        optimizer=make_optimizer(hp.adam),
        loss=setup.loss.build_loss(),
        loss_weights=setup.loss_weights,
        metrics=setup.loss.trial_metrics(),
        weighted_metrics=setup.loss.weighted_metrics(),  # data_loss, weighted as the loss is
    )
    return model


def _label(guard: Any, reporter: Any, curves: dict[str, list[float]]) -> tuple[str, str | None]:
    """The trial's outcome and its reason: stopped by the guard, pruned, or finished."""
    if guard.outcome is not None:
        return label_stopped(guard.outcome, guard.reason, curves, guard.first_loss)
    of = reporter.params.get("epochs", "?")
    if reporter.pruned_at is not None:  # asha-third: a validation pass inside the first epoch
        return "pruned", f"{reporter.pruned_at:.2g} of the way into epoch 1 of {of}"
    if reporter.pruned:  # the epoch it was cut after: with asha most cuts come after the first
        return "pruned", f"after epoch {reporter.epochs_run} of {of}"
    return label_finished(curves, guard.first_loss)


def _epoch_steps(feed: dict[str, Any]) -> int | None:
    """The batches in one epoch of a trial's feed: its ``steps_per_epoch``, else a PyDataset's
    length or a finite tf.data's cardinality; None when unknown."""
    if feed.get("steps_per_epoch") is not None:
        return int(feed["steps_per_epoch"])
    x: Any = feed.get("x")
    if hasattr(x, "cardinality"):
        n = int(x.cardinality())
        return n if n > 0 else None
    try:
        return len(x) or None  # a keras.utils.PyDataset: its batches
    except TypeError:
        return None


def with_steps(adam: AdamParams, steps_per_epoch: int | None, epochs: int) -> AdamParams:
    """``adam`` with the steps its schedule spans: every epoch the trial would run, at its batch
    size, even when a pruner stops it early (a pruned trial is judged on the schedule it was
    on). Unchanged for a constant rate; refused for a stream whose epochs have no known length."""
    if not needs_steps(adam):
        return adam
    if steps_per_epoch is None:
        raise ValueError(
            f"a {adam.schedule} schedule (warmup {adam.warmup:g}) spans the trial's steps, and "
            "this training stream's epoch has no known length. Received: a stream of unknown "
            "length and steps_per_epoch=None; give search(steps_per_epoch=N) (the CLI's "
            "--steps-per-epoch), or a space without schedule and warmup"
        )
    return dataclasses.replace(adam, decay_steps=int(steps_per_epoch) * epochs)


def run_trial(
    setup: TrialSetup,
    source: ParamSource,
    prune: PruneHook,
    number: int = 0,
    epochs: int | None = None,
) -> TrialResult:
    """Run one trial for ``epochs`` (the setup's by default). Exceptions from user code
    propagate; the engine adapter records them."""
    import keras

    from adamtune.training._guard import DivergenceGuard

    start = time.perf_counter()
    gradients = custom_gradients()
    try:
        if setup.seed is not None:
            keras.utils.set_random_seed(setup.seed + number)
        adam = sample_adam_params(setup.space, source, class_weight=setup.fixed_class_weight)
        w_train, w_val = setup.sample_weights(adam.class_weight)
        feed, first = setup.feed(adam.scaling, adam.batch_size, w_train, w_val)
        steps = _epoch_steps(feed)
        adam = with_steps(adam, steps, setup.epochs)
        hp = HP(adam, source, lr_params=setup.lr_params)
        for change in setup.changes:
            hp.record_change(change)
        model = _compiled_model(setup, hp)
        build_state(model, *first)
        guard = DivergenceGuard(chance_loss=setup.chance_for(w_train), monitor=DATA_LOSS)
        reporter = _make_reporter(setup, guard, prune, feed, steps)
        with warnings.catch_warnings():
            # A stream of unknown length ends its first epoch by running out, which Keras
            # warns about once per trial; it then knows the length (nothing is lost).
            warnings.filterwarnings("ignore", "Your input ran out of data", UserWarning)
            history = model.fit(
                **feed,
                epochs=epochs or setup.epochs,
                callbacks=[*setup.callbacks(), guard, reporter],
                verbose=0,
            )
        curves = _history_floats(history)
        outcome, reason = _label(guard, reporter, curves)
        return TrialResult(
            hp=hp,
            outcome=outcome,
            value=reporter.best,
            best_epoch=reporter.best_epoch,
            epochs_run=reporter.epochs_run,
            reason=reason,
            history=curves,
            stopped=guard.outcome is not None,
            seconds=time.perf_counter() - start,
        )
    finally:
        forget_custom_gradients(gradients)  # each holds the trial's graph (training/_state.py)
        keras.backend.clear_session()  # and a garbage collection: the model's cycles go now
        settle()
