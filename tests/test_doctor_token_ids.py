"""The doctor on a model whose Embedding reads x as token ids: no ``unscaled-features`` warning
and no LR range test on scaled ids (scaling would change which token each id names: the doctor
used to advise it and report the range it measured on StandardScaler-scaled ids). Its twin, the
same integers fed to a Dense model, is still warned about."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import adamtune

keras = pytest.importorskip("keras")


def _tokens() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, size=(600, 20))
    return x, (x[:, 0] > 25).astype("int64")


def _lstm() -> Any:  # an ordinary text-classification tutorial model
    return keras.Sequential(
        [
            keras.Input((20,)),
            keras.layers.Embedding(50, 8),
            keras.layers.LSTM(8),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def _dense() -> Any:
    return keras.Sequential(
        [
            keras.Input((20,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def test_token_ids_are_neither_judged_for_scale_nor_scaled() -> None:
    found = adamtune.diagnose(_lstm, _tokens(), epochs=1)
    codes = [f.code for f in found.findings]
    assert "unscaled-features" not in codes
    (note,) = [f for f in found.findings if f.code == "token-ids"]
    assert note.severity == "info"
    assert "x holds token ids read by Embedding" in note.evidence
    assert found.lr_range_scaling == "none"  # the range test ran on the ids as given
    assert found.lr_range_raw is None
    assert found.probes["lr_range"].startswith("ran")


def test_the_same_integers_fed_to_a_dense_model_are_still_warned_about() -> None:
    found = adamtune.diagnose(_dense, _tokens(), epochs=1, lr_range=False)
    codes = [f.code for f in found.findings]
    assert "unscaled-features" in codes
    assert "token-ids" not in codes
