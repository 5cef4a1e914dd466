"""How a trial's streams reach ``fit``: re-batched, scaled per batch, never read ahead whole.

A ``tf.data`` training stream is unbatched (when batched) and batched again at the trial's size;
the scaler (fitted on the stream's first samples, see ``_streams.py``) is ``x * a + b`` per
channel inside a ``map``, so it runs in TensorFlow's pipeline. A PyDataset keeps its batches and is
wrapped so each batch it returns is scaled. Integer labels of a regression become float32.

Class weights become each training batch's sample weights, looked up from its labels as
``keras.Model.fit(class_weight=...)`` does (the argmax of a one-hot row, else the rounded label;
1.0 for a class the mapping leaves out); validation batches get none. ``adamtune.search`` refuses
class weights beside a stream's own sample weights, as Keras 3 does; were both given, they would
multiply.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from adamtune.data._stream_read import SAMPLE_SIZE, STEP_BATCH, VAL_BATCH, _batch
from adamtune.data._weights import class_sample_weights

if TYPE_CHECKING:  # only for the annotations: _streams imports this module
    from adamtune.data._streams import Streamed

__all__ = ["steps_for", "stream_feed", "threaded"]


def threaded(ds: Any) -> Any:
    """``ds`` with tf.data's pool limited to TensorFlow's intra-op threads, when those are set
    (workers sharing a machine set them to their share of the cores)."""
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    if threads <= 0:  # TensorFlow's default: all cores
        return ds
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    return ds.with_options(options)


def _tf_class_weights(weights: dict[int, float]) -> Any:
    """A function from a batch's labels to their class weights (Keras's rule, in TensorFlow)."""
    import tensorflow as tf

    size = max(weights) + 1
    table = tf.constant([weights.get(k, 1.0) for k in range(size)], dtype=tf.float32)

    def rounded(y: Any) -> Any:
        return tf.cast(tf.round(tf.cast(y, tf.float32)), tf.int32)

    def classes(y: Any) -> Any:
        if y.shape.rank is None or y.shape.rank < 2:
            return rounded(y)
        last = y.shape[-1]
        if last is not None:  # known: one branch, as Keras's smart_cond takes it
            return tf.argmax(y, axis=-1, output_type=tf.int32) if last > 1 else rounded(y[..., 0])
        return tf.cond(
            tf.shape(y)[-1] > 1,
            lambda: tf.argmax(y, axis=-1, output_type=tf.int32),
            lambda: rounded(tf.reshape(y, tf.shape(y)[:-1])),
        )

    def lookup(y: Any) -> Any:
        labels = classes(y)
        known = (labels >= 0) & (labels < size)
        return tf.where(known, tf.gather(table, tf.clip_by_value(labels, 0, size - 1)), 1.0)

    return lookup


def _mapper(
    scale: tuple[np.ndarray, np.ndarray] | None,
    cast_y: bool,
    class_weight: dict[int, float] | None = None,
) -> Any:
    import tensorflow as tf

    a, b = (None, None) if scale is None else (tf.constant(scale[0]), tf.constant(scale[1]))
    lookup = None if class_weight is None else _tf_class_weights(class_weight)

    def mapped(x: Any, y: Any, *w: Any) -> Any:
        if lookup is not None:  # from the labels as the stream gives them
            weights = lookup(y)
            if w:
                weights = weights * tf.cast(tf.reshape(w[0], tf.shape(weights)), tf.float32)
            w = (weights,)
        if a is not None:
            x = tf.cast(x, tf.float32) * a + b
        if cast_y:
            y = tf.cast(y, tf.float32)
        return (x, y, *w)

    return mapped


def _np_mapper(
    scale: tuple[np.ndarray, np.ndarray] | None,
    cast_y: bool,
    class_weight: dict[int, float] | None = None,
) -> Any:
    """The same map over a PyDataset's NumPy batches."""

    def mapped(x: Any, y: Any, *w: Any) -> Any:
        if class_weight is not None:
            weights = class_sample_weights(np.asarray(y), class_weight)
            if w:
                weights = weights * np.reshape(np.asarray(w[0], np.float32), weights.shape)
            w = (weights,)
        if scale is not None:
            x = np.asarray(x, dtype=np.float32) * scale[0] + scale[1]
        if cast_y:
            y = np.asarray(y, dtype=np.float32)
        return (x, y, *w)

    return mapped


def _tf_stream(ds: Any, batched: bool, size: int | None, fn: Any, identity: bool) -> Any:
    """``ds`` re-batched at ``size`` (kept as it is when ``size`` is None and it is batched)."""
    import tensorflow as tf

    if size is not None:
        ds = _batch(ds.unbatch() if batched else ds, size)
    elif not batched:
        ds = _batch(ds, VAL_BATCH)
    if not identity:
        ds = ds.map(fn, num_parallel_calls=tf.data.AUTOTUNE)
    return threaded(ds.prefetch(tf.data.AUTOTUNE))


def _py_stream(ds: Any, fn: Any, identity: bool) -> Any:
    """A PyDataset whose batches go through ``fn`` (``ds`` itself when nothing changes)."""
    if identity:
        return ds
    import keras

    class _Mapped(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__(
                workers=ds.workers,
                use_multiprocessing=ds.use_multiprocessing,
                max_queue_size=ds.max_queue_size,
            )

        def __getitem__(self, index: int) -> Any:
            return fn(*ds[index])

        @property
        def num_batches(self) -> int | None:
            return ds.num_batches

        def on_epoch_begin(self) -> None:
            ds.on_epoch_begin()

        def on_epoch_end(self) -> None:
            ds.on_epoch_end()

    return _Mapped()


def _stream(
    ds: Any, kind: str, batched: bool, size: int | None, maps: tuple[Any, Any], identity: bool
) -> Any:
    if kind == "PyDataset":
        return _py_stream(ds, maps[1], identity)
    return _tf_stream(ds, batched, size, maps[0], identity)


def _known_steps(ds: Any) -> int | None:
    """Batches in one pass of ``ds`` when tf.data knows it (finite and not empty), else None."""
    n = int(ds.cardinality())
    return n if n > 0 else None


def steps_for(streamed: Streamed, batch_size: int) -> int | None:
    """Steps per epoch at ``batch_size`` (None: one pass of a finite stream)."""
    if streamed.steps_per_epoch is None:
        return None
    if streamed.batch_size is not None:  # a PyDataset: Keras's meaning, its own batches
        return streamed.steps_per_epoch
    return math.ceil(streamed.steps_per_epoch * STEP_BATCH / batch_size)


def stream_feed(
    data: Streamed, batch_size: int, scaling: str, class_weight: dict[int, float] | None = None
) -> dict[str, Any]:
    """``fit`` keyword arguments: ``fit(**stream_feed(...), epochs=..., callbacks=...)``; with
    ``class_weight``, every training batch carries its labels' class weights (validation none)."""
    scale = data.affine(scaling)
    floats = ("float", "bfloat", "half", "double")
    cast_y = data.target.kind == "regression" and not data.spec["y_dtype"].startswith(floats)
    identity = scale is None and not cast_y
    fn = (_mapper(scale, cast_y), _np_mapper(scale, cast_y))
    size = None if data.kind == "PyDataset" else batch_size
    if class_weight is not None:
        weighted = (_mapper(scale, cast_y, class_weight), _np_mapper(scale, cast_y, class_weight))
        train = _stream(data.train, data.kind, data.batched, size, weighted, False)
    else:
        train = _stream(data.train, data.kind, data.batched, size, fn, identity)
    steps = steps_for(data, batch_size)
    if data.kind == "tf.data":
        if steps is None:  # one pass, when tf.data knows its length
            steps = _known_steps(train)
        if steps is None and len(data.y_train) < SAMPLE_SIZE:
            # the sample read at the start was the whole first pass: its length is known
            steps = math.ceil(len(data.y_train) / batch_size)
        if steps is not None:  # one iterator for the whole trial, not two per epoch
            train = train.repeat()
    val = _stream(data.val, data.val_kind, data.val_batched, None, fn, identity)
    val_steps = _known_steps(val) if data.val_kind == "tf.data" else None
    out: dict[str, Any] = {
        "x": train,
        "shuffle": False,  # the user's pipeline shuffles (Keras would warn it ignores the flag)
        "validation_data": val if val_steps is None else val.repeat(),
    }
    if steps is not None:
        out["steps_per_epoch"] = steps
    if val_steps is not None:
        out["validation_steps"] = val_steps
    return out
