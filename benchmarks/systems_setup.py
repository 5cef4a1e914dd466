"""What the system measurements run: digits and the small MLP, the space whose trials cannot
diverge, ``adamtune.search`` as they call it, the study's finished trials, and the CLI target
file of the parallel runs.

TensorFlow, Keras, Optuna and adamtune are imported inside the functions only.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

SEED = 0

# The CLI target file for the parallel measurement: the same MLP, and digits tiled so one epoch
# is long enough that the per-trial costs (model build, tracing) do not dominate.
# The CLI's subprocesses: quiet TensorFlow, one thread each (see systems_parallel's
# `_cli_thread_env` for what the CLI itself then sets).
SUBPROCESS_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}

TARGET_TEMPLATE = '''"""adamtune CLI target written by benchmarks/systems_parallel.py."""

from typing import Any

import numpy as np

TILE = {tile}


def load_data() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    rng = np.random.default_rng(0)
    xs = [x] + [x + rng.normal(0.0, 0.05, x.shape).astype("float32") for _ in range(TILE - 1)]
    return np.concatenate(xs), np.tile(y, TILE)


def build_model(hp: Any) -> Any:
    import keras

    reg = hp.regularizer()
    hidden: list[Any] = [keras.layers.Dense(64, kernel_regularizer=reg)]
    if hp.batch_norm:
        hidden.append(keras.layers.BatchNormalization())
    hidden.append(keras.layers.Activation("relu"))
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            *hidden,
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg),
        ]
    )
'''


def digits_split() -> tuple[Any, Any, Any, Any]:
    """Digits as ``X / 16`` with a fixed, stratified 80/20 train/validation split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)
    return x_tr, y_tr, x_va, y_va


def mlp(regularizer: Any, batch_norm: bool) -> Any:
    """Dense 64 relu (BatchNorm before the activation when asked), Dense 10 softmax."""
    import keras

    hidden: list[Any] = [keras.layers.Dense(64, kernel_regularizer=regularizer)]
    if batch_norm:
        hidden.append(keras.layers.BatchNormalization())
    hidden.append(keras.layers.Activation("relu"))
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            *hidden,
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=regularizer),
        ]
    )


def digits_mlp(hp: Any) -> Any:
    """The model_fn given to ``adamtune.search``: it places the regularizer and BatchNorm."""
    return mlp(hp.regularizer(), hp.batch_norm)


def space_for(
    name: str,
    batch_size: Sequence[int],
    batch_norm: Sequence[bool],
    scaling: Sequence[str],
    epochs: int,
) -> Any:
    """Learning rate 1e-4..1e-2 with no batch-size rule (it stays in range: nothing diverges),
    mild regularizers of every kind."""
    from adamtune.spaces import FloatRange, LearningRate, Space

    return Space(
        name=name,
        description="benchmarks/systems.py: a space whose trials cannot diverge",
        learning_rate=LearningRate(low=1e-4, high=1e-2, reference_batch_size=32, rule="none"),
        batch_size=tuple(batch_size),
        regularizer={
            "none": None,
            "l2": FloatRange(1e-6, 1e-4, log=True),
            "l1_l2": FloatRange(1e-7, 1e-5, log=True),
            "adamw": FloatRange(1e-4, 1e-2, log=True),
        },
        batch_norm=tuple(batch_norm),
        scaling=tuple(scaling),
        epochs=epochs,
    )


def finished_trials(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    done = (TrialState.COMPLETE, TrialState.PRUNED)
    return sorted(
        (t for t in study.get_trials(deepcopy=False) if t.state in done), key=lambda t: t.number
    )


def trial_states(study: Any) -> dict[str, int]:
    return dict(Counter(t.state.name for t in study.get_trials(deepcopy=False)))


def trial_outcomes(trials: Sequence[Any]) -> dict[str, int]:
    return dict(Counter(str(t.user_attrs.get("outcome")) for t in trials))


def run_search(
    space: Any, data: Any, storage: str, study_name: str, trials: int, epochs: int
) -> tuple[Any, float, datetime, datetime]:
    """``adamtune.search`` as the measurements run it; the result, its wall and its bounds."""
    import optuna

    import adamtune

    called = datetime.now()
    started = time.perf_counter()
    result = adamtune.search(
        digits_mlp,
        data,
        space=space,
        strategy=optuna.samplers.RandomSampler(seed=SEED),
        pruner="none",
        trials=trials,
        epochs=epochs,
        storage=storage,
        study_name=study_name,
        verbose=0,
    )
    return result, time.perf_counter() - started, called, datetime.now()
