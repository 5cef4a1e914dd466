"""How a trial's data reaches ``fit``: one input pipeline per trial, not one per epoch.

Given NumPy arrays, Keras builds a new ``tf.data`` iterator for the training set and another for
the validation set every epoch; on the small models people tune with Adam that costs as much as
the training itself (about 25 ms per iterator on this project's 2-core benchmark machine, 40 per
20-epoch trial). Here the arrays become two repeating datasets of shuffled indices, gathered per
batch as Keras does, with ``steps_per_epoch`` / ``validation_steps`` set so each epoch is still
exactly one pass in a fresh order: Keras then keeps one iterator of each for the whole trial.

Sample weights (the user's, or class weights turned into per-sample weights as Keras's
``fit(class_weight=...)`` does) are gathered with the same indices, so each batch is the
``(x, y, sample_weight)`` Keras would have built; ``fit``'s own ``class_weight`` cannot be used
with a dataset that carries weights.

Several inputs or outputs (a tuple or dict of arrays for ``x`` or ``y``) are gathered with the
same indices, array by array, and reach the model in the structure given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adamtune.data import VAL_BATCH, threaded

__all__ = ["make_feed"]


def _gathered(arrays: tuple[Any, ...], indices: Any) -> Any:
    import tensorflow as tf

    gathered = indices.map(
        lambda idx: tf.nest.map_structure(lambda a: tf.gather(a, idx), arrays),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
    return threaded(gathered)


def _constants(x: Any, y: Any, w: np.ndarray | None) -> tuple[Any, ...]:
    import tensorflow as tf

    parts = (x, y) if w is None else (x, y, w)
    return tuple(tf.nest.map_structure(tf.constant, part) for part in parts)


def _samples(x: Any) -> int:
    import tensorflow as tf

    return len(tf.nest.flatten(x)[0])


def make_feed(
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    batch_size: int,
    w_train: np.ndarray | None = None,
    w_val: np.ndarray | None = None,
) -> dict[str, Any]:
    """``fit`` keyword arguments: ``fit(**make_feed(...), epochs=..., callbacks=...)``.

    ``x``/``y``: arrays, or tuples/dicts of arrays for several inputs/outputs.
    ``w_train``/``w_val``: per-sample weights of the training/validation batches, or None.
    """
    import tensorflow as tf

    n, n_val = _samples(x_train), _samples(x_val)
    train = (
        tf.data.Dataset.range(n)
        .shuffle(n, reshuffle_each_iteration=True)  # a new order every epoch, as Keras does
        .batch(batch_size)
        .repeat()
    )
    val_batch = max(batch_size, VAL_BATCH)
    val = tf.data.Dataset.range(n_val).batch(val_batch).repeat()
    return {
        "x": _gathered(_constants(x_train, y_train, w_train), train),
        "steps_per_epoch": math.ceil(n / batch_size),
        "shuffle": False,  # the dataset shuffles itself (Keras would warn it ignores the flag)
        "validation_data": _gathered(_constants(x_val, y_val, w_val), val),
        "validation_steps": math.ceil(n_val / val_batch),
    }
