"""The pre-flight: build the model once and train one batch before any trial is stored.

The model is built and matched to the data by :func:`~adamtune.training.check_model`
(``_check.py``), the check the doctor and the LR range test make too; the pre-flight adds the one
training batch, which a local helper of ``adamtune search --workers N`` leaves out
(:func:`batch_trained_by_parent`).

What it learns goes into :class:`PreflightReport`: the loss to train with (``search(loss=)``, else
what model_fn compiled, else what the labels and the output imply), what a model compiled in
model_fn hands over (``_compiled.py``), and facts about the user's own model read before adamtune
changes anything in it (``_model_facts.py``). Each thing adamtune took over, replaced or dropped is
one line of ``notes``, said once per search.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from adamtune._errors import PreflightError
from adamtune.data import Prepared, Streamed
from adamtune.spaces import Space
from adamtune.training._check import _build_once, check_model, first_samples
from adamtune.training._compiled import compiled_notes, find_lr_params
from adamtune.training._model_facts import ModelFacts
from adamtune.training._outputs import model_io_counts, output_loss_sum
from adamtune.training._task import LossSpec, monitored_key

__all__ = ["PreflightReport", "batch_trained_by_parent", "model_io", "preflight"]

_BATCH_TRAINED_BY_PARENT: ContextVar[bool] = ContextVar("batch_trained_by_parent", default=False)


@contextlib.contextmanager
def batch_trained_by_parent() -> Iterator[None]:
    """Within it, :func:`preflight` builds and checks the model but trains no batch.

    For a helper that ``adamtune search --workers N`` started on its own machine, only: that
    search trained the batch before it created the study, with the same MODEL and --data targets
    in the same environment, and joining the study checks the helper's data and model against the
    fingerprints it stored. The batch would be TensorFlow's first run in the helper's process,
    spent before its first trial while the other worker trains: without it the benchmark's
    helpers started 0.9-1.1 s after their parent instead of 1.9-2.3 s (benchmarks/NOTES.md
    section 22). A worker started by hand keeps the whole pre-flight.
    """
    token = _BATCH_TRAINED_BY_PARENT.set(True)
    try:
        yield
    finally:
        _BATCH_TRAINED_BY_PARENT.reset(token)


@dataclass(frozen=True)
class PreflightReport:
    """What the pre-flight learned: the loss to train with and the model_fn's own parameters.

    ``user_params`` holds the pre-flight's values of the model_fn's searched parameters;
    ``lr_params`` the float parameters that are only a compiled optimizer's learning rate (not
    searched: trials answer them with their coupled learning rate); ``loss_weights`` the compiled
    loss weight (or None); ``facts`` what the user's model is, before any change (its fingerprint,
    token inputs, its own BatchNorm); ``places_batch_norm`` whether model_fn reads
    ``hp.batch_norm``; ``notes`` one line for each thing adamtune took over or replaced, to show
    once per search.
    """

    loss: LossSpec
    user_params: dict[str, Any]
    lr_params: frozenset[str] = frozenset()
    loss_weights: Any = None
    notes: list[str] = field(default_factory=list)
    facts: ModelFacts | None = None
    places_batch_norm: bool = False


def model_io(model_fn: Callable[..., Any], space: Space) -> tuple[int, int] | None:
    """The input and output counts of model_fn's model (None when it does not declare them),
    to read an ambiguous ``data`` tuple (``adamtune.data.resolve_reading``)."""
    import keras

    try:
        return model_io_counts(_build_once(model_fn, space).raw)
    finally:
        keras.backend.clear_session()


def _train_one_batch(
    model: Any, spec: LossSpec, data: Prepared | Streamed, loss_weights: Any = None
) -> dict[str, float]:
    """Compile with Adam(1e-3) and fit one batch with validation; the last logged values."""
    import keras

    x, y = first_samples(data, 32)
    callbacks = [output_loss_sum(spec.outputs, loss_weights)] if spec.outputs else []
    try:
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=spec.build_loss(),
            loss_weights=loss_weights,
            metrics=spec.compile_metrics(),
        )
        history = model.fit(
            x,
            y,
            batch_size=32,
            epochs=1,
            verbose=0,
            validation_data=first_samples(data, 32, "val"),
            callbacks=callbacks,
        )
    except Exception as exc:
        raise PreflightError(
            f"one training batch failed ({type(exc).__name__}: {str(exc).strip()[:500]}); "
            "check that the model's input shape matches x and its output matches y"
        ) from exc
    finally:
        keras.backend.clear_session()
    return {k: float(v[-1]) for k, v in history.history.items()}


def _check_logs(logs: dict[str, float], objective: str) -> None:
    """The batch's loss is finite and ``objective`` is among what it logged."""
    if not math.isfinite(logs.get("loss", math.nan)):
        raise PreflightError(
            f"the loss of the first batch is {logs.get('loss')} at a learning rate of 1e-3; "
            "check the labels against the loss and the data for extreme values"
        )
    if monitored_key(objective) not in logs:
        shown = sorted(k for k in logs if "data_loss" not in k)
        raise ValueError(
            f"`objective` {objective!r} is not logged by this model; it logs "
            f"{', '.join(shown)}. Pick one of those, or pass `metrics=` that produce it"
        )


def preflight(
    model_fn: Callable[..., Any],
    space: Space,
    data: Prepared | Streamed,
    objective: str,
    *,
    loss: Any = None,
    metrics: list[str] | None = None,
) -> PreflightReport:
    """Build, compile and fit one batch; report the loss to use. Raise :class:`PreflightError`.

    A model compiled in model_fn gives the search its loss, loss weights and metrics, unless
    ``loss``/``metrics`` are passed (a different ``loss`` is an error); its optimizer is replaced.
    The model is built and matched to the data by :func:`~adamtune.training.check_model`.
    """
    check = check_model(model_fn, space, data, loss, metrics=metrics)
    spec, compiled = check.loss, check.compiled
    assert spec is not None  # check_model(labels=True) settles the loss
    weights = None if compiled is None else compiled.loss_weights
    if _BATCH_TRAINED_BY_PARENT.get():
        import keras

        keras.backend.clear_session()  # as after the batch
    else:
        _check_logs(_train_one_batch(check.model, spec, data, weights), objective)
    notes = list(check.notes)
    if check.hp.answered_learning_rate:
        notes.append(
            "model_fn asks for a float 'learning_rate' of its own: each trial answers it with "
            "the trial's Adam learning rate (hp.learning_rate), which adamtune searches; "
            "model_fn's range for it is not used"
        )
    lr_params: frozenset[str] = frozenset()
    if compiled is not None:
        lr_params = find_lr_params(model_fn, space, check.hp, compiled)
        notes += compiled_notes(compiled, spec, lr_params, metrics is not None)
    return PreflightReport(
        loss=spec,
        user_params={k: v for k, v in check.hp.user_params.items() if k not in lr_params},
        lr_params=lr_params,
        loss_weights=weights,
        notes=notes,
        facts=check.facts,
        places_batch_norm=check.hp.used_batch_norm,
    )
