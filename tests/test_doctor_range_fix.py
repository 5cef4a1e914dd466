"""The doctor's learning-rate range agrees with its own advice (issue 15, item 1).

On raw breast-cancer features (spanning ~1e-2 to ~4e3) with ``Adam(5.0)``, the doctor reports
``unscaled-features`` and advises a StandardScaler. Its LR range test on the raw inputs suggests
~0.33..3.3, which diverges once the inputs are scaled. The suggestion must be the range measured
under the fix it advises (inputs standardized), with the raw-data range beside it, labelled; and
any suggested Adam range above 1 carries a loud caveat.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from adamtune.doctor._doctor import Diagnosis, diagnose
from adamtune.doctor._verdicts import ADAM_LR_CAVEAT, Context, judge, lr_caveat

Arrays = tuple[np.ndarray, np.ndarray]


def cancer_mlp() -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


@pytest.fixture(scope="module")
def cancer() -> Arrays:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return x.astype("float32"), y.astype("float32")


@pytest.fixture(scope="module")
def adam5(cancer: Arrays) -> Diagnosis:
    import keras

    return diagnose(cancer_mlp, cancer, optimizer=keras.optimizers.Adam(5.0))


def _finding(diagnosis: Diagnosis, code: str) -> Any:
    assert code in diagnosis, diagnosis.table()
    return diagnosis[code]


def test_the_suggestion_is_measured_on_the_scaled_inputs(adam5: Diagnosis) -> None:
    assert "unscaled-features" in adam5 and "lr-too-high" in adam5, adam5.table()
    assert adam5.lr_range is not None and adam5.lr_range_raw is not None
    low, high = adam5.lr_range
    assert 0 < low < high < ADAM_LR_CAVEAT, adam5.lr_range
    assert adam5.lr_range_scaling == "standard"
    # the raw-data range is kept, and it is the high one the issue saw (0.33..3.3)
    raw_low, raw_high = adam5.lr_range_raw
    assert raw_high > 3 * high
    assert adam5.lr_range_test is not None and adam5.lr_range_test["scaling"] == "standard"
    assert adam5.lr_range_test_raw is not None and adam5.lr_range_test_raw["scaling"] == "none"
    out = adam5.to_dict()
    assert out["lr_range"] == pytest.approx([low, high])
    assert out["lr_range_raw"] == pytest.approx([raw_low, raw_high])
    assert out["lr_range_scaling"] == "standard"
    assert "StandardScaler" in adam5.probes["lr_range"]


def test_the_raw_range_is_labelled_as_raw(adam5: Diagnosis) -> None:
    assert adam5.lr_range is not None and adam5.lr_range_raw is not None
    g = "{:.2g}".format
    suggested = f"{g(adam5.lr_range[0])}..{g(adam5.lr_range[1])}"
    raw = f"{g(adam5.lr_range_raw[0])}..{g(adam5.lr_range_raw[1])}"
    info = _finding(adam5, "lr-range")
    assert f"suggests {suggested}" in info.evidence
    assert "scaled with StandardScaler" in info.evidence
    assert "On the raw, unscaled inputs (as given)" in info.evidence
    assert f"suggested {raw}: measured on raw data" in info.evidence
    assert info.evidence.index(suggested) < info.evidence.index(raw)
    high = _finding(adam5, "lr-too-high")
    assert f"use a learning rate in {suggested} (" in high.advice
    assert f"measured on the raw, unscaled inputs it was {raw}" in high.advice
    assert "CAUTION" not in adam5.table()  # the suggestion is below 1: no caveat
    # the CLI prints this table: both ranges appear there, each with its label
    table = adam5.table()
    assert suggested in table and raw in table


def test_the_suggested_lr_trains_on_the_scaled_data(adam5: Diagnosis, cancer: Arrays) -> None:
    """A short fit at the middle of the suggestion, on the data scaled as the doctor advises
    (StandardScaler fitted on the training split), does not diverge and learns."""
    import keras
    from sklearn.preprocessing import StandardScaler

    from adamtune.data import prepare_data

    assert adam5.lr_range is not None
    prepared = prepare_data(cancer, seed=0)  # the split the doctor used
    scaler = StandardScaler().fit(prepared.x_train)
    lr = math.sqrt(adam5.lr_range[0] * adam5.lr_range[1])
    keras.utils.set_random_seed(0)
    model = cancer_mlp()
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        scaler.transform(prepared.x_train),
        prepared.y_train,
        validation_data=(scaler.transform(prepared.x_val), prepared.y_val),
        batch_size=32,
        epochs=5,
        verbose=0,
    ).history
    keras.backend.clear_session()
    losses = history["loss"]
    assert all(math.isfinite(v) for v in losses), losses
    assert losses[-1] < 0.5 * losses[0], losses
    assert history["val_accuracy"][-1] > 0.9, history
    # ...while the raw range's middle, on the same scaled data, is what the issue saw diverge
    assert adam5.lr_range_raw is not None
    assert math.sqrt(adam5.lr_range_raw[0] * adam5.lr_range_raw[1]) > 5 * lr


def _context(suggested: tuple[float, float], **kwargs: Any) -> Context:
    values: dict[str, Any] = {
        "lr": 1e-3,
        "weight_decay": 0.0,
        "optimizer": "Adam",
        "batch_size": 32,
        "epochs": 5,
        "chance": math.log(10),
        "reference_batch": 32,
        "space_lr": (1e-5, 1e-1),
        "space_rule": "sqrt",
        "suggested": suggested,
        "min_loss_lr": suggested[1] * 3,
    }
    return Context(**{**values, **kwargs})


def test_a_suggested_range_above_1_gets_a_loud_caveat() -> None:
    hot = {f.code: f for f in judge(_context((0.3, 3.0), lr=50.0), None)}
    info, high = hot["lr-range"], hot["lr-too-high"]
    for text in (info.evidence, high.advice):
        assert "CAUTION" in text and "above 1" in text, text
        assert "Adam above 1 almost never trains" in text
        assert "data or scale problem" in text and "input scales" in text
    calm = {f.code: f for f in judge(_context((0.01, 0.1), lr=5.0), None)}
    assert "CAUTION" not in calm["lr-range"].evidence + calm["lr-too-high"].advice
    assert lr_caveat(1.0) == "" and lr_caveat(1.01).startswith(" CAUTION")


def test_a_scaled_suggestion_above_1_is_still_cautioned() -> None:
    """The caveat holds for a suggestion measured on scaled inputs too: scaling is not the only
    data problem that can push the range test there."""
    ctx = _context(
        (0.2, 2.0), suggested_scaling="standard", raw_suggested=(1.0, 10.0), raw_min_loss_lr=30.0
    )
    info = {f.code: f for f in judge(ctx, None)}["lr-range"]
    assert "scaled with StandardScaler" in info.evidence
    assert "suggested 1..10: measured on raw data" in info.evidence
    assert "CAUTION: this range reaches lr 2, above 1" in info.evidence
