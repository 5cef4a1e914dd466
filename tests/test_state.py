"""training/_state.py: a trial's state built before tracing, and cheaper collections."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
from conftest import tiny_study

from adamtune.training._state import build_state, release, settle


def test_the_optimizer_and_metrics_exist_before_fit_traces_anything() -> None:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert not model.optimizer.built
    build_state(model, np.zeros((1, 4), "float32"), np.zeros((1,), "int64"))
    assert model.optimizer.built
    assert len(model.optimizer.variables) > 2  # the slots: momentum and velocity per weight
    assert model._compile_metrics.built  # accuracy's total and count are variables already
    # What it cannot build (labels of the wrong rank) is left to fit, which says what is wrong.
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    other.compile(optimizer="adam", loss="mse")
    build_state(other, np.zeros((1, 4), "float32"), np.zeros((1, 2, 2, 2), "float32"))


def test_a_search_freezes_the_first_trials_survivors_and_gives_them_back(tmp_path: Path) -> None:
    release()  # a test before this one may have run a trial outside search()
    assert gc.get_freeze_count() == 0
    settle()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    settle()  # once only: a second freeze would add the objects made since. Frozen objects can
    # still be freed (another thread let go of two between the reads in a clean-clone CI run),
    # so the count may fall, never rise.
    assert gc.get_freeze_count() <= frozen
    release()
    assert gc.get_freeze_count() == 0
    tiny_study(f"sqlite:///{tmp_path / 's.db'}", "s", trials=2)
    assert gc.get_freeze_count() == 0  # search() released what its trials froze
