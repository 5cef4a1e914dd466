"""The LR range test: a real sweep on digits, its suggestion against a real search, the plot, the
JSON, argument checks and ``adamtune lr-find``."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import DIGITS_EXAMPLE, mlp

from adamtune.doctor import LRRange, lr_range_test
from adamtune.doctor._lr_range import centered_average, suggest_range

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def digits_mlp() -> Any:
    return mlp(64, 10)


@pytest.fixture(scope="module")
def sweep(digits: tuple[np.ndarray, np.ndarray]) -> LRRange:
    """The default sweep (1e-7 .. 10, 100 steps, batch 32) on standardized digits."""
    return lr_range_test(digits_mlp, digits, scaling="standard", seed=0)


def test_suggested_range_brackets_the_best_learning_rate_of_a_real_sweep(
    sweep: LRRange, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    """Criterion: the learning rate with the lowest validation loss after 4 epochs, among 1e-4,
    1e-3, 1e-2 and 1e-1 (same model, split, scaling and batch size), lies inside
    [low, high] itself (not merely within a factor of 3)."""
    import keras

    from adamtune.data import prepare_data, scale_split

    prepared = prepare_data(digits, seed=0)
    x_train, x_val = scale_split("standard", prepared.x_train, prepared.x_val)
    val_loss: dict[float, float] = {}
    for lr in (1e-4, 1e-3, 1e-2, 1e-1):
        keras.utils.set_random_seed(0)
        model = digits_mlp()
        model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
        history = model.fit(
            x_train,
            prepared.y_train,
            batch_size=32,
            epochs=4,
            validation_data=(x_val, prepared.y_val),
            verbose=0,
        )
        val_loss[lr] = min(history.history["val_loss"])
        keras.backend.clear_session()
    best = min(val_loss, key=lambda lr: val_loss[lr])
    assert val_loss[best] < 0.5 * max(val_loss.values())  # the sweep does tell them apart
    low, high = sweep.suggested
    assert 0 < low < high
    assert low <= best <= high, (sweep.suggested, val_loss)
    # The documented rule: high = min_loss_lr / 3, low = high / 10.
    assert high == pytest.approx(sweep.min_loss_lr / 3)
    assert low == pytest.approx(high / 10)


def test_the_sweep_records_every_step_and_stops_when_the_loss_diverges(sweep: LRRange) -> None:
    n = sweep.steps
    assert len(sweep.losses) == len(sweep.smoothed) == n
    # 1437 training samples make 44 batches of 32: the sweep cycled over them.
    assert 44 < n < 100
    assert sweep.stopped_early
    assert "diverged" in sweep.reason
    assert sweep.lrs[0] == pytest.approx(1e-7)
    assert sweep.lrs[-1] < 10.0
    ratios = np.diff(np.log(sweep.lrs))
    assert np.allclose(ratios, math.log(1e8) / 99)  # geometric, on the 100-step grid
    # fastai's smoothing: the bias-corrected exponential average of the raw losses.
    average, expected = 0.0, []
    for i, loss in enumerate(sweep.losses):
        average = 0.98 * average + 0.02 * loss
        expected.append(average / (1 - 0.98 ** (i + 1)))
    assert np.allclose(sweep.smoothed, expected)
    assert sweep.smoothed[-1] > 4.0 * min(sweep.smoothed)
    assert sweep.loss == "SparseCategoricalCrossentropy"
    assert sweep.batch_size == 32


def test_plot_writes_a_valid_png(sweep: LRRange, tmp_path: Path) -> None:
    from matplotlib import image

    path = tmp_path / "out" / "lr.png"
    path.parent.mkdir()
    path.write_text("old")  # replaced whole
    assert sweep.plot(path) == path
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    pixels = image.imread(path)
    assert pixels.shape[0] >= 300 and pixels.shape[1] >= 500
    assert pixels.std() > 0.01  # something was drawn
    assert [p.name for p in path.parent.iterdir()] == ["lr.png"]  # no temporary file left


def test_to_dict_is_strict_json(sweep: LRRange) -> None:
    out = json.loads(json.dumps(sweep.to_dict(), allow_nan=False))
    assert out["steps"] == sweep.steps and out["stopped_early"] is True
    assert out["suggested"] == list(sweep.suggested)
    blown = LRRange(
        lrs=(1e-3, 1e-2, 1e-1),
        losses=(1.0, math.inf, math.nan),
        smoothed=(1.0, math.inf, math.nan),
        suggested=(1e-3, 1e-3),
        min_loss_lr=1e-3,
        stopped_early=True,
        reason="the loss became nan at lr=0.1",
    )
    out = json.loads(json.dumps(blown.to_dict(), allow_nan=False))
    assert out["losses"] == [1.0, "inf", "nan"]
    assert out["smoothed"] == [1.0, "inf", "nan"]


def test_suggest_range_finds_the_minimum_of_a_noisy_curve_without_lag() -> None:
    rng = np.random.default_rng(0)
    lrs = np.geomspace(1e-6, 1.0, 100)
    clean = 2.0 - 1.5 * np.exp(-((np.log10(lrs) + 2.0) ** 2) / 0.5)  # lowest at lr = 1e-2
    noisy = clean + rng.normal(0.0, 0.1, lrs.size)
    (low, high), at = suggest_range(lrs, noisy)
    assert 10**-2.3 < at < 10**-1.7
    assert high == pytest.approx(at / 3) and low == pytest.approx(high / 10)
    # A loss that blows up to NaN: the suggestion uses the finite part only.
    blown = np.concatenate([noisy[:80], [50.0, math.nan]])  # lrs[80] is about 0.07
    assert centered_average(blown).size == 81
    assert 10**-2.3 < suggest_range(lrs[:82], blown)[1] < 10**-1.7
    # NaN from the first step: the first learning rate is all there is.
    (low, high), at = suggest_range(lrs[:3], [math.nan, math.nan, math.nan])
    assert low == high == at == lrs[0]


class _ScriptedModel:
    """Stands in for a compiled Keras model: train_on_batch returns the scripted losses."""

    def __init__(self, losses: list[float]) -> None:
        self.optimizer = argparse.Namespace(learning_rate=None)
        self.script = iter(losses)
        self.seen: list[float] = []

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> dict[str, float]:
        self.seen.append(self.optimizer.learning_rate)
        return {"loss": next(self.script)}


def _scripted_sweep(losses: list[float], factor: float = 4.0) -> tuple[Any, ...]:
    from adamtune.doctor._lr_range import _sweep

    model = _ScriptedModel(losses)
    lrs = np.geomspace(1e-4, 1.0, len(losses))
    x, y = np.zeros((8, 2), np.float32), np.zeros(8)
    out = _sweep(model, x, y, lrs, batch_size=4, beta=0.5, factor=factor, seed=0)
    assert model.seen == pytest.approx(list(lrs[: len(out[0])]))  # one lr per step, in order
    return out


def test_the_sweep_stops_on_a_non_finite_loss_and_on_divergence() -> None:
    losses, smoothed, reason, stopped = _scripted_sweep([2.0, 1.0, 1.0, math.nan, 1.0])
    assert stopped and len(losses) == 4 and "the loss became nan at lr=" in reason
    assert math.isnan(smoothed[-1])
    losses, _, reason, stopped = _scripted_sweep([1.0, 1.0, 1.0, 3.0, 80.0, 1.0])
    assert stopped and len(losses) == 5 and "diverged" in reason
    # diverge_factor=inf never stops on a rising loss; nor does a loss whose best is <= 0.
    assert _scripted_sweep([1.0, 1.0, 50.0, 500.0], factor=math.inf)[3] is False
    assert _scripted_sweep([-1.0, -1.0, 5.0, 50.0])[3] is False
    # Divergence on the very last step still counts as stopping early.
    losses, _, reason, stopped = _scripted_sweep([1.0, 1.0, 1.0, 100.0])
    assert stopped and len(losses) == 4 and "diverged" in reason


def _never_called() -> Any:
    raise AssertionError("model_fn must not be called when an argument is wrong")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, r"`batch_size` must be a positive integer.*batch_size=0"),
        ({"batch_size": 8.0}, TypeError, r"`batch_size` must be a positive integer"),
        ({"min_lr": 0.0}, ValueError, r"`min_lr` must be a positive, finite.*min_lr=0.0"),
        ({"min_lr": -1e-3}, ValueError, r"`min_lr` must be a positive"),
        ({"max_lr": math.inf}, ValueError, r"`max_lr` must be a positive, finite.*max_lr=inf"),
        ({"max_lr": math.nan}, ValueError, r"`max_lr` must be a positive, finite"),
        ({"max_lr": "1"}, TypeError, r"`max_lr` must be a number.*of type str"),
        (
            {"min_lr": 1.0, "max_lr": 0.1},
            ValueError,
            r"`min_lr` must be below `max_lr`.*min_lr=1.0",
        ),
        ({"min_lr": 0.1, "max_lr": 0.1}, ValueError, r"`min_lr` must be below `max_lr`"),
        ({"steps": 9}, ValueError, r"`steps` must be an integer >= 10.*steps=9"),
        ({"steps": 50.0}, TypeError, r"`steps` must be a positive integer.*steps=50.0"),
        ({"steps": True}, TypeError, r"`steps` must be a positive integer"),
        ({"smoothing": 1.0}, ValueError, r"`smoothing` must be in \[0, 1\).*smoothing=1.0"),
        ({"smoothing": -0.1}, ValueError, r"`smoothing` must be in \[0, 1\)"),
        ({"diverge_factor": 1.0}, ValueError, r"`diverge_factor` must be > 1.*diverge_factor=1.0"),
        ({"diverge_factor": None}, TypeError, r"`diverge_factor` must be a number"),
        ({"scaling": "zscore"}, ValueError, r"`scaling` must be one of 'none'.*scaling='zscore'"),
        ({"seed": 1.5}, TypeError, r"`seed` must be an int.*seed=1.5"),
        ({"space": "no-such-space"}, ValueError, r"no-such-space"),
        ({"loss": "not_a_loss"}, ValueError, r"`loss` is not a Keras loss.*not_a_loss"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(
    digits: tuple[np.ndarray, np.ndarray], kwargs: dict[str, Any], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        lr_range_test(_never_called, digits, **kwargs)


def test_model_fn_must_be_callable(digits: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(TypeError, match=r"`model_fn` must be a callable"):
        lr_range_test("model", digits)


def _lr_find_parser() -> argparse.ArgumentParser:
    from adamtune.cli._lr_find import add_parser

    parser = argparse.ArgumentParser(prog="adamtune")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return parser


def _run(*argv: str) -> int:
    args = _lr_find_parser().parse_args(["lr-find", *argv])
    return int(args.func(args))


TARGETS = (f"{DIGITS_EXAMPLE}:build_model", "--data", f"{DIGITS_EXAMPLE}:load_data")


def test_cli_prints_the_range_and_writes_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "lr.png"
    assert _run(*TARGETS, "--scaling", "standard", "--plot", str(plot)) == 0
    out = capsys.readouterr().out
    assert "suggested learning rate range:" in out
    assert "lowest loss at lr=" in out
    assert "stopped early: the loss diverged" in out
    assert "steps run:" in out
    assert f"wrote {plot}" in out
    assert plot.read_bytes()[:8] == PNG_MAGIC


def test_cli_json_is_the_result_dict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*TARGETS, "--scaling", "standard", "--steps", "30", "--max-lr", "1", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["steps"] <= 30 and len(out["lrs"]) == out["steps"]
    low, high = out["suggested"]
    assert 1e-7 <= low < high <= 1.0
    assert out["model"] == "build_model"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (("--steps", "5"), r"`steps` must be an integer >= 10"),
        (("--min-lr", "1", "--max-lr", "0.1"), r"`min_lr` must be below `max_lr`"),
        (("--plot", "curve.svg"), r"--plot must name a .png file"),
    ],
)
def test_cli_errors_are_value_errors(argv: tuple[str, ...], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _run(*TARGETS, *argv)


def test_cli_bad_target_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"MODEL: .* has no function 'nope'"):
        _run(f"{DIGITS_EXAMPLE}:nope", "--data", f"{DIGITS_EXAMPLE}:load_data")
