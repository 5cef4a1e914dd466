"""benchmarks/packing.py: K trials trained one after another, in one model traced once and reset
in place, and side by side in one packed model and one ``fit``; NOTES section 25 quotes it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import packing


def test_the_learning_rates_span_the_range_in_log() -> None:
    assert packing.learning_rates(1) == [packing.LR_RANGE[0]]
    rates = packing.learning_rates(3)
    assert rates[0] == pytest.approx(3e-4) and rates[-1] == pytest.approx(3e-2)
    assert rates[1] == pytest.approx(3e-3)  # the geometric middle


@pytest.mark.parametrize("task", ["digits", "regression-1e4"])
def test_a_packed_or_reused_member_trains_exactly_as_its_sequential_twin(
    task: str, tmp_path: Path
) -> None:
    """Each member of the pack has its own Adam at its own learning rate, and a reused model's
    Adam starts each member afresh: the same initial weights and batches give the same best
    validation score as the member trained alone. With one learning rate for the pack, or Adam's
    moments carried from one member to the next, they would not match."""
    weights = tmp_path / "w.npz"
    packing.make_initial_weights(task, 3, weights)
    alone = packing.sequential_leg(task, 3, weights, epochs=2)
    reused = packing.reused_leg(task, 3, weights, epochs=2)
    packed = packing.packed_leg(task, 3, weights, epochs=2)
    assert reused["scores"] == pytest.approx(alone["scores"], abs=1e-5)
    assert packed["scores"] == pytest.approx(alone["scores"], abs=1e-5)
    assert len(set(round(s, 4) for s in alone["scores"])) == 3  # the rates trained differently


def test_a_reset_in_place_zeroes_adams_state_and_sets_the_rate() -> None:
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.fit(np.ones((8, 3)), np.zeros((8, 2)), epochs=1, verbose=0)
    fresh = [np.full(w.shape, 0.5, dtype="float32") for w in model.get_weights()]
    packing.reset_in_place(model, fresh, 0.003)
    opt = model.optimizer
    assert float(opt.learning_rate) == pytest.approx(0.003)
    assert int(opt.iterations) == 0
    state = [v for v in opt.variables if not v.path.endswith("learning_rate")]
    assert len(state) == 5  # the step count, and a momentum and a velocity per weight
    assert all(not np.any(np.asarray(v)) for v in state)
    assert all(np.all(w == 0.5) for w in model.get_weights())


def test_the_summary_takes_medians_and_the_largest_score_difference() -> None:
    legs = {
        "sequential": [
            {"wall_s": 4.0, "scores": [0.5, 0.6]},
            {"wall_s": 6.0, "scores": [0.5, 0.6]},
            {"wall_s": 5.0, "scores": [0.5, 0.6]},
        ],
        "packed": [
            {"wall_s": 1.0, "scores": [0.5, 0.6]},
            {"wall_s": 3.0, "scores": [0.5, 0.63]},
            {"wall_s": 2.0, "scores": [0.5, 0.6]},
        ],
    }
    rows = packing.summarize_pack(legs)
    assert list(rows) == ["sequential", "packed"]  # a file from before the reused leg
    assert rows["sequential"] == {"wall_s": 5.0, "ratio": 1.0, "max_score_diff": 0.0}
    assert rows["packed"]["wall_s"] == 2.0
    assert rows["packed"]["ratio"] == pytest.approx(2.5)  # ratios 4, 2, 2.5
    assert rows["packed"]["max_score_diff"] == pytest.approx(0.03)
    result = {
        "rounds": 3,
        "batch_size": 32,
        "threads": 1,
        "tasks": {"digits": {"epochs": 6, "packs": {"2": legs}}},
    }
    assert "| digits | 6 | 2 | packed | 2.00 | 1.00 | 2.50 | 0.0300 |" in packing.report(result)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--packs", "4,0"],
            r"--packs takes comma-separated integers of at least 1\. Received: '4,0'",
        ),
        (["--packs", "four"], r"--packs .* Received: 'four'"),
        (["--rounds", "0"], r"--rounds and --threads must be at least 1\. Received: 0, 1"),
        (["--tasks", "digits,cifar"], r"--tasks: unknown cifar; known: digits"),
    ],
)
def test_bad_arguments_are_refused_before_any_training(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.json"
    with pytest.raises(SystemExit):
        packing.main([*argv, "--out", str(out)])
    assert re.search(message, capsys.readouterr().err)
    assert not out.exists()


def test_measuring_needs_an_out_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        packing.main(["--tasks", "digits"])
    assert "--out is required to measure" in capsys.readouterr().err
