"""The benchmark's tasks: offline data (bundled with scikit-learn, or generated), fixed
train / validation / test splits per seed, and one model function per task that every tool uses.

A model function takes an ``hp`` with ``hp.regularizer()`` and ``hp.batch_norm`` (adamtune's trial
object, or :class:`PeerHP` for the other tools); the optimizer, batch size and input scaling are the
tool's business.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["QUICK", "TASKS", "PeerHP", "Splits", "Task", "get"]


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Task:
    name: str
    kind: str  # "classification" (score: accuracy) or "regression" (score: R^2)
    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    model_fn: Callable[[Any], Any]
    epochs: int
    about: str

    def splits(self, seed: int) -> Splits:
        """60 / 20 / 20, stratified for classes, the same for every tool at a given seed."""
        from sklearn.model_selection import train_test_split

        x, y = self.load()
        strat = y if self.kind == "classification" else None
        x_rest, x_test, y_rest, y_test = train_test_split(
            x, y, test_size=0.2, random_state=seed, stratify=strat
        )
        strat = y_rest if self.kind == "classification" else None
        x_train, x_val, y_train, y_val = train_test_split(
            x_rest, y_rest, test_size=0.25, random_state=seed, stratify=strat
        )
        return Splits(x_train, y_train, x_val, y_val, x_test, y_test)

    @property
    def objective(self) -> str:
        """What every tool maximizes or minimizes: validation accuracy, or validation MSE."""
        return "val_accuracy" if self.kind == "classification" else "val_loss"


@dataclass(frozen=True)
class PeerHP:
    """The two model-side choices of the shared space, for tools other than adamtune."""

    regularizer_kind: str = "none"
    strength: float = 0.0
    batch_norm: bool = False

    def regularizer(self) -> Any:
        import keras

        if self.regularizer_kind == "l1":
            return keras.regularizers.L1(self.strength)
        if self.regularizer_kind == "l2":
            return keras.regularizers.L2(self.strength)
        return None  # none, or AdamW (decay lives in the optimizer)


def _mlp(inputs: int, outputs: int, hidden: int = 64) -> Callable[[Any], Any]:
    def model_fn(hp: Any) -> Any:
        import keras

        layers: list[Any] = [keras.Input(shape=(inputs,))]
        layers.append(keras.layers.Dense(hidden, kernel_regularizer=hp.regularizer()))
        if hp.batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation("relu"))
        activation = "softmax" if outputs > 1 else None
        layers.append(keras.layers.Dense(outputs, activation=activation))
        return keras.Sequential(layers)

    return model_fn


def _conv_digits(hp: Any) -> Any:
    import keras

    layers: list[Any] = [
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(16, 3, padding="same", kernel_regularizer=hp.regularizer()),
    ]
    if hp.batch_norm:
        layers.append(keras.layers.BatchNormalization())
    layers += [
        keras.layers.Activation("relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ]
    return keras.Sequential(layers)


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype("float32"), y.astype("int64")


def _digits_standardized() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype("float32"), y


def _digits_badly_scaled() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    factors = 10.0 ** np.random.default_rng(0).uniform(-3, 4, size=x.shape[1])
    return (x * factors).astype("float32"), y


def _digits_images() -> tuple[np.ndarray, np.ndarray]:
    x, y = _digits()
    return (x / 16.0).reshape(-1, 8, 8, 1).astype("float32"), y


def _sklearn(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    @functools.cache
    def load() -> tuple[np.ndarray, np.ndarray]:
        import sklearn.datasets

        x, y = getattr(sklearn.datasets, name)(return_X_y=True)
        return x.astype("float32"), y.astype("int64")

    return load


@functools.cache
def _mnist1d() -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset  # generated, never downloaded

    data = make_dataset(get_dataset_args())
    x = np.concatenate([data["x"], data["x_test"]]).astype("float32")
    y = np.concatenate([data["y"], data["y_test"]]).astype("int64")
    return x, y


@functools.cache
def _regression() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=2000, n_features=10, noise=0.5, random_state=0)
    y = 1e4 + 2e3 * (y - y.mean()) / y.std()  # targets around 1e4: a unit-scale head crawls
    return x.astype("float32"), y.astype("float32")


TASKS: dict[str, Task] = {
    task.name: task
    for task in [
        Task(
            "digits",
            "classification",
            _digits_standardized,
            _mlp(64, 10),
            10,
            "8x8 digits, standardized features, MLP",
        ),
        Task(
            "digits-badscale",
            "classification",
            _digits_badly_scaled,
            _mlp(64, 10),
            10,
            "digits with feature j multiplied by 10^U(-3, 4), MLP",
        ),
        Task(
            "breast-cancer",
            "classification",
            _sklearn("load_breast_cancer"),
            _mlp(30, 2),
            10,
            "breast cancer, raw features (3e-2 to 4e3), MLP",
        ),
        Task("wine", "classification", _sklearn("load_wine"), _mlp(13, 3), 20, "wine, raw, MLP"),
        Task(
            "mnist1d",
            "classification",
            _mnist1d,
            _mlp(40, 10, hidden=128),
            10,
            "MNIST-1D from mnist1d.make_dataset (5000 sequences of 40), MLP",
        ),
        Task(
            "regression-1e4",
            "regression",
            _regression,
            _mlp(10, 1),
            10,
            "Friedman #1, targets rescaled to about 1e4 +- 2e3, MLP",
        ),
        Task(
            "digits-conv",
            "classification",
            _digits_images,
            _conv_digits,
            8,
            "8x8 digit images in [0, 1], Conv2D(16) + pooling",
        ),
    ]
}

QUICK = ("digits-badscale", "breast-cancer", "wine", "regression-1e4")


def get(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
    return TASKS[name]
