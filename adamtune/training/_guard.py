"""``DivergenceGuard``: stop a Keras ``fit`` within a few batches once training has failed."""

from __future__ import annotations

import math
from typing import Any

import keras

__all__ = ["DivergenceGuard"]


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training on NaN/Inf loss, on a loss blown far above its start, or at chance level.

    Works in any ``model.fit``::

        guard = adamtune.DivergenceGuard(chance_loss=math.log(10))
        model.fit(x, y, callbacks=[guard])
        if guard.reason: print(guard.reason, guard.outcome)

    Args:
        blowup_factor: stop when the running training loss exceeds this many times the loss of the
            first batch (after ``min_batches``).
        min_batches: batches to wait before the blow-up check (the NaN check never waits).
        chance_loss: loss of a model that predicts a constant (``ln K`` for K balanced classes).
            When given, stop if an epoch ends at or above ``chance_loss * (1 - chance_tolerance)``
            and improved on the epoch before by less than ``min_improvement`` (relative), once
            ``warmup_epochs`` epochs and ``warmup_batches`` batches have run. A slow run whose loss
            still falls is left to the pruner; a flat one at chance level has collapsed.
        chance_tolerance: relative margin below ``chance_loss`` that still counts as chance.
        warmup_epochs: epochs before the chance-level check starts.
        warmup_batches: batches before the chance-level check starts.
        min_improvement: relative fall in epoch loss below which a run at chance counts as flat.
        monitor: the logged loss the chance check reads at epoch end. Keras's ``loss`` includes
            the L1/L2 penalty, which can sit above chance while the model learns; adamtune's
            searches pass the unpenalized ``"data_loss"`` metric they compile in. A monitor missing
            from the epoch's logs is an error, not a silent fallback.

    The guard reads the logged losses only. A NaN in the inputs is seen only if it reaches the
    loss, which no CPU promises: TensorFlow's oneDNN on some Xeons fuses ``Dense(activation="relu")``
    into a kernel that maps NaN to a finite number. Check the data for NaN/Inf before training
    (``adamtune.search`` and ``adamtune.diagnose`` do); a NaN in the labels of a regression, or a
    loss that computes one, is caught at its batch.

    After ``fit``, ``outcome`` is ``None`` (no problem), ``"diverged-nan"``, ``"diverged-blowup"`` or
    ``"collapsed-to-chance"``; ``reason`` says why in words, with the numbers; ``stopped_epoch`` and
    ``stopped_batch`` say when.
    """

    def __init__(
        self,
        blowup_factor: float = 10.0,
        min_batches: int = 3,
        chance_loss: float | None = None,
        chance_tolerance: float = 0.02,
        warmup_epochs: int = 2,
        warmup_batches: int = 30,
        min_improvement: float = 0.01,
        monitor: str = "loss",
    ) -> None:
        super().__init__()
        if not blowup_factor > 1:
            raise ValueError(
                f"`blowup_factor` must be > 1. Received: blowup_factor={blowup_factor}"
            )
        if min_batches < 1:
            raise ValueError(f"`min_batches` must be >= 1. Received: min_batches={min_batches}")
        if chance_loss is not None and not chance_loss > 0:
            raise ValueError(f"`chance_loss` must be > 0. Received: chance_loss={chance_loss}")
        if not 0 <= chance_tolerance < 1:
            raise ValueError(
                f"`chance_tolerance` must be in [0, 1). Received: chance_tolerance={chance_tolerance}"
            )
        if warmup_epochs < 1:
            raise ValueError(
                f"`warmup_epochs` must be >= 1. Received: warmup_epochs={warmup_epochs}"
            )
        if warmup_batches < 0:
            raise ValueError(
                f"`warmup_batches` must be >= 0. Received: warmup_batches={warmup_batches}"
            )
        if not 0 <= min_improvement < 1:
            raise ValueError(
                f"`min_improvement` must be in [0, 1). Received: min_improvement={min_improvement}"
            )
        self.blowup_factor = blowup_factor
        self.min_batches = min_batches
        self.chance_loss = chance_loss
        self.chance_tolerance = chance_tolerance
        self.warmup_epochs = warmup_epochs
        self.warmup_batches = warmup_batches
        self.min_improvement = min_improvement
        self.monitor = monitor
        self._reset()

    def _reset(self) -> None:
        self.outcome: str | None = None
        self.reason: str | None = None
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None
        self.first_loss: float | None = None
        self.last_loss: float | None = None
        self._epoch = 0
        self._batches = 0
        self._previous_epoch_loss: float | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.outcome is not None or not logs or "loss" not in logs:
            return
        loss = float(logs["loss"])
        self._batches += 1
        self.last_loss = loss
        if not math.isfinite(loss):
            self._stop(
                "diverged-nan",
                f"loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}",
                batch,
            )
            return
        if not self.first_loss:  # None, or 0.0: a first batch whose samples all weigh 0
            self.first_loss = loss
            return
        limit = self.blowup_factor * max(self.first_loss, 1e-12)
        if self._batches > self.min_batches and loss > limit:
            self._stop(
                "diverged-blowup",
                f"loss rose from {self.first_loss:.3g} to {loss:.3g} (over {self.blowup_factor:g}x "
                f"its start) in {self._batches} batches",
                batch,
            )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.outcome is not None or not logs:
            return
        for key in ("loss", "val_loss"):
            if key in logs and not math.isfinite(float(logs[key])):
                self._stop("diverged-nan", f"{key} became {float(logs[key])} at epoch {epoch + 1}")
                return
        if self.chance_loss is None:
            return
        if self.monitor not in logs:
            raise KeyError(
                f"DivergenceGuard: monitor {self.monitor!r} is not in the epoch's logs "
                f"{sorted(logs)}; pass monitor= one of those, or compile the metric in"
            )
        loss, previous = float(logs[self.monitor]), self._previous_epoch_loss
        self._previous_epoch_loss = loss
        if epoch + 1 < self.warmup_epochs or self._batches < self.warmup_batches:
            return
        at_chance = loss >= self.chance_loss * (1 - self.chance_tolerance)
        flat = previous is not None and loss > previous * (1 - self.min_improvement)
        if at_chance and flat:
            self._stop(
                "collapsed-to-chance",
                f"{self.monitor} {loss:.4g} after {epoch + 1} epochs is flat at or above chance level "
                f"{self.chance_loss:.4g} (a constant prediction)",
            )

    def _stop(self, outcome: str, reason: str, batch: int | None = None) -> None:
        self.outcome = outcome
        self.reason = reason
        self.stopped_epoch = self._epoch
        self.stopped_batch = batch
        if self.model is not None:
            self.model.stop_training = True

    def get_config(self) -> dict[str, Any]:
        return {
            "blowup_factor": self.blowup_factor,
            "min_batches": self.min_batches,
            "chance_loss": self.chance_loss,
            "chance_tolerance": self.chance_tolerance,
            "warmup_epochs": self.warmup_epochs,
            "warmup_batches": self.warmup_batches,
            "min_improvement": self.min_improvement,
            "monitor": self.monitor,
        }
