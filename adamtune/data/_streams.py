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
import inspect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adamtune.data._data import Data, Target, _check_y, infer_target

__all__ = [
    "SAMPLE_SIZE",
    "STEP_BATCH",
    "VAL_BATCH",
    "Streamed",
    "check_stream_options",
    "is_stream",
    "prepare_input",
    "stream_kind",
    "stream_parts",
    "stream_sample",
]

# The bounded sample of each stream that the checks, the target, the chance level and the
# scaler see: the first samples, in the stream's own order.
SAMPLE_SIZE = 2048
# ``steps_per_epoch`` for a re-batched stream counts batches of this many samples, so every trial
# sees the same samples per epoch whatever its batch size.
STEP_BATCH = 32
# Validation batches of an unbatched validation dataset (evaluation only: the size changes nothing).
VAL_BATCH = 256

_HOW = (
    "pass (train_ds, val_ds) or adamtune.Data(train_ds, validation=val_ds), where each yields "
    "(x, y) or (x, y, sample_weight)"
)


def stream_kind(value: Any) -> str | None:
    """``"tf.data"``, ``"PyDataset"``, ``"generator"`` or None, without importing TensorFlow."""
    for cls in type(value).__mro__:
        module = cls.__module__ or ""
        if cls.__name__ == "DatasetV2" and module.startswith("tensorflow"):
            return "tf.data"
        if cls.__name__ == "PyDataset" and module.startswith("keras"):
            return "PyDataset"
    return "generator" if inspect.isgenerator(value) else None


def is_stream(value: Any) -> bool:
    return stream_kind(value) is not None


def stream_parts(data: Any) -> tuple[Any, Any] | None:
    """``(train, validation)`` when ``data`` is a stream form, else None (arrays)."""
    if is_stream(data):
        return data, None
    if isinstance(data, Data) and is_stream(data.x):
        extra = [
            name
            for name in (
                "y",
                "x_val",
                "y_val",
                "validation_split",
                "sample_weight",
                "val_sample_weight",
            )
            if getattr(data, name) is not None
        ]
        if extra:
            raise ValueError(
                "adamtune.Data: a dataset carries its own labels and sample weights, and its "
                f"validation set goes in `validation`. Received: {', '.join(extra)} beside a "
                f"{stream_kind(data.x)} x; {_HOW}"
            )
        return data.x, data.validation
    if isinstance(data, tuple | list) and any(is_stream(d) for d in data):
        if len(data) != 2:
            raise TypeError(
                f"`data` with streams must be (train_ds, val_ds). Received: a {type(data).__name__}"
                f" of length {len(data)}; {_HOW}"
            )
        return data[0], data[1]
    if isinstance(data, Data) and is_stream(data.validation):
        raise TypeError(
            "adamtune.Data: a validation dataset goes with a training dataset. Received: x of "
            f"type {type(data.x).__name__} with a {stream_kind(data.validation)} validation; "
            "pass both as streams, or validation=(x_val, y_val) with arrays"
        )
    return None


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
        from adamtune.data._weights import _labels

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
        from adamtune.data._stream_feed import stream_feed

        return stream_feed(self, batch_size, scaling, class_weight)

    def first(self, scaling: str) -> tuple[Any, Any]:
        """One sample ``(x, y)`` as the trial's batches hold it (shapes and dtypes only)."""
        x = self.x_train[:1]
        return (x.astype(np.float32) if scaling != "none" else x), self.y_first


def _element_parts(spec: Any, kind: str, where: str) -> None:
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise TypeError(
            f"the {where} {kind} must yield (x, y) or (x, y, sample_weight) tuples of tensors. "
            f"Received elements of {spec!r}; map it to that form (ds.map(lambda e: (e['x'], "
            "e['y'])))"
        )


def _tf_batched(ds: Any, where: str) -> bool:
    import tensorflow as tf

    spec = ds.element_spec
    _element_parts(spec, "tf.data.Dataset", where)
    if not all(isinstance(s, tf.TensorSpec) for s in spec):
        raise TypeError(
            f"the {where} dataset must yield single tensors for x, y and the sample weight "
            "(several inputs or outputs are not supported for datasets yet). Received: "
            f"element_spec={spec!r}"
        )
    return all(s.shape.rank and s.shape[0] is None for s in spec)


def _batch(ds: Any, size: int) -> Any:
    """``ds.batch(size)``, or ``padded_batch`` when an element has a dimension of unknown size."""
    shapes = [s.shape for s in ds.element_spec]
    if any(d is None for shape in shapes for d in shape):
        return ds.padded_batch(size)
    return ds.batch(size)


def _tf_sample(ds: Any, batched: bool, where: str) -> tuple[np.ndarray, ...]:
    """The first :data:`SAMPLE_SIZE` samples of a dataset, as arrays: bounded by ``take``."""
    flat = ds.unbatch() if batched else ds
    for batch in _batch(flat.take(SAMPLE_SIZE), SAMPLE_SIZE).take(1).as_numpy_iterator():
        return tuple(np.asarray(part) for part in batch)
    raise ValueError(f"the {where} dataset is empty. Received: a dataset that yields nothing")


def _py_sample(ds: Any, where: str) -> tuple[tuple[np.ndarray, ...], int]:
    """The first batches of a PyDataset up to :data:`SAMPLE_SIZE` samples, and its batch size."""
    total = ds.num_batches
    parts: list[tuple[np.ndarray, ...]] = []
    count, index = 0, 0
    while count < SAMPLE_SIZE and (total is None or index < total):
        batch = ds[index]
        _element_parts(tuple(batch) if isinstance(batch, list) else batch, "PyDataset", where)
        parts.append(tuple(np.asarray(p) for p in batch))
        count += len(parts[-1][0])
        index += 1
    if not parts:
        raise ValueError(f"the {where} PyDataset is empty. Received: num_batches={total}")
    joined = tuple(np.concatenate(column)[:SAMPLE_SIZE] for column in zip(*parts, strict=True))
    return joined, len(parts[0][0])


def _tf_cardinality(ds: Any) -> int | None:
    """The known number of elements, None when unknown; -1 for an infinite dataset."""
    n = int(ds.cardinality())
    return None if n == -2 else n


def _checked_sample(
    parts: tuple[np.ndarray, ...], where: str, finite: bool = True
) -> tuple[Any, ...]:
    """The sample's x, y (squeezed) and weights, checked: numbers, finite (unless ``finite`` is
    False: the doctor reports NaN/inf as a finding), one weight each."""
    from adamtune.data._weights import check_sample_weight

    x, y = parts[0], parts[1]
    n = len(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(
            f"`x` of the {where} stream must hold numbers. Received dtype {x.dtype} in its first "
            "samples; encode text or categories as numbers in the pipeline"
        )
    if x.ndim < 2:
        raise ValueError(
            f"`x` of the {where} stream must have at least one feature axis per sample. "
            f"Received: samples of shape {x.shape[1:]}; for one feature, map x to shape (1,)"
        )
    for name, array in (("x", x), ("y", y)) if finite else ():
        if np.issubdtype(array.dtype, np.floating):
            bad = ~np.isfinite(array)
            if bad.any():
                first = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"`{name}` of the {where} stream must be finite. Received: "
                    f"{int(bad.sum())} NaN or infinite value(s) in its first {n} samples (first "
                    f"at index {first}); impute or drop them in the pipeline before searching"
                )
    if finite:
        y_checked = _check_y(y, f"y of the {where} stream")
    else:  # squeezed only: the doctor's prepare_data checks the rest after its NaN finding
        y_checked = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    w = None if len(parts) < 3 else check_sample_weight(parts[2], n, f"{where} sample_weight")
    return x, y_checked, w


def _read(ds: Any, where: str) -> tuple[str, bool, tuple[np.ndarray, ...], int | None, int | None]:
    """A stream's kind, batching, first samples, length (None unknown, -1 infinite) and a
    PyDataset's batch size."""
    kind = stream_kind(ds)
    if kind == "generator":
        raise TypeError(
            f"the {where} data is a Python generator, which can be read once only and cannot be "
            "re-batched. Received: a generator; wrap it in tf.data.Dataset.from_generator(...) "
            "(with output_signature) or a keras.utils.PyDataset"
        )
    if kind == "tf.data":
        batched = _tf_batched(ds, where)
        return kind, batched, _tf_sample(ds, batched, where), _tf_cardinality(ds), None
    if kind == "PyDataset":
        sample, size = _py_sample(ds, where)
        n = ds.num_batches
        return kind, True, sample, (-1 if n is None else int(n)), size
    raise TypeError(
        f"the {where} data must be a tf.data.Dataset or a keras.utils.PyDataset, the training "
        f"and the validation data alike. Received: {type(ds).__name__}; {_HOW}"
    )


def _spec(ds: Any, kind: str, batched: bool, parts: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Per-sample shapes (None for a dimension that varies) and dtypes of x and y: a tf.data
    stream's from its element spec, a PyDataset's from its first batches."""
    if kind == "tf.data":
        specs = ds.element_spec[:2]
        found = [((s.shape[1:] if batched else s.shape).as_list(), s.dtype.name) for s in specs]
    else:
        found = [(list(p.shape[1:]), str(p.dtype)) for p in parts[:2]]
    (x_shape, x_dtype), (y_shape, y_dtype) = found
    return {"x_shape": x_shape, "x_dtype": x_dtype, "y_shape": y_shape, "y_dtype": y_dtype}


def _check_length(cardinality: int | None, steps: int | None, kind: str) -> None:
    if steps is None and (cardinality is None or cardinality < 0):
        what = "infinite" if cardinality == -1 else "of unknown length"
        raise ValueError(
            f"`steps_per_epoch` is needed: the training {kind} is {what}, so an epoch has no end. "
            f"Received: steps_per_epoch=None; pass search(steps_per_epoch=N) (for a re-batched "
            f"tf.data stream, batches of {STEP_BATCH} samples), or give the dataset a known "
            "length (ds.take(n), or ds.apply(tf.data.experimental.assert_cardinality(n)))"
        )
    if cardinality == 0:
        raise ValueError(f"the training {kind} is empty. Received: a stream of length 0")


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


def prepare_input(
    data: Any, *, validation_split: float = 0.2, seed: int = 0, steps_per_epoch: int | None = None
) -> Any:
    """``data`` checked: a :class:`Streamed` for a stream form, a ``Prepared`` for arrays."""
    from adamtune.data._data import prepare_data

    parts = stream_parts(data)
    if parts is None:
        if steps_per_epoch is not None:
            raise ValueError(
                "`steps_per_epoch` sets the length of an epoch of a tf.data or PyDataset stream; "
                "with arrays an epoch is one pass. Received: steps_per_epoch="
                f"{steps_per_epoch} with array data; drop it"
            )
        return prepare_data(data, validation_split=validation_split, seed=seed)
    return prepare_stream(parts[0], parts[1], steps_per_epoch)


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


def check_stream_options(data: Any, class_weight: Any, space: Any, lr_range: Any) -> None:
    """Refuse what a stream cannot have yet, before anything is stored (no-op for arrays); keep
    the ``class_weight`` argument for the notes."""
    if not isinstance(data, Streamed):
        return
    data.class_weight = class_weight
    searched = space.class_weight is not None and "balanced" in tuple(space.class_weight)
    balanced = isinstance(class_weight, str) and class_weight == "balanced"
    if (balanced or searched) and data.target.is_classification:
        from adamtune.data._weights import _labels

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
    if lr_range is not None:
        raise ValueError(
            "`lr_range='auto'` narrows the space with an LR range test on arrays, not on a "
            f"stream. Received: lr_range={lr_range!r} with a {data.kind} stream; drop it, or "
            "run adamtune.lr_range_test(model_fn, (train_ds, val_ds)) (on the stream's first "
            "samples) and pass a space with the range it suggests"
        )


def steps_for(streamed: Streamed, batch_size: int) -> int | None:
    """Steps per epoch at ``batch_size`` (None: one pass of a finite stream)."""
    if streamed.steps_per_epoch is None:
        return None
    if streamed.batch_size is not None:  # a PyDataset: Keras's meaning, its own batches
        return streamed.steps_per_epoch
    return math.ceil(streamed.steps_per_epoch * STEP_BATCH / batch_size)
