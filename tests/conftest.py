"""Shared test set-up: quiet TensorFlow, one thread each, small real data sets."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from typing import Any

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype("float32"), d.target.astype("int64")


@pytest.fixture(scope="session")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer: features span ~3e-2 to ~4e3, the unscaled-input case."""
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return d.data.astype("float32"), d.target.astype("int64")


def mlp(n_in: int, n_out: int, activation: str = "softmax", units: int = 16) -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(n_in,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(n_out, activation=activation),
        ]
    )


@pytest.fixture
def storage(tmp_path: Any) -> str:
    """A fresh SQLite study file per test."""
    return f"sqlite:///{tmp_path / 'study.db'}"
