"""``TrialRecord``: what adamtune stores with every trial, typed, each attribute named once.

Engines store a trial's record as its user attributes (Optuna's ``trial.user_attrs``; the
KerasTuner engine's ``attrs``), written with :meth:`TrialRecord.to_attrs`; whatever reads a study
reads them back with :meth:`TrialRecord.from_attrs`. An attribute's key is its field's name. The
stored layout is the one every study so far holds, so old studies read as before: a trial that
crashed, was interrupted or was stored by an older adamtune holds only some attributes, and the
others read as None.

This module imports nothing outside the standard library, so reading a record needs neither
Optuna nor TensorFlow. It is public as ``adamtune.result.TrialRecord`` (and
``adamtune.engine.TrialRecord``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ERROR_ATTR",
    "INTERRUPTED_OUTCOME",
    "OUTCOME_ATTR",
    "RECORD_KEYS",
    "RESULT_KEYS",
    "RSS_ATTR",
    "WORKER_ATTR",
    "TrialRecord",
]

# Keys engine code sets on its own (``trial.set_user_attr(WORKER_ATTR, ...)``), outside a
# whole record's ``to_attrs()``.
OUTCOME_ATTR = "outcome"
ERROR_ATTR = "error"
RSS_ATTR = "rss_mb"
WORKER_ATTR = "worker"  # set when a trial starts: a later worker fails it if this process dies
INTERRUPTED_OUTCOME = "interrupted"  # a Ctrl-C or SIGTERM, not a crash


@dataclass(frozen=True)
class TrialRecord:
    """One trial's stored attributes, each None when the trial did not store it.

    A trial that ran to its end (whatever its outcome) stores :data:`RESULT_KEYS` and ``rss_mb``;
    a crashed one ``outcome``, ``error`` and ``rss_mb``; an interrupted one ``outcome`` and
    ``error``; and every trial an Optuna engine ran, ``worker`` from its start.

    ``best_epoch`` is 0-based, as stored (the index Keras passes to ``on_epoch_end``);
    :attr:`best_epoch_1based` is the epoch as Keras prints it ("Epoch 1/10"), as users see it.
    ``keep_none`` names the attributes :meth:`to_attrs` writes even when their value is None (as
    a JSON null), as a finished trial stores a ``reason`` of None; it takes no part in equality.
    """

    outcome: str | None = None  # ok, pruned, diverged-nan, ..., crashed-error, interrupted
    reason: str | None = None  # why the guard or a label judged the trial so
    error: str | None = None  # "ExceptionName: message" of a crash; the interruption's text
    adam: dict[str, Any] | None = None  # AdamParams.to_dict() of the trial's Adam choices
    optimizer: dict[str, Any] | None = None  # the Keras-serialized optimizer it trained with
    user_params: dict[str, Any] | None = None  # the model_fn's own hp.* choices
    changes: tuple[str, ...] | None = None  # what adamtune changed in the user's model
    best_epoch: int | None = None  # 0-based epoch of the best objective
    epochs_run: int | None = None
    seconds: float | None = None
    last: dict[str, Any] | None = None  # each logged metric's last value
    curves: dict[str, Any] | None = None  # each logged metric per epoch; non-finite as text
    rss_mb: float | None = None  # the worker's resident memory when the trial ended, MiB
    worker: dict[str, Any] | None = None  # host, pid and start time of the process running it
    keep_none: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.keep_none) - set(RECORD_KEYS))
        if unknown:
            raise ValueError(
                f"`keep_none` must name attributes of a TrialRecord ({', '.join(RECORD_KEYS)}). "
                f"Received: keep_none={sorted(self.keep_none)}, where {unknown} are not"
            )

    @property
    def best_epoch_1based(self) -> int | None:
        """The epoch of the best objective, 1-based (1 is Keras's "Epoch 1/N"); None when the trial
        stored none (it crashed, or stopped before its first epoch ended)."""
        if self.best_epoch is None or self.best_epoch < 0:
            return None
        return self.best_epoch + 1

    @property
    def reason_or_error(self) -> str | None:
        """What explains the outcome: the reason, else the error text; None when neither."""
        return self.reason or self.error

    @property
    def interrupted(self) -> bool:
        """A Ctrl-C or SIGTERM stopped the trial: not a crash."""
        return self.outcome == INTERRUPTED_OUTCOME

    def to_attrs(self) -> dict[str, Any]:
        """The attributes to store: every field that is not None, and those in ``keep_none``."""
        attrs: dict[str, Any] = {}
        for key in RECORD_KEYS:
            value = getattr(self, key)
            if value is not None or key in self.keep_none:
                attrs[key] = list(value) if isinstance(value, tuple) else value
        return attrs

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> TrialRecord:
        """The record a trial stored. Missing attributes read as None, and so does one of a type
        adamtune never writes; keys that are not a record's are ignored."""
        values = {key: _READ[key](attrs[key]) for key in RECORD_KEYS if key in attrs}
        return cls(**values, keep_none=frozenset(k for k, v in values.items() if v is None))


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _real(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any] | None:
    return dict(value) if isinstance(value, Mapping) else None


def _texts(value: Any) -> tuple[str, ...] | None:
    return tuple(str(item) for item in value) if isinstance(value, list | tuple) else None


RECORD_KEYS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(TrialRecord) if f.name != "keep_none"
)
# What a trial that ran to its end stores (then ``rss_mb``), each key even when its value is None.
RESULT_KEYS = frozenset(
    {
        "outcome",
        "reason",
        "adam",
        "optimizer",
        "user_params",
        "changes",
        "best_epoch",
        "epochs_run",
        "seconds",
        "last",
        "curves",
    }
)
_READ: dict[str, Callable[[Any], Any]] = {
    "outcome": _text,
    "reason": _text,
    "error": _text,
    "adam": _mapping,
    "optimizer": _mapping,
    "user_params": _mapping,
    "changes": _texts,
    "best_epoch": _whole,
    "epochs_run": _whole,
    "seconds": _real,
    "last": _mapping,
    "curves": _mapping,
    "rss_mb": _real,
    "worker": _mapping,
}
