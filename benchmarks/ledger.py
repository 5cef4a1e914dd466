"""Counting what a tool trains, the same way for every tool.

:func:`install` wraps ``keras.Model.fit`` and ``keras.Model.train_on_batch`` once per process.
Every fit then adds a callback that counts the training examples processed (the budget unit), notes
the best validation score the fit reached and whether it diverged, and raises :class:`BudgetSpent`
once the budget is used up. A run of ``train_on_batch`` calls (adamtune's learning-rate range test
trains that way) is counted as one more fit of ``kind="batches"``, with no validation score. The
tools are not changed: KerasTuner, Optuna scripts and adamtune all train through these two.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BudgetSpent", "Fit", "Ledger", "install", "ledger"]


class BudgetSpent(BaseException):
    """The run's budget is used up; raised from inside ``fit`` to stop the tool."""


@dataclass
class Fit:
    """One call of ``fit``: a trial, a probe or a retraining."""

    start: float  # seconds since the ledger opened
    end: float = 0.0
    examples: float = 0
    batches: int = 0
    batch_size: int = 0
    score: float | None = None  # the best validation score of this fit (higher is better)
    diverged: bool = False
    kind: str = "fit"  # "fit", or "batches": consecutive ``train_on_batch`` calls


@dataclass
class Ledger:
    """Every fit of one tool run, against a budget of ``limit`` training examples."""

    limit: float = math.inf
    score_of: Any = None  # logs -> higher-is-better score, or None
    n_train: int = 0  # the training split's size, for fits fed by a dataset
    fits: list[Fit] = field(default_factory=list)
    opened: float = field(default_factory=time.perf_counter)
    examples: float = 0  # over all fits; kept as a running total (read after every batch)
    batches_of: int = 0  # id() of the model the last ``train_on_batch`` run trained

    def now(self) -> float:
        return time.perf_counter() - self.opened


_current: list[Ledger | None] = [None]


def ledger() -> Ledger | None:
    return _current[0]


def open_ledger(limit: float, score_of: Any, n_train: int = 0) -> Ledger:
    book = Ledger(limit=limit, score_of=score_of, n_train=n_train)
    _current[0] = book
    return book


def close_ledger() -> None:
    _current[0] = None


# What counts as diverged, observed the same way in every tool's fits (no tool's own verdict is
# read: adamtune's guard also stops crawls and collapses, which a peer's run would not be charged
# for): a loss that is not finite, a batch loss over 10x the fit's first (the guard's own blow-up
# rule, after 3 batches), or an epoch's loss over 3x the first epoch's.
_BATCH_BLOWUP, _BATCH_WAIT, _EPOCH_BLOWUP = 10.0, 3, 3.0


def _counter(book: Ledger, n: int, batch_size: float) -> Any:
    import keras

    class Counter(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.fit = Fit(start=book.now(), batch_size=round(batch_size))
            self.in_epoch: float = 0
            self.losses: list[float] = []
            self.first_batch_loss: float | None = None
            book.fits.append(self.fit)

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.in_epoch = 0

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            size = min(batch_size, n - self.in_epoch) if n else batch_size
            size = max(size, 0)
            self.in_epoch += size
            self.fit.examples += size
            book.examples += size
            self.fit.batches += 1
            self.fit.end = book.now()
            loss = (logs or {}).get("loss")
            if loss is not None:
                self._check_batch(float(loss))
            if book.examples >= book.limit:
                raise BudgetSpent()

        def _check_batch(self, loss: float) -> None:
            if not math.isfinite(loss):
                self.fit.diverged = True
            elif self.first_batch_loss is None:
                self.first_batch_loss = loss
            elif self.fit.batches > _BATCH_WAIT and loss > _BATCH_BLOWUP * max(
                self.first_batch_loss, 1e-12
            ):
                self.fit.diverged = True

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            loss = logs.get("loss")
            if loss is not None:
                self.losses.append(float(loss))
                # Blew up: not finite, or well above where it started.
                first = self.losses[0]
                if not math.isfinite(self.losses[-1]) or self.losses[-1] > _EPOCH_BLOWUP * first:
                    self.fit.diverged = True
            if book.score_of is not None:
                score = book.score_of(logs)
                finite = score is not None and math.isfinite(score)
                if finite and (self.fit.score is None or score > self.fit.score):
                    self.fit.score = score

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            self.fit.end = book.now()

    return Counter()


def _length(x: Any) -> int:
    try:
        return len(x)
    except TypeError:
        return 0


def _count_batch(book: Ledger, model: Any, x: Any) -> None:
    """One ``train_on_batch`` call: its examples go to the current run of such calls on ``model``
    (a new ``kind="batches"`` fit when the last one was not on this model)."""
    last = book.fits[-1] if book.fits else None
    if last is None or last.kind != "batches" or book.batches_of != id(model):
        last = Fit(start=book.now(), kind="batches")
        book.fits.append(last)
        book.batches_of = id(model)
    size = _length(x[0] if isinstance(x, list | tuple) else x)
    last.examples += size
    last.batches += 1
    last.batch_size = max(last.batch_size, size)
    last.end = book.now()
    book.examples += size


def _install_train_on_batch() -> None:
    import keras

    original = keras.Model.train_on_batch

    def train_on_batch(self: Any, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        out = original(self, x, *args, **kwargs)
        book = ledger()
        if book is not None:
            _count_batch(book, self, x)
            if book.examples >= book.limit:
                raise BudgetSpent()
        return out

    keras.Model.train_on_batch = train_on_batch


def install() -> None:
    """Wrap ``keras.Model.fit`` and ``train_on_batch`` (idempotent). Training outside an open
    ledger is not counted."""
    import keras

    if getattr(keras.Model.fit, "_benchmark_ledger", False):
        return
    _install_train_on_batch()
    original = keras.Model.fit

    def fit(self: Any, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> Any:
        book = ledger()
        if book is None:
            return original(self, x, y, *args, **kwargs)
        n = _length(x)
        batch_size: float = kwargs.get("batch_size") or 32
        if n and kwargs.get("validation_split"):
            n = int(n * (1 - kwargs["validation_split"]))
        if not n and kwargs.get("steps_per_epoch") and book.n_train:
            # A dataset of the training split in ``steps_per_epoch`` batches: one pass an epoch.
            n = book.n_train
            batch_size = n / kwargs["steps_per_epoch"]
        callbacks = list(kwargs.pop("callbacks", None) or [])
        counter = _counter(book, n, batch_size)
        return original(self, x, y, *args, callbacks=[*callbacks, counter], **kwargs)

    fit._benchmark_ledger = True  # type: ignore[attr-defined]
    keras.Model.fit = fit
