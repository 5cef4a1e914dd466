"""``adamtune.diagnose()``: every finding code on a crafted failing setup, and a healthy twin that
stays silent for that code; the healthy digits setup has no error or warning; strict, stable JSON;
the table; argument checks; ``adamtune doctor``.

Real TensorFlow on small models. Each diagnosis runs once per module (fixtures) and is shared by
the tests that read it; most skip the LR range test (``lr_range=False``) where no lr verdict is
under test.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import mlp, tiny_study

import adamtune
from adamtune.doctor import Diagnosis, Finding, diagnose
from adamtune.doctor._findings import CODES, WIDTH, jsonable

# About two minutes of small trainings: run with the heavier tests (`-m slow`, in CI).
pytestmark = pytest.mark.slow

Arrays = tuple[np.ndarray, np.ndarray]


# --- data and models ---------------------------------------------------------------------------


def standardize(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype("float32")


@pytest.fixture(scope="module")
def digits_std(digits: Arrays) -> Arrays:
    return standardize(digits[0]), digits[1]


def digits_mlp() -> Any:
    return mlp(64, 10)


def cancer_mlp() -> Any:
    return mlp(30, 1, "sigmoid")


def big_mlp() -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def deep(activation: str, layers: int = 8) -> Any:
    import keras

    return keras.Sequential(
        [keras.Input(shape=(64,))]
        + [keras.layers.Dense(32, activation=activation) for _ in range(layers)]
        + [keras.layers.Dense(10, activation="softmax")]
    )


def l2_mlp(strength: float) -> Any:
    import keras

    reg = keras.regularizers.L2(strength)
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu", kernel_regularizer=reg),
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=reg),
        ]
    )


def adam(lr: float) -> Any:
    import keras

    return keras.optimizers.Adam(lr)


def quiet(diagnosis: Diagnosis, code: str) -> None:
    assert code not in diagnosis, f"{code} on the healthy twin:\n{diagnosis.table()}"


def found(diagnosis: Diagnosis, code: str, severity: str | None = None) -> Finding:
    assert code in diagnosis, f"no {code}:\n{diagnosis.table()}"
    finding = diagnosis[code]
    if severity is not None:
        assert finding.severity == severity, diagnosis.table()
    assert finding.evidence and finding.advice
    json.dumps(finding.to_dict(), allow_nan=False)
    return finding


# --- the shared diagnoses ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy(digits_std: Arrays) -> Diagnosis:
    """The healthy setup: digits MLP, standardized features, Adam(1e-3), batch 32, the full
    doctor (LR range test included)."""
    return diagnose(digits_mlp, digits_std, optimizer=adam(1e-3), batch_size=32)


@pytest.fixture(scope="module")
def lr_high(digits_std: Arrays) -> Diagnosis:
    return diagnose(digits_mlp, digits_std, optimizer=adam(1.0))


@pytest.fixture(scope="module")
def lr_low(digits_std: Arrays) -> Diagnosis:
    return diagnose(digits_mlp, digits_std, optimizer=adam(1e-6))


@pytest.fixture(scope="module")
def collapsed(digits: Arrays) -> Diagnosis:
    """lr 1.0 on raw digits: the first steps kill every ReLU unit, the output is constant."""
    return diagnose(digits_mlp, digits, optimizer=adam(1.0), lr_range=False)


@pytest.fixture(scope="module")
def large_batch(digits_std: Arrays) -> Diagnosis:
    """Batch 512 with the batch-32 default lr 1e-3."""
    return diagnose(digits_mlp, digits_std, optimizer=adam(1e-3), batch_size=512)


@pytest.fixture(scope="module")
def overfit(digits_std: Arrays) -> Diagnosis:
    """60 samples, an 85k-parameter MLP, 20 epochs."""
    x, y = digits_std
    rows = np.random.default_rng(0).permutation(len(y))[:60]
    return diagnose(big_mlp, (x[rows], y[rows]), optimizer=adam(1e-2), epochs=20, lr_range=False)


# --- no false alarms ---------------------------------------------------------------------------


def test_the_healthy_digits_setup_has_no_error_or_warning(healthy: Diagnosis) -> None:
    assert healthy.ok, healthy.table()
    assert {f.severity for f in healthy.findings} <= {"info"}
    assert healthy.probes == {
        "data": "ran",
        "labels": "ran",
        "lr_range": "ran",
        "training": "ran",
        "remedies": "not needed",
    }
    assert healthy.lr_range is not None and 0 < healthy.lr_range[0] < healthy.lr_range[1]
    assert healthy["lr-range"].severity == "info"
    assert len(healthy.curves["val_loss"]) == 5
    assert healthy.curves["val_accuracy"][-1] > 0.5
    assert healthy.setup["learning_rate"] == pytest.approx(1e-3)
    assert healthy.setup["batch_size"] == 32
    assert healthy.setup["loss_name"] == "SparseCategoricalCrossentropy"
    assert healthy.setup["chance_loss"] == pytest.approx(math.log(10), rel=0.01)
    assert healthy.seconds > 0  # how fast: benchmarks/doctor_time.py (target under 20 s)


# --- data checks -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cancer_raw(cancer: Arrays) -> Diagnosis:
    return diagnose(cancer_mlp, cancer, epochs=2, lr_range=False)


@pytest.fixture(scope="module")
def cancer_std(cancer: Arrays) -> Diagnosis:
    return diagnose(cancer_mlp, (standardize(cancer[0]), cancer[1]), epochs=2, lr_range=False)


def test_unscaled_features(cancer_raw: Diagnosis, cancer_std: Diagnosis) -> None:
    finding = found(cancer_raw, "unscaled-features", "warning")
    assert finding.data["peak_ratio"] > 1e4
    assert "scaler='standard'" in finding.advice
    assert "ratio" in finding.evidence
    quiet(cancer_std, "unscaled-features")
    assert cancer_std.ok, cancer_std.table()


def test_nonfinite_data_is_reported_and_training_is_skipped(
    digits_std: Arrays, healthy: Diagnosis
) -> None:
    x, y = digits_std
    x = x.copy()
    x[3, 5], x[10, 7] = np.nan, np.inf
    diagnosis = diagnose(digits_mlp, (x, y))
    finding = found(diagnosis, "nonfinite-data", "error")
    assert finding.data["nan"]["x"] == 1 and finding.data["inf"]["x"] == 1
    assert "1 NaN" in finding.evidence
    assert diagnosis.probes["training"].startswith("skipped")
    assert diagnosis.probes["lr_range"].startswith("skipped")
    assert diagnosis.curves == {} and diagnosis.lr_range is None
    json.dumps(diagnosis.to_dict(), allow_nan=False)
    quiet(healthy, "nonfinite-data")


def test_nonfinite_labels_in_an_explicit_validation_set(digits_std: Arrays) -> None:
    x, y = digits_std
    y_val = y[1500:].astype("float32")
    y_val[0] = np.nan
    diagnosis = diagnose(digits_mlp, ((x[:1500], y[:1500]), (x[1500:], y_val)), lr_range=False)
    finding = found(diagnosis, "nonfinite-data", "error")
    assert finding.data["nan"]["y_val"] == 1
    assert finding.data["rows_affected"] == {"train": 0, "val": 1}


def test_class_imbalance(digits_std: Arrays) -> None:
    x, y = digits_std
    binary = (y == 0).astype("int64")
    rare, common = np.flatnonzero(binary == 1), np.flatnonzero(binary == 0)
    skewed = np.concatenate([common[:950], rare[:50]])  # 95/5
    fair = np.concatenate([common[:500], rare[:170]])  # 75/25
    model = lambda: mlp(64, 1, "sigmoid")  # noqa: E731
    diagnosis = diagnose(model, (x[skewed], binary[skewed]), epochs=2, lr_range=False)
    finding = found(diagnosis, "class-imbalance", "warning")
    assert finding.data["ratio"] < 0.1
    assert finding.data["majority_share"] == pytest.approx(0.95, abs=0.01)
    twin = diagnose(model, (x[fair], binary[fair]), epochs=2, lr_range=False)
    quiet(twin, "class-imbalance")


def test_tiny_dataset(overfit: Diagnosis, healthy: Diagnosis) -> None:
    finding = found(overfit, "tiny-dataset", "warning")
    assert finding.data["n_train"] == 48
    assert finding.data["params_per_sample"] > 100
    quiet(healthy, "tiny-dataset")


# --- labels against the loss and the output ----------------------------------------------------


@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1:UserWarning")
@pytest.mark.parametrize(
    ("case", "blocks"),
    [
        ("onehot-with-sparse-loss", True),
        ("labels-beyond-output-units", True),
        ("softmax-on-one-unit", True),
        ("regression-with-classification-loss", True),
        ("integer-labels-with-categorical-loss", True),
        ("sigmoid-over-10-classes", False),
        ("linear-output-without-from-logits", False),
    ],
)
def test_label_loss_mismatch(
    case: str, blocks: bool, digits_std: Arrays, cancer: Arrays, healthy: Diagnosis
) -> None:
    import keras
    from sklearn.datasets import load_diabetes

    x, y = digits_std
    onehot = keras.utils.to_categorical(y, 10)
    regression = load_diabetes()
    setups: dict[str, tuple[Any, Any, Any]] = {
        "onehot-with-sparse-loss": (digits_mlp, (x, onehot), "sparse_categorical_crossentropy"),
        "labels-beyond-output-units": (lambda: mlp(64, 5), (x, y), None),
        "softmax-on-one-unit": (lambda: mlp(30, 1, "softmax"), cancer, None),
        "regression-with-classification-loss": (
            lambda: mlp(10, 1, "sigmoid"),
            (regression.data.astype("float32"), regression.target.astype("float32")),
            "binary_crossentropy",
        ),
        "integer-labels-with-categorical-loss": (digits_mlp, (x, y), "categorical_crossentropy"),
        "sigmoid-over-10-classes": (lambda: mlp(64, 10, "sigmoid"), (x, y), None),
        "linear-output-without-from-logits": (
            lambda: mlp(64, 10, None),
            (x, y),
            "sparse_categorical_crossentropy",
        ),
    }
    model_fn, data, loss = setups[case]
    diagnosis = diagnose(model_fn, data, loss=loss, epochs=1, lr_range=False)
    finding = found(diagnosis, "label-loss-mismatch")
    assert finding.severity == ("error" if blocks or "logits" in case else "warning")
    assert diagnosis.probes["training"].startswith("skipped") is blocks
    quiet(healthy, "label-loss-mismatch")


def test_label_twins_stay_silent(digits_std: Arrays) -> None:
    """One-hot labels with the inferred loss; logits with from_logits=True."""
    import keras

    x, y = digits_std
    onehot = diagnose(digits_mlp, (x, keras.utils.to_categorical(y, 10)), epochs=1, lr_range=False)
    quiet(onehot, "label-loss-mismatch")
    assert onehot.setup["loss_name"] == "CategoricalCrossentropy"
    logits = diagnose(
        lambda: mlp(64, 10, None),
        (x, y),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=1,
        lr_range=False,
    )
    quiet(logits, "label-loss-mismatch")


# --- the learning rate -------------------------------------------------------------------------


def test_lr_too_high(lr_high: Diagnosis, healthy: Diagnosis) -> None:
    finding = found(lr_high, "lr-too-high", "error")
    assert finding.data["peak_loss"] > 10 * finding.data["first_loss"]
    assert "rose from" in finding.evidence and "steps" in finding.evidence
    assert lr_high.lr_range is not None
    assert "LR range test" in finding.advice
    quiet(healthy, "lr-too-high")
    # an unstable run's jumpy validation loss is not read as overfitting
    quiet(lr_high, "under-regularized")


def test_lr_too_low(lr_low: Diagnosis, healthy: Diagnosis) -> None:
    finding = found(lr_low, "lr-too-low", "warning")
    assert finding.data["drop"] < 0.1
    assert lr_low.lr_range is not None
    assert f"{lr_low.lr_range[0]:.2g}" in finding.advice
    quiet(healthy, "lr-too-low")


def test_batch_lr_mismatch(large_batch: Diagnosis, healthy: Diagnosis, digits_std: Arrays) -> None:
    finding = found(large_batch, "batch-lr-mismatch", "warning")
    assert finding.data["scaled_lr"] == pytest.approx(4e-3)  # 1e-3 x sqrt(512 / 32)
    assert "square-root" in finding.evidence
    quiet(large_batch, "lr-too-low")  # the batch size explains it
    quiet(healthy, "batch-lr-mismatch")
    # the twin: the same batch size with an lr inside the range test's suggestion
    assert large_batch.lr_range is not None
    low, high = large_batch.lr_range
    twin = diagnose(digits_mlp, digits_std, optimizer=adam(math.sqrt(low * high)), batch_size=512)
    assert twin.lr_range == pytest.approx(large_batch.lr_range)
    quiet(twin, "batch-lr-mismatch")
    assert twin.ok, twin.table()


# --- collapse, gradients, regularization -------------------------------------------------------


def test_collapsed_to_chance(collapsed: Diagnosis, healthy: Diagnosis) -> None:
    finding = found(collapsed, "collapsed-to-chance", "error")
    assert finding.data["data_loss"] == pytest.approx(math.log(10), rel=0.1)
    assert max(finding.data["dead_units"].values()) >= 0.9 or finding.data["output_spread"] < 1e-3
    assert "lr-too-high" in collapsed
    quiet(healthy, "collapsed-to-chance")


def test_vanishing_gradients(digits_std: Arrays, healthy: Diagnosis) -> None:
    sigmoid = diagnose(lambda: deep("sigmoid"), digits_std, epochs=2, lr_range=False)
    finding = found(sigmoid, "vanishing-gradients", "warning")
    assert finding.data["ratio"] < 1e-3
    assert len(finding.data["layers"]) == 9
    relu = diagnose(lambda: deep("relu"), digits_std, epochs=1, lr_range=False)
    quiet(relu, "vanishing-gradients")
    quiet(healthy, "vanishing-gradients")


def test_over_regularized_by_kernel_penalties(digits_std: Arrays, healthy: Diagnosis) -> None:
    heavy = diagnose(lambda: l2_mlp(1.0), digits_std, epochs=2, lr_range=False)
    finding = found(heavy, "over-regularized", "warning")
    assert finding.data["penalty_grad_ratio"] > 1
    light = diagnose(lambda: l2_mlp(1e-4), digits_std, epochs=1, lr_range=False)
    quiet(light, "over-regularized")
    quiet(healthy, "over-regularized")


def test_over_regularized_by_adamw_weight_decay(digits_std: Arrays) -> None:
    import keras

    heavy = diagnose(
        digits_mlp,
        digits_std,
        optimizer=keras.optimizers.AdamW(1e-2, weight_decay=10.0),
        epochs=1,
        lr_range=False,
    )
    finding = found(heavy, "over-regularized", "warning")
    assert finding.data["decay_ratio"] > 0.5
    assert "weight_decay" in finding.advice
    default = diagnose(digits_mlp, digits_std, optimizer="adamw", epochs=1, lr_range=False)
    assert default.setup["weight_decay"] == pytest.approx(0.004)
    quiet(default, "over-regularized")


def test_under_regularized(overfit: Diagnosis, healthy: Diagnosis) -> None:
    finding = found(overfit, "under-regularized", "warning")
    assert finding.data["end_val"] > 1.1 * finding.data["best_val"]
    assert finding.data["best_epoch"] < 20
    assert "EarlyStopping" in finding.advice
    quiet(healthy, "under-regularized")


def test_every_code_is_covered() -> None:
    """The codes this file crafts a failing case for: every code but the notes."""
    crafted = {
        "nonfinite-data",
        "label-loss-mismatch",
        "unscaled-features",
        "lr-too-high",
        "lr-too-low",
        "batch-lr-mismatch",
        "collapsed-to-chance",
        "vanishing-gradients",
        "over-regularized",
        "under-regularized",
        "class-imbalance",
        "tiny-dataset",
        # crafted in test_doctor_stability.py
        "warmup-needed",
        "exploding-gradients",
        # crafted in test_doctor_targets.py
        "unscaled-targets",
    }
    # The notes; stream-sample (a stream was diagnosed on its first samples) is tested in
    # test_stream_weights.py, token-ids in test_doctor_token_ids.py.
    notes = ("dead-units", "lr-range", "probe-failed", "stream-sample", "token-ids")
    assert crafted == {c for c in CODES if c not in notes}


def test_a_failing_lr_range_test_is_reported_and_the_rest_still_runs(
    digits_std: Arrays, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("sweep exploded")

    monkeypatch.setattr("adamtune.doctor._lr_range.lr_range_test", broken)
    diagnosis = diagnose(digits_mlp, digits_std, epochs=1)
    finding = found(diagnosis, "probe-failed", "info")
    assert "sweep exploded" in finding.evidence
    assert diagnosis.probes["lr_range"].startswith("failed: RuntimeError")
    assert diagnosis.probes["training"] == "ran" and diagnosis.lr_range is None
    assert diagnosis.ok


def test_verdicts_without_a_range_test_fall_back_to_the_space() -> None:
    """Synthetic probe numbers: lr-too-low against the space's floor; dead units as a note."""
    from adamtune.doctor._probes import TrainingProbe
    from adamtune.doctor._verdicts import Context, judge

    probe = TrainingProbe(
        history={"data_loss": [2.30, 2.30, 2.29], "val_data_loss": [2.31, 2.31, 2.30]},
        batch_losses=[2.3] * 30,
        start_data_loss=2.3,
        start_penalty=0.0,
        data_grad_norm=1.0,
        penalty_grad_norm=0.0,
        gradients=[],
        kernel_weight_rms=0.2,
        end_penalty=0.0,
        dead_units={"dense": 0.75},
        output_spread=0.05,
    )
    context = Context(
        lr=1e-6,
        weight_decay=0.0,
        optimizer="Adam",
        batch_size=32,
        epochs=3,
        chance=math.log(10),
        reference_batch=32,
        space_lr=(1e-5, 1e-1),
        space_rule="sqrt",
        suggested=None,
        min_loss_lr=None,
    )
    codes = {f.code: f for f in judge(context, probe)}
    assert set(codes) == {"lr-too-low", "dead-units"}
    assert "bottom of the space's learning-rate range 1e-05" in codes["lr-too-low"].evidence
    assert codes["dead-units"].severity == "info"


# --- output ------------------------------------------------------------------------------------


def _keys(value: Any) -> Any:
    """The key structure of a JSON value (dict keys in order; lists by their items' shapes)."""
    if isinstance(value, dict):
        return [(k, _keys(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_keys(v) for v in value]
    return type(value).__name__ if not isinstance(value, int | float) else "number"


def test_json_is_strict_and_stable(healthy: Diagnosis, digits_std: Arrays) -> None:
    again = diagnose(digits_mlp, digits_std, optimizer=adam(1e-3), batch_size=32)
    first, second = healthy.to_dict(), again.to_dict()
    text = json.dumps(first, allow_nan=False)
    assert json.loads(text)["ok"] is True
    json.dumps(second, allow_nan=False)
    assert first["codes"] == second["codes"]
    assert list(first) == [
        "ok",
        "codes",
        "findings",
        "lr_range",
        "lr_range_scaling",
        "lr_range_raw",
        "setup",
        "curves",
        "probes",
        "lr_range_test",
        "lr_range_test_raw",
        "seconds",
    ]
    assert _keys(first) == _keys(second)
    assert first["lr_range"] == pytest.approx(second["lr_range"])
    assert first["curves"]["loss"] == pytest.approx(second["curves"]["loss"], rel=1e-3)


def test_json_with_nonfinite_values_stays_strict() -> None:
    finding = Finding("lr-too-high", "error", "e", "a", {"peak": math.nan, "x": (1.0, math.inf)})
    assert finding.to_dict()["data"] == {"peak": "nan", "x": [1.0, "inf"]}
    assert jsonable({"a": np.float32(2.0), "b": np.int64(3), "c": np.array([1.0, np.nan])}) == {
        "a": 2.0,
        "b": 3,
        "c": [1.0, "nan"],
    }


def test_table_lists_worst_first_within_100_columns(collapsed: Diagnosis) -> None:
    table = collapsed.table()
    lines = table.splitlines()
    assert all(len(line) <= WIDTH for line in lines), table
    severities = [f.severity for f in collapsed.findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert severities[0] == "error"
    rows = [line.split()[:2] for line in lines if line[:1] != " " and len(line.split()) > 1]
    listed = [(s, c) for s, c in rows if c in CODES]
    assert listed == [(f.severity, f.code) for f in collapsed.findings]
    errors = sum(s == "error" for s in severities)
    assert f"{errors} errors" in table and "fix:" in table


def test_finding_checks_its_code_and_severity() -> None:
    with pytest.raises(ValueError, match="unknown code 'slow'"):
        Finding("slow", "error", "e", "a")
    with pytest.raises(ValueError, match="`severity` must be one of error, warning, info"):
        Finding("lr-too-high", "fatal", "e", "a")


# --- argument checks ---------------------------------------------------------------------------


def never_called() -> Any:
    raise AssertionError("model_fn must not be called when an argument is wrong")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, r"`batch_size` must be a positive integer.*batch_size=0"),
        ({"epochs": "5"}, TypeError, r"`epochs` must be a positive integer.*'5'"),
        ({"seed": True}, TypeError, r"`seed` must be an int. Received: seed=True"),
        ({"lr_range": "yes"}, TypeError, r"`lr_range` must be True or False.*'yes'"),
        ({"optimizer": 0.01}, TypeError, r"`optimizer` must be None.*optimizer=0.01 of type float"),
        ({"optimizer": "nadamw"}, ValueError, r"`optimizer` must be None.*'nadamw'"),
        ({"optimizer": {"lr_max": 1}}, ValueError, r"`optimizer` must be None.*lr_max"),
        ({"optimizer": {"learning_rate": -1.0}}, ValueError, r"positive, finite learning rate"),
        (
            {"loss": "not_a_loss"},
            ValueError,
            r"`loss` is not a Keras loss\. Received: loss='not_a_loss'.*pass None to infer",
        ),
        ({"space": "no-such-space"}, ValueError, r"no-such-space"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    kwargs: dict[str, Any], error: type[Exception], match: str, digits_std: Arrays
) -> None:
    with pytest.raises(error, match=match):
        diagnose(never_called, digits_std, **kwargs)


def test_bad_model_fn_and_data_forms(digits_std: Arrays) -> None:
    with pytest.raises(TypeError, match=r"`model_fn` must be a callable.*Received: 3"):
        diagnose(3, digits_std)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`data` must be \(x, y\).*Received: str"):
        diagnose(never_called, "digits.csv")


def test_package_exports() -> None:
    import adamtune.doctor as package

    assert package.diagnose is diagnose and adamtune.diagnose is diagnose
    assert package.Diagnosis is Diagnosis and package.Finding is Finding


# --- adamtune doctor ---------------------------------------------------------------------------

TARGETS = """
import numpy as np


def build_model():
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def load_data():
    from sklearn.datasets import load_digits

    d = load_digits()
    x = d.data.astype("float32")
    std = x.std(axis=0)
    return ((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype("float32"), d.target
"""


def _parser() -> argparse.ArgumentParser:
    from adamtune.cli._doctor import add_parser

    parser = argparse.ArgumentParser(prog="adamtune")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("doctor") / "doctor_targets.py"
    path.write_text(TARGETS)
    return path


def test_cli_doctor_prints_json_and_exits_0_with_findings(
    targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["doctor", f"{targets}:build_model", "--data", f"{targets}:load_data"]
    args = _parser().parse_args([*argv, "--lr", "1.0", "--epochs", "2", "--no-lr-range", "--json"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and "lr-too-high" in report["codes"]
    assert report["setup"]["learning_rate"] == 1.0 and report["setup"]["epochs"] == 2
    assert report["probes"]["lr_range"] == "skipped"


def test_cli_doctor_prints_the_table(targets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["doctor", f"{targets}:build_model", "--data", f"{targets}:load_data"]
    args = _parser().parse_args([*argv, "--epochs", "1", "--no-lr-range", "--batch-size", "64"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("adamtune doctor: Adam lr=0.001, batch size 64, 1 epoch(s)")
    assert all(len(line) <= WIDTH for line in out.splitlines())


def test_cli_doctor_refuses_a_bad_lr_and_target(targets: Path) -> None:
    parser = _parser()
    argv = ["doctor", f"{targets}:build_model", "--data", f"{targets}:load_data"]
    args = parser.parse_args([*argv, "--lr", "-0.1"])
    with pytest.raises(ValueError, match=r"--lr must be a positive, finite learning rate.*-0.1"):
        args.func(args)
    args = parser.parse_args(["doctor", f"{targets}:nope", "--data", f"{targets}:load_data"])
    with pytest.raises(ValueError, match=r"MODEL: .* has no function 'nope'"):
        args.func(args)


def test_cli_doctor_stores_its_findings_with_a_study_for_the_report(
    targets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import optuna

    from adamtune.report import write_report

    storage = f"sqlite:///{tmp_path / 'd.db'}"
    argv = ["doctor", f"{targets}:build_model", "--data", f"{targets}:load_data"]
    args = _parser().parse_args([*argv, "--storage", storage, "--study", "absent"])
    with pytest.raises(ValueError, match=r"no study 'absent' in this storage"):
        args.func(args)  # refused before the probes run
    result = tiny_study(storage, "s")
    quick = ["--lr", "1.0", "--epochs", "2", "--no-lr-range", "--storage", storage, "--study", "s"]
    args = _parser().parse_args([*argv, *quick])
    assert args.func(args) == 0
    assert "stored with study 's'" in capsys.readouterr().err
    stored = optuna.load_study(study_name="s", storage=storage).user_attrs["adamtune_diagnosis"]
    assert "lr-too-high" in stored["codes"]
    page = write_report(result, tmp_path / "r.html").read_text()
    assert "lr-too-high" in page and "No diagnosis was run" not in page
