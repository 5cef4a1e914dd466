"""Streamed data: a ``tf.data.Dataset`` or a ``keras.utils.PyDataset`` as ``data``, never read whole.

:class:`Streamed` plays the role :class:`~adamtune.data.Prepared` plays for arrays: the pre-flight,
the loss inference, the chance level and the input scaler read its *sample* (the first
:data:`SAMPLE_SIZE` samples of each stream, as ``x_train``/``y_train``/``x_val``/``y_val``), and a
trial asks it for ``fit``'s data keyword arguments (:meth:`Streamed.feed`). Nothing else of a
stream is read before training.

Class weights (``search(class_weight=...)``, or the space's ``class_weight`` choice) are looked up
per training batch from its labels, as ``keras.Model.fit`` does, and never applied to validation;
``"balanced"`` is computed from the class counts of the training sample, not of the whole stream
(a full pass over the labels would run the whole pipeline, inputs and all, once more).
:func:`stream_sample` hands the same bounded sample, as arrays, to ``adamtune.diagnose`` and
``adamtune.lr_range_test``.

Batching is read from a ``tf.data`` element spec: a dataset is batched when **every** component
(``x``, ``y`` and the sample weight, if any) has a leading dimension of ``None``. An unbatched
dataset of variable-length sequences, ``x`` of shape ``(None, f)`` with one label of shape ``()``
or ``(k,)``, is therefore read as unbatched; one whose labels vary in length too (per-step labels)
must be passed batched (``padded_batch``). A dataset batched with ``drop_remainder=True`` has a
known leading dimension and is read as unbatched: batch it without ``drop_remainder``.

``import adamtune`` stays light: TensorFlow and Keras are imported when a stream is read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adamtune.data._arrays import Target, infer_target
from adamtune.data._stream_feed import steps_for, stream_feed
from adamtune.data._stream_read import (
    _HOW,
    SAMPLE_SIZE,
    STEP_BATCH,
    VAL_BATCH,
    _check_length,
    _checked_sample,
    _read,
    _spec,
    is_stream,
    stream_kind,
    stream_parts,
)
from adamtune.data._weights import _labels

__all__ = [
    "SAMPLE_SIZE",
    "STEP_BATCH",
    "VAL_BATCH",
    "Streamed",
    "check_stream_options",
    "is_stream",
    "prepare_stream",
    "steps_for",
    "stream_kind",
    "stream_parts",
    "stream_sample",
]


@dataclass
class Streamed:
    """A training and a validation stream, checked on their first samples.

    ``x_train`` ... ``w_val`` hold that bounded sample (at most :data:`SAMPLE_SIZE` samples per
    stream; ``y`` squeezed to 1-D for one label column, as for arrays), ``target`` what its labels
    are. ``batched``: the training stream's elements are batches. ``batch_size``: a PyDataset's
    fixed batch size (None for tf.data, which is re-batched per trial).
    """

    train: Any
    val: Any
    kind: str
    val_kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    target: Target
    w_train: np.ndarray | None
    w_val: np.ndarray | None
    batched: bool
    val_batched: bool
    spec: dict[str, Any]
    cardinality: int | None
    val_cardinality: int | None
    steps_per_epoch: int | None = None
    batch_size: int | None = None
    y_first: Any = None  # one sample's labels in the stream's own shape, for building state
    # The search's class_weight argument, kept by check_stream_options for fit_space's note.
    class_weight: Any = None
    _affine: dict[str, Any] = field(default_factory=dict, repr=False)

    def fingerprint(self) -> dict[str, Any]:
        """The element spec, lengths and target kind, stored with a study (resumes compare it)."""
        out: dict[str, Any] = {
            "stream": self.kind,
            "val_stream": self.val_kind,
            **self.spec,
            "batched": self.batched,
            "cardinality": self.cardinality,
            "val_cardinality": self.val_cardinality,
            "target": self.target.kind,
            "n_classes": self.target.n_classes,
        }
        if self.steps_per_epoch is not None:
            out["steps_per_epoch"] = self.steps_per_epoch
        if self.w_train is not None:
            out["sample_weight"] = True
        if self.w_val is not None:
            out["val_sample_weight"] = True
        return out

    def fit_space(self, space: Any) -> tuple[Any, list[str], tuple[str, ...]]:
        """The space fitted to the stream, the notes to say once and the changes to record: a
        PyDataset's batch size is fixed; re-batching, the scaler's sample and the sample that
        ``class_weight='balanced'`` counts are said."""
        notes: list[str] = []
        changes: tuple[str, ...] = ()
        if self.batch_size is not None and tuple(space.batch_size) != (self.batch_size,):
            notes.append(
                f"batch size dropped from the space ({', '.join(map(str, space.batch_size))} -> "
                f"{self.batch_size}): a PyDataset's batches are its own, and every trial uses them"
            )
            changes = (f"batch size fixed by the PyDataset: {self.batch_size}",)
            space = dataclasses.replace(space, batch_size=(self.batch_size,))
        elif self.batched:
            notes.append(
                "the training dataset is batched (a leading None dimension on every component); "
                "it is unbatched and re-batched with each trial's batch size "
                f"({', '.join(map(str, space.batch_size))})"
            )
            changes = ("training dataset re-batched at the trial's batch size",)
        scaled = [s for s in space.scaling if s != "none"]
        if scaled:
            notes.append(
                f"input scaling ({', '.join(scaled)}) is fitted on the first {len(self.x_train)} "
                f"samples of the training stream (at most {SAMPLE_SIZE}), per feature (per "
                "channel, the last axis), and applied to each batch"
            )
        balanced = self._balanced_note(space)
        if balanced is not None:
            notes.append(balanced)
        if self.steps_per_epoch is not None and self.batch_size is None:
            notes.append(
                f"an epoch is steps_per_epoch x {STEP_BATCH} = {self.steps_per_epoch * STEP_BATCH} "
                "samples: a trial with batch size b runs ceil(that / b) steps"
            )
        return space, notes, changes

    def _balanced_note(self, space: Any) -> str | None:
        """What ``class_weight='balanced'`` is computed from (None when no trial uses it)."""
        searched = space.class_weight is not None and "balanced" in tuple(space.class_weight)
        balanced = isinstance(self.class_weight, str) and self.class_weight == "balanced"
        if not self.target.is_classification or not (balanced or searched):
            return None
        classes, counts = np.unique(_labels(self.y_train), return_counts=True)
        shown = ", ".join(f"{c}: {n}" for c, n in zip(classes, counts, strict=True))
        return (
            f"class_weight='balanced' is computed from the class counts of the first "
            f"{len(self.y_train)} samples of the training stream (at most {SAMPLE_SIZE}; "
            f"{{{shown}}}), not from the whole stream; pass class_weight={{class: weight}} to "
            "use counts you know"
        )

    @property
    def counted_on(self) -> str:
        """What the labels in ``y_train`` are, for the class-weight note."""
        return f"the first {len(self.y_train)} samples of the training stream"

    def affine(self, scaling: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(a, b)`` with ``scaler.transform(x) == x * a + b`` per channel, the scaler fitted on
        the training sample (None for ``"none"``); cached per scaler."""
        if scaling == "none":
            return None
        if scaling not in self._affine:
            from adamtune.data._feature_scaler import FeatureScaler

            scaler = FeatureScaler(scaling).fit(self.x_train.astype(np.float64))
            channels = self.x_train.shape[-1]
            b = scaler.transform(np.zeros((1, channels)))[0]
            a = scaler.transform(np.ones((1, channels)))[0] - b
            self._affine[scaling] = (a.astype(np.float32), b.astype(np.float32))
        return self._affine[scaling]

    def feed(
        self, batch_size: int, scaling: str, class_weight: dict[int, float] | None = None
    ) -> dict[str, Any]:
        """``fit`` keyword arguments for a trial: the streams, scaled, at ``batch_size``; with
        ``class_weight``, each training batch carries its labels' class weights."""
        return stream_feed(self, batch_size, scaling, class_weight)

    def first(self, scaling: str) -> tuple[Any, Any]:
        """One sample ``(x, y)`` as the trial's batches hold it (shapes and dtypes only)."""
        x = self.x_train[:1]
        return (x.astype(np.float32) if scaling != "none" else x), self.y_first


def prepare_stream(
    train: Any, val: Any, steps_per_epoch: int | None = None, *, sample_only: bool = False
) -> Streamed:
    """Read the first samples of ``train`` and ``val`` and check them; nothing more is read.

    ``sample_only``: only the sample is wanted (the doctor): the streams' lengths are not
    checked (an infinite stream is fine) and NaN/inf in the sample are left for the caller."""
    if stream_kind(train) == "generator":
        _read(train, "training")  # refused, with what to wrap it in
    if val is None:
        raise ValueError(
            f"`data`: a {stream_kind(train)} needs a validation set: a seeded split of a stream "
            "cannot be made without reading all of it. Received: no validation data; "
            f"{_HOW} (for example val_ds = ds.take(n), train_ds = ds.skip(n))"
        )
    kind, batched, parts, cardinality, size = _read(train, "training")
    if not sample_only:
        _check_length(cardinality, steps_per_epoch, kind)
    val_kind, val_batched, val_parts, val_cardinality, _ = _read(val, "validation")
    if val_cardinality == -1 and not sample_only:
        raise ValueError(
            f"the validation {val_kind} is infinite, so a validation pass never ends. Received: "
            "an infinite validation stream; give it an end (val_ds.take(n))"
        )
    x, y, w = _checked_sample(parts, "training", finite=not sample_only)
    x_val, y_val, w_val = _checked_sample(val_parts, "validation", finite=not sample_only)
    if x_val.shape[1:] != x.shape[1:] and all(d is not None for d in x.shape[1:]):
        raise ValueError(
            "x of the validation stream must have the sample shape of the training stream's. "
            f"Received: validation samples of shape {x_val.shape[1:]} and training samples of "
            f"shape {x.shape[1:]}; feed both through the same preprocessing"
        )
    return Streamed(
        train=train,
        val=val,
        kind=kind,
        val_kind=val_kind,
        x_train=x,
        y_train=y,
        x_val=x_val,
        y_val=y_val,
        target=infer_target(y),
        w_train=w,
        w_val=w_val,
        batched=batched,
        val_batched=val_batched,
        spec=_spec(train, kind, batched, parts),
        cardinality=cardinality,
        val_cardinality=val_cardinality,
        steps_per_epoch=steps_per_epoch,
        batch_size=size,
        y_first=parts[1][:1],
    )


def stream_sample(data: Any) -> tuple[Any, Streamed] | None:
    """For a stream form of ``data``, its bounded first samples as array data,
    ``((x, y[, w]), (x_val, y_val[, w_val]))``, and the :class:`Streamed` they came from (what
    to tell the user); None for array data. The doctor and the LR range test run on these."""
    parts = stream_parts(data)
    if parts is None:
        return None
    streamed = prepare_stream(parts[0], parts[1], sample_only=True)
    train: tuple[np.ndarray, ...] = (streamed.x_train, streamed.y_train)
    val: tuple[np.ndarray, ...] = (streamed.x_val, streamed.y_val)
    if streamed.w_train is not None:
        train += (streamed.w_train,)
    if streamed.w_val is not None:
        val += (streamed.w_val,)
    return (train, val), streamed


def check_stream_options(data: Any, class_weight: Any, space: Any) -> None:
    """Refuse what a stream cannot have yet, before anything is stored (no-op for arrays); keep
    the ``class_weight`` argument for the notes."""
    if not isinstance(data, Streamed):
        return
    data.class_weight = class_weight
    searched = space.class_weight is not None and "balanced" in tuple(space.class_weight)
    balanced = isinstance(class_weight, str) and class_weight == "balanced"
    if (balanced or searched) and data.target.is_classification:
        found = np.unique(_labels(data.y_train))
        if len(found) < 2:
            what = "class_weight='balanced'" if balanced else (
                f"the space's class_weight field {list(space.class_weight)}"
            )  # fmt: skip
            raise ValueError(
                "class_weight='balanced' is computed from the first samples of the training "
                f"stream, and its first {len(data.y_train)} samples hold one class only "
                f"({int(found[0])}). Received: {what}; shuffle the stream before batching "
                "(ds.shuffle(n)), or pass class_weight={class: weight}"
            )
