"""How a trial's data reaches ``fit``: one input pipeline per trial, not one per epoch.

Given NumPy arrays, Keras builds a new ``tf.data`` iterator for the training set and another for
the validation set every epoch; on the small models people tune with Adam that costs as much as
the training itself (about 25 ms per iterator on this project's 2-core benchmark machine, 40 per
20-epoch trial). Here the arrays become two repeating datasets of shuffled indices, gathered per
batch as Keras does, with ``steps_per_epoch`` / ``validation_steps`` set so each epoch is still
exactly one pass in a fresh order: Keras then keeps one iterator of each for the whole trial.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["make_feed"]

# Validation batches only evaluate: a larger batch gives the same weighted means, in fewer steps.
_VAL_BATCH = 256


def _gathered(x: Any, y: Any, indices: Any) -> Any:
    import tensorflow as tf

    gathered = indices.map(
        lambda idx: (tf.gather(x, idx), tf.gather(y, idx)),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    if threads <= 0:  # TensorFlow's default: all cores
        return gathered
    # Workers that share the machine (adamtune search --workers N) set TensorFlow's threads to
    # their share of the cores; tf.data's own pool would still start one thread per core.
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    return gathered.with_options(options)


def make_feed(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    batch_size: int,
) -> dict[str, Any]:
    """``fit`` keyword arguments: ``fit(**make_feed(...), epochs=..., callbacks=...)``."""
    import tensorflow as tf

    n, n_val = len(x_train), len(x_val)
    x, y = tf.constant(x_train), tf.constant(y_train)
    train = (
        tf.data.Dataset.range(n)
        .shuffle(n, reshuffle_each_iteration=True)  # a new order every epoch, as Keras does
        .batch(batch_size)
        .repeat()
    )
    val_batch = max(batch_size, _VAL_BATCH)
    val = tf.data.Dataset.range(n_val).batch(val_batch).repeat()
    xv, yv = tf.constant(x_val), tf.constant(y_val)
    return {
        "x": _gathered(x, y, train),
        "steps_per_epoch": math.ceil(n / batch_size),
        "shuffle": False,  # the dataset shuffles itself (Keras would warn it ignores the flag)
        "validation_data": _gathered(xv, yv, val),
        "validation_steps": math.ceil(n_val / val_batch),
    }
