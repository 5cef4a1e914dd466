"""``unscaled-targets``: the doctor's finding on a regression whose targets are far from unit
scale, its silent twin on standardized targets, and the training behind its advice."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from adamtune.doctor import diagnose

Arrays = tuple[np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def friedman() -> Arrays:
    """Friedman #1 (scikit-learn's generator, no download), targets standardized."""
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    return x.astype("float32"), ((y - y.mean()) / y.std()).astype("float32")


def regressor() -> Any:
    import keras

    return keras.Sequential(
        [keras.Input((10,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)]
    )


def test_targets_far_from_unit_scale_are_reported_and_standardized_ones_are_not(
    friedman: Arrays,
) -> None:
    x, y = friedman
    big = 1e4 + 2e3 * y  # the benchmark's regression-1e4: about 1e4 +- 2e3
    diagnosis = diagnose(regressor, (x, big), epochs=1, lr_range=False)
    finding = diagnosis["unscaled-targets"]
    assert finding.severity == "warning"
    assert finding.data["rms_max"] == pytest.approx(1.02e4, rel=0.01)
    assert finding.data["mean"] == pytest.approx(1e4, rel=0.01) and finding.data["outputs"] == 1
    assert "The targets have a root-mean-square magnitude of 1e+04 (mean 1e+04" in (
        finding.evidence
    )
    assert "StandardScaler" in finding.advice and "inverse_transform" in finding.advice
    assert "unscaled-features" not in diagnosis  # the inputs are in 0..1
    twin = diagnose(regressor, (x, y), epochs=1, lr_range=False)
    assert "unscaled-targets" not in twin, twin.table()
    at_ten = diagnose(regressor, (x, 9.0 * y), epochs=1, lr_range=False)
    assert "unscaled-targets" not in at_ten  # RMS 9, under the threshold of 10


def test_the_widest_of_several_target_columns_is_named(friedman: Arrays) -> None:
    import keras

    x, y = friedman
    two = np.stack([y, 50.0 * y], axis=1)

    def model() -> Any:
        return keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)])

    finding = diagnose(model, (x, two), epochs=1, lr_range=False)["unscaled-targets"]
    assert finding.data["column"] == 1 and finding.data["outputs"] == 2
    assert finding.evidence.startswith("Target column 1 has a root-mean-square magnitude of 50")


def test_classification_labels_are_never_judged_as_targets() -> None:
    import keras
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)

    def model() -> Any:
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(100, activation="softmax")])

    # class ids 90..99 of 100 classes: a root-mean-square of about 95, yet labels, not targets
    ids = y + 90
    diagnosis = diagnose(model, ((x / 16).astype("float32"), ids), epochs=1, lr_range=False)
    assert diagnosis.setup["target"] != "regression"
    assert "unscaled-targets" not in diagnosis, diagnosis.table()


@pytest.mark.slow  # three 10-epoch fits, about 15 s
def test_the_advice_holds_adam_at_1e_3_fails_on_large_targets_and_trains_on_standard_ones(
    friedman: Arrays,
) -> None:
    """The training behind the advice (the README quotes these numbers): the same MLP, seed and
    Adam(1e-3), 10 epochs of batch 32, validation R^2 with targets standardized and at 100x and
    1e4x that scale."""
    import keras
    from sklearn.model_selection import train_test_split

    x, y = friedman
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.25, random_state=0)
    r2 = {}
    for scale in (1.0, 100.0, 1e4):
        keras.utils.set_random_seed(0)
        model = regressor()
        model.compile(keras.optimizers.Adam(1e-3), "mse")
        history = model.fit(
            xt, yt * scale, validation_data=(xv, yv * scale), epochs=10, batch_size=32, verbose=0
        )
        r2[scale] = 1 - min(history.history["val_loss"]) / float(np.var(yv * scale))
    print({k: round(v, 3) for k, v in r2.items()})
    assert r2[1.0] > 0.65
    assert r2[100.0] < r2[1.0] - 0.4
    assert r2[1e4] < 0.05


def test_the_benchmarks_regression_1e4_task_is_flagged() -> None:
    """The README says so: the benchmark's task whose targets are about 1e4."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import tasks

    task = tasks.get("regression-1e4")
    s = task.splits(0)
    diagnosis = diagnose(
        lambda: task.model_fn(tasks.PeerHP("none", 0.0, False)),
        ((s.x_train, s.y_train), (s.x_val, s.y_val)),
        epochs=1,
        lr_range=False,
    )
    assert diagnosis["unscaled-targets"].data["mean"] == pytest.approx(1e4, rel=0.05)
