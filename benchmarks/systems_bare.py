"""The hand-written loop the search overhead is measured against: build, compile with
Adam/AdamW, scale and ``fit`` one config, fed plain tf.data as an adamtune trial is
(``tf_data_feed``) or NumPy arrays (``numpy_feed``). No adamtune code in the loop.

TensorFlow, Keras and scikit-learn are imported inside the functions only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from systems_setup import mlp

VAL_BATCH = 256  # adamtune's validation batch for array data (adamtune.data.VAL_BATCH)


def _regularizer(kind: str, strength: float) -> Any:
    """The Keras regularizer a trial builds for ``kind`` (plain Keras: None for none/AdamW)."""
    import keras

    makers: dict[str, Callable[[], Any]] = {
        "l1": lambda: keras.regularizers.L1(strength),
        "l2": lambda: keras.regularizers.L2(strength),
        "l1_l2": lambda: keras.regularizers.L1L2(l1=strength, l2=strength),
    }
    return makers[kind]() if kind in makers else None


def _optimizer(cfg: dict[str, Any]) -> Any:
    import keras

    common = {
        "learning_rate": cfg["learning_rate"],
        "beta_1": cfg.get("beta_1", 0.9),
        "beta_2": cfg.get("beta_2", 0.999),
        "epsilon": cfg.get("epsilon", 1e-7),
    }
    if cfg["regularizer"] == "adamw":
        return keras.optimizers.AdamW(weight_decay=cfg["regularizer_strength"], **common)
    return keras.optimizers.Adam(**common)


def _scale(name: str, x_tr: Any, x_va: Any) -> tuple[Any, Any]:
    from sklearn import preprocessing

    if name == "none":
        return x_tr, x_va
    scalers: dict[str, Callable[[], Any]] = {
        "standard": preprocessing.StandardScaler,
        "minmax": preprocessing.MinMaxScaler,
        "robust": preprocessing.RobustScaler,
    }
    scaler = scalers[name]()
    return (
        scaler.fit_transform(x_tr).astype("float32"),
        scaler.transform(x_va).astype("float32"),
    )


def _compiled(cfg: dict[str, Any]) -> Any:
    """What a hand-written loop does for one config: build, compile with Adam/AdamW."""
    model = mlp(
        _regularizer(cfg["regularizer"], cfg["regularizer_strength"]), bool(cfg["batch_norm"])
    )
    model.compile(
        optimizer=_optimizer(cfg),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def numpy_feed(x_tr: Any, y_tr: Any, x_va: Any, y_va: Any, batch_size: int) -> dict[str, Any]:
    """``fit`` keyword arguments for NumPy arrays: Keras makes new iterators every epoch."""
    return {"x": x_tr, "y": y_tr, "batch_size": batch_size, "validation_data": (x_va, y_va)}


def _pooled(ds: Any) -> Any:
    """tf.data's pool limited to TensorFlow's intra-op threads when those are set, as
    adamtune's feed does (``adamtune.data.threaded``)."""
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads()
    if threads <= 0:
        return ds
    options = tf.data.Options()
    options.threading.private_threadpool_size = threads
    return ds.with_options(options)


def _gathered(x: Any, y: Any, indices: Any) -> Any:
    import tensorflow as tf

    xs, ys = tf.constant(x), tf.constant(y)
    batches = indices.map(
        lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)),
        num_parallel_calls=tf.data.AUTOTUNE,
    ).prefetch(tf.data.AUTOTUNE)
    return _pooled(batches)


def tf_data_feed(x_tr: Any, y_tr: Any, x_va: Any, y_va: Any, batch_size: int) -> dict[str, Any]:
    """``fit`` keyword arguments feeding the arrays the way an adamtune trial does, in plain
    tf.data: repeating datasets of indices (reshuffled each epoch for training) gathered per
    batch, with ``steps_per_epoch``/``validation_steps`` so an epoch is still one pass. Keras
    then keeps one iterator of each for the whole fit."""
    import tensorflow as tf

    n, n_val = len(x_tr), len(x_va)
    train = (
        tf.data.Dataset.range(n)
        .shuffle(n, reshuffle_each_iteration=True)
        .batch(batch_size)
        .repeat()
    )
    val_batch = max(batch_size, VAL_BATCH)
    val = tf.data.Dataset.range(n_val).batch(val_batch).repeat()
    return {
        "x": _gathered(x_tr, y_tr, train),
        "steps_per_epoch": math.ceil(n / batch_size),
        "shuffle": False,
        "validation_data": _gathered(x_va, y_va, val),
        "validation_steps": math.ceil(n_val / val_batch),
    }


FEEDS: dict[str, Callable[..., dict[str, Any]]] = {
    "bare_tf_data": tf_data_feed,
    "bare_numpy": numpy_feed,
}


def bare_fit(cfg: dict[str, Any], epochs: int, feed: str, data: tuple[Any, Any, Any, Any]) -> Any:
    """One config in a hand-written loop: build, compile, scale, fit from ``feed``."""
    x_tr, y_tr, x_va, y_va = data
    model = _compiled(cfg)
    xs_tr, xs_va = _scale(cfg["scaling"], x_tr, x_va)
    kwargs = FEEDS[feed](xs_tr, y_tr, xs_va, y_va, int(cfg["batch_size"]))
    return model.fit(**kwargs, epochs=epochs, verbose=0)
