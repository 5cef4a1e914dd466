"""An example task file: copy it, change the data and the model, and benchmark adamtune on it.

    python benchmarks/run.py --suite quick --task-file benchmarks/examples/my_task.py --out my.json

A task file is a plain Python file that the benchmark loads by path (in every worker process), so
it need not be importable or installed. It must define a module-level ``TASKS``: a list of
``Task`` with unique names. ``benchmarks/`` is on ``sys.path`` when it is loaded, so
``from tasks import Task`` works. Every field of a ``Task``:

- ``name``: a short unique name, used in the tables (and ``--tasks`` style selections).
- ``kind``: ``"classification"`` (integer labels 0..k-1, scored by validation accuracy, softmax
  output) or ``"regression"`` (real targets, scored by validation R^2, linear output).
- ``load``: a function with no arguments returning ``(x, y)`` as NumPy arrays, the whole data
  set. The harness splits it 60 / 20 / 20 (stratified for classes) per seed. It must work offline
  (bundled or generated data): it runs in every worker. Cache it (``functools.cache``).
- ``model_fn``: a function of ``hp`` returning an uncompiled Keras model. Use
  ``hp.regularizer()`` as the main kernel's regularizer (it returns ``None`` when the trial has
  none) and, when ``hp.batch_norm`` is true, put ``BatchNormalization`` before the activation. The
  optimizer, learning rate, batch size and input scaling are the tools' business: do not set them.
- ``epochs``: the length of one full training run, the unit of the budget (1 FRE). Keep one full
  run near a second (``python benchmarks/task_timing.py --task-file FILE`` measures it).
- ``about``: one line for the tables.
- ``scalings`` (optional): the input scalings the tools may try, out of ``("none", "standard",
  "robust")``; ``("none",)`` for inputs that must not be rescaled, such as token ids.
- ``design`` (optional): non-empty when the task was used to design a heuristic of adamtune,
  saying which, so its results are not read as held-out ones.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from tasks import Task


@functools.cache
def load_wine_standardized() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled wine data (178 x 13, three classes), each feature standardized."""
    from sklearn.datasets import load_wine

    x, y = load_wine(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x.astype("float32"), y.astype("int64")


def wine_mlp(hp: Any) -> Any:
    """13 features -> Dense(32) [BatchNorm] relu -> softmax over the 3 classes."""
    import keras

    layers: list[Any] = [
        keras.Input(shape=(13,)),
        keras.layers.Dense(32, kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [keras.layers.Activation("relu"), keras.layers.Dense(3, activation="softmax")]
    return keras.Sequential(layers)


TASKS = [
    Task(
        name="my-wine",
        kind="classification",
        load=load_wine_standardized,
        model_fn=wine_mlp,
        epochs=20,
        about="wine, standardized features, MLP (the example task file)",
    ),
]
