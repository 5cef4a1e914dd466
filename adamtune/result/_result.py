"""``Result``: the study after a search, its best config and a table of its trials."""

from __future__ import annotations

import dataclasses
import math
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adamtune._record import TrialRecord
from adamtune.params import AdamParams
from adamtune.result._config import TunedConfig
from adamtune.result._epochs import ExportedEpochs, exported_epochs
from adamtune.result._losses import copy_metrics
from adamtune.result._text import adam_words, bare, cut, number, user_words, wrapped

if TYPE_CHECKING:
    from adamtune.engine import Judged

__all__ = ["Result", "best_epoch", "config_from_trial", "export_epochs"]

_FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def best_epoch(attrs: Mapping[str, Any]) -> int | None:
    """The epoch at which a trial's objective was best, 1-based (1 is the first epoch, as Keras
    prints "Epoch 1/10"), from the trial's stored attributes; None when it has none (a trial
    that crashed, or stopped before its first epoch ended).

    Studies store the attribute ``best_epoch`` 0-based, the index Keras passes to
    ``on_epoch_end``: every study written so far holds it that way, and new ones keep it, so old
    and new studies read alike. This function is the one place it is turned 1-based: everything
    shown to a user (``Result.trials``, ``Result.summary()``, the exported ``epochs``, reports)
    reads it through here (:attr:`TrialRecord.best_epoch_1based`).
    """
    return TrialRecord.from_attrs(attrs).best_epoch_1based


def config_from_trial(trial: Any, meta: dict[str, Any], study_name: str | None) -> TunedConfig:
    """The TunedConfig of a finished trial (an Optuna ``FrozenTrial``) under a study's ``meta``.

    Reads only what the study stored, so it needs no TensorFlow, except for a trial stored before
    adamtune kept its serialized optimizer: that one is serialized again with Keras. The stored
    optimizer must agree with the trial's Adam choices, as ``load_config`` checks a file's.
    """
    from adamtune.result._validate import _check_optimizer_matches

    record = TrialRecord.from_attrs(trial.user_attrs)
    if record.adam is None:
        raise KeyError(f"study {study_name!r}, trial {trial.number} stored no 'adam' attribute")
    adam = AdamParams(**record.adam)
    optimizer = record.optimizer
    if optimizer is None:
        from adamtune.training import optimizer_config

        optimizer = optimizer_config(adam)
    _check_optimizer_matches(f"study {study_name!r}, trial {trial.number}", optimizer, adam)
    return TunedConfig(
        adam=adam,
        epochs=export_epochs(record, meta).epochs,
        optimizer=optimizer,
        loss=meta["loss"],
        metrics=copy_metrics(meta["metrics"]),
        loss_weights=meta.get("loss_weights"),
        user_params=dict(record.user_params or {}),
        objective=meta["objective"],
        value=None if trial.value is None else float(trial.value),
        study_name=study_name,
        trial_number=trial.number,
        changes=list(record.changes or ()),
        class_weight=_class_weight(adam, meta),
    )


def export_epochs(record: TrialRecord, meta: Mapping[str, Any]) -> ExportedEpochs:
    """The epochs a trial's config exports (:func:`exported_epochs` on its objective's curve): its
    best epoch, or a later one its curve does not tell apart from it. A trial that stored no best
    epoch exports the study's epochs; one whose curve is missing (a study written before curves
    were kept), its best epoch."""
    from adamtune.training import monitored_key

    best = record.best_epoch_1based
    if best is None:
        epochs = int(meta["epochs"])
        return ExportedEpochs(epochs=epochs, best=epochs, noise=0.0)
    curves = record.curves or {}
    objective = str(meta.get("objective", ""))
    curve = curves.get(monitored_key(objective), curves.get(objective))
    if not isinstance(curve, list) or best > len(curve):
        return ExportedEpochs(epochs=best, best=best, noise=0.0)
    return exported_epochs(curve, best, minimize=meta.get("direction") != "maximize")


def _class_weight(adam: AdamParams, meta: dict[str, Any]) -> dict[int, float] | None:
    """The numbers of the trial's class weighting, stored with the study (None for "none")."""
    from adamtune.data import class_weight_from_pairs

    stored = meta.get("class_weight")
    if adam.class_weight == "none" or not stored:
        return None
    return class_weight_from_pairs(stored["weights"])


def _outcome(trial: Any) -> str:
    outcome = TrialRecord.from_attrs(trial.user_attrs).outcome
    if outcome is not None:
        return outcome
    return "crashed-error" if trial.state.name == "FAIL" else "ok"


def _check_top(top: Any) -> int:
    if isinstance(top, bool) or not isinstance(top, int):
        raise TypeError(
            f"`top` must be a positive int, the number of trials to show. Received: "
            f"top={bare(top, 40)} of type {type(top).__name__}; pass e.g. top=10"
        )
    if top < 1:
        raise ValueError(
            f"`top` must be a positive int, the number of trials to show. Received: top={top}; "
            "pass e.g. top=10"
        )
    return top


class Result:
    """What :func:`adamtune.search` returns.

    ``best`` is the best trial's :class:`TunedConfig`; ``study`` the Optuna study; ``trials`` a
    pandas table with one row per trial; ``outcomes`` the count of each outcome;
    ``summary()`` the top trials as a plain-text table. ``print(result)`` shows the study in a
    few lines. Reading a study needs no TensorFlow.
    """

    def __init__(self, study: Any, meta: dict[str, Any], *, oracle: Any = None) -> None:
        self.study = study
        self.meta = meta
        self.oracle = oracle  # the KerasTuner oracle, for KerasTuner strategies

    @property
    def best(self) -> TunedConfig:
        judged = self.judged
        if judged is None:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.outcomes.items())) or "none"
            raise ValueError(
                f"study {self.study.study_name!r} has no completed trial yet (outcomes: {counts}); "
                "see Result.trials for the reasons, widen the space or run more trials"
            )
        config = config_from_trial(judged.trial, self.meta, self.study.study_name)
        if judged.repeated:  # the value it was chosen by: the mean of its runs
            config = dataclasses.replace(config, value=judged.value)
        return config

    @property
    def judged(self) -> Judged | None:
        """How the best config was chosen: its ``trial``, its ``value`` and every run of it
        (``runs``: number and value). Without repeats (``search(confirm=0)``) the single best
        trial; with them, the mean over a config's runs (see :func:`adamtune.search`'s
        ``confirm``). None without a completed trial."""
        from adamtune.engine import best_of

        return best_of(self.study, self.meta.get("direction") == "maximize")

    @property
    def outcomes(self) -> Counter[str]:
        """How many finished trials ended each way: ok, pruned, diverged-nan, diverged-blowup,
        collapsed-to-chance, too-slow, overfit, crashed-oom, crashed-error."""
        return Counter(_outcome(t) for t in self._finished())

    def _finished(self) -> list[Any]:
        from adamtune.engine import trials_in

        return trials_in(self.study, *_FINISHED)

    @property
    def trials(self) -> Any:
        """A pandas DataFrame, one row per trial, with its state, outcome, reason and parameters.

        ``best_epoch`` is 1-based (see :func:`best_epoch`), ``epochs_run`` the epochs trained;
        ``repeat_of``, for a second run of a new best (``search(confirm=N)``), the trial it repeats.
        """
        import pandas as pd

        from adamtune.engine import repeat_of

        rows = []
        for t in self.study.get_trials(deepcopy=False):
            record = TrialRecord.from_attrs(t.user_attrs)
            rows.append(
                {
                    "number": t.number,
                    "state": t.state.name,
                    "value": t.value,
                    "outcome": record.outcome,
                    "reason": record.reason_or_error,
                    **(record.adam or {}),
                    **(record.user_params or {}),
                    "changes": "; ".join(record.changes or ()),
                    "best_epoch": record.best_epoch_1based,
                    "epochs_run": record.epochs_run,
                    "seconds": record.seconds,
                    "repeat_of": repeat_of(t),
                }
            )
        return pd.DataFrame(rows)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the best config to ``path`` (.json, .yaml or .py)."""
        return self.best.export(path)

    # -- printing ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        """The study in a few lines: objective, best trial and its parameters, outcomes."""
        objective = bare(self.meta.get("objective", "?"), 40)
        lines = [
            cut(
                f"Result of study {bare(self.study.study_name, 50)!r}: {objective} "
                f"({bare(self.meta.get('direction', '?'), 10)})"
            )
        ]
        judged = self.judged
        if judged is None:
            lines.append("  best: none yet (no completed trial)")
        else:
            lines.extend(self._best_lines(judged, objective))
        lines.append(cut(f"  trials: {self._counts()}"))
        lines.append("  .summary(): the top trials; .best: the tuned config; .export(path)")
        return "\n".join(lines)

    __str__ = __repr__

    def _best_lines(self, judged: Judged, objective: str) -> list[str]:
        best = judged.trial
        record = TrialRecord.from_attrs(best.user_attrs)
        adam = record.adam or {}
        epoch = record.best_epoch_1based
        run = "?" if record.epochs_run is None else record.epochs_run
        at = "" if epoch is None else f", epoch {epoch} of {run}"
        if judged.repeated:
            runs = ", ".join(f"trial {n}: {number(v)}" for n, v in judged.runs)
            text = f"{objective}={number(judged.value)}, the mean of {runs} (exported: trial "
            lines = wrapped("  best: ", f"{text}{best.number}{at})", max_lines=3)
        else:
            lines = [f"  best: {objective}={number(best.value)} at trial {best.number}{at}"]
        exported = export_epochs(record, self.meta)
        if epoch is not None and exported.epochs != epoch:
            lines.extend(
                wrapped("  exports: ", f"epochs={exported.epochs} ({exported.why})", max_lines=2)
            )
        key = [
            f"learning_rate={number(adam.get('learning_rate'))}",
            f"batch_size={bare(adam.get('batch_size'), 12)}",
            *adam_words(adam),
        ]
        lines.extend(wrapped("  params: ", ", ".join(key), max_lines=2))
        own = user_words(record.user_params or {})
        if own:
            lines.extend(wrapped("  model_fn's own: ", ", ".join(own), max_lines=2))
        return lines

    def _counts(self) -> str:
        finished = self.outcomes
        total = sum(finished.values())
        parts = ", ".join(f"{name} {n}" for name, n in finished.most_common())
        running = sum(t.state.name == "RUNNING" for t in self.study.get_trials(deepcopy=False))
        text = f"{total} finished ({parts})" if total else "none finished yet"
        return f"{text}, {running} running" if running else text

    def summary(self, top: int = 10) -> str:
        """The ``top`` finished trials by the objective as a plain-text table, best first, as
        ``print(result.summary())`` shows them (KerasTuner's ``results_summary()``, as text).

        Columns: the trial number, its objective value, outcome, learning rate, batch size, the
        1-based epoch of its best value (see :func:`best_epoch`), and its other parameters
        (regularizer, BatchNorm, scaling, non-default betas/epsilon, the model_fn's own). Trials
        without a value (crashed ones) come last. Each line is cut to under 100 characters.
        """
        top = _check_top(top)
        ranked = self._ranked()
        objective = bare(self.meta.get("objective", "?"), 40)
        direction = bare(self.meta.get("direction", "?"), 10)
        if not ranked:
            return f"study {bare(self.study.study_name, 50)!r}: no finished trial yet"
        head = (
            f"Top {min(top, len(ranked))} of {len(ranked)} finished trials by {objective} "
            f"({direction}), study {bare(self.study.study_name, 40)!r}"
        )
        return "\n".join([cut(head), *_table([_row(t) for t in ranked[:top]])])

    def _ranked(self) -> list[Any]:
        """Finished trials, best value first; trials without a finite value last, by number."""
        sign = -1.0 if self.meta.get("direction") == "maximize" else 1.0

        def key(t: Any) -> tuple[int, float, int]:
            value = t.value
            if not isinstance(value, int | float) or not math.isfinite(value):
                return (1, 0.0, t.number)
            return (0, sign * value, t.number)

        return sorted(self._finished(), key=key)

    def report(self, path: str | os.PathLike[str], *, storage: str | None = None) -> Path:
        """Write the study's self-contained HTML report (see ``adamtune report``)."""
        from adamtune.report import write_report

        return write_report(self, path, storage=storage)


_COLUMNS = ("trial", "value", "outcome", "learning_rate", "batch_size", "best_epoch", "other")


def _row(trial: Any) -> tuple[str, ...]:
    from adamtune.engine import repeat_of

    record = TrialRecord.from_attrs(trial.user_attrs)
    adam = record.adam or {}
    epoch = record.best_epoch_1based
    original = repeat_of(trial)
    again = [] if original is None else [f"repeat of trial {original}"]
    other = [*again, *adam_words(adam), *user_words(record.user_params or {})]
    return (
        str(trial.number),
        "-" if trial.value is None else number(trial.value),
        bare(_outcome(trial), 20),
        number(adam["learning_rate"]) if "learning_rate" in adam else "-",
        bare(adam.get("batch_size", "-"), 10),
        "-" if epoch is None else str(epoch),
        ", ".join(other) or "-",
    )


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows`` under :data:`_COLUMNS`, aligned; the last column wraps in the room left."""
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(_COLUMNS[:-1])]
    right = (0, 1, 3, 4, 5)  # numbers align right

    def line(cells: tuple[str, ...]) -> list[str]:
        left = "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells[:-1], widths, strict=True))
        )
        # cells hold no line breaks: bare(), number() and show() give none
        return wrapped(f"{left}  ", cells[-1], max_lines=3)

    return [out for cells in (_COLUMNS, *rows) for out in line(cells)]
