"""benchmarks/rung_fidelity.py: how well a rung inside the first epoch, the first epoch's and a
learning curve's rung rank configs against their final scores; NOTES section 22 quotes it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import rung_fidelity


def test_a_rung_ranked_as_the_final_scores_keeps_the_best_and_an_inverted_one_loses_it() -> None:
    final = [0.1 * i for i in range(10)]
    same = rung_fidelity.rung_quality([v / 2 for v in final], final)
    assert same["rho"] == pytest.approx(1.0)
    assert same["kept_best"] and same["top10_kept"] == 1.0 and same["regret"] == 0.0
    inverted = rung_fidelity.rung_quality(final[::-1], final)
    assert inverted["rho"] == pytest.approx(-1.0)
    assert not inverted["kept_best"] and inverted["regret"] == pytest.approx(0.9 - 0.3)
    # no finite score at the rung ranks last: the only None is the final best, so it is lost
    lost = rung_fidelity.rung_quality([*final[:-1], None], final)
    assert not lost["kept_best"] and lost["regret"] == pytest.approx(0.9 - 0.8)


def test_rung_values_read_the_sub_epoch_marks_the_epochs_and_the_extrapolated_curve() -> None:
    run = {"sub_epoch": [0.2, 0.4], "epochs": [0.5, 0.6, 0.7, 0.72, 0.71, 0.73]}
    got = rung_fidelity.rung_values(run, k=3, epochs=6)
    assert got["1/3 ep"] == 0.2 and got["2/3 ep"] == 0.4 and got["1 ep"] == 0.5
    assert got["3 ep"] == 0.7 and got["3 ep curve"] == pytest.approx(0.7 + 0.1 * 3)
    assert rung_fidelity.final_score(run) == 0.73
    # a run stopped by the NaN rule after one epoch: the later rungs have no value
    stopped = rung_fidelity.rung_values({"sub_epoch": [0.3], "epochs": [0.4]}, k=3, epochs=6)
    assert stopped["2/3 ep"] is None and stopped["3 ep"] is None and stopped["3 ep curve"] is None
    # a 3-epoch task has no rung at epoch 3 short of its end
    assert "3 ep" not in rung_fidelity.rung_values(run, k=3, epochs=3)


def test_the_probe_marks_split_the_first_epoch_into_k_parts() -> None:
    assert rung_fidelity.SubEpochScores(3, 34).marks == [12, 23]
    assert rung_fidelity.SubEpochScores(3, 2).marks == [1, 2]  # never past the epoch's batches
    assert rung_fidelity.SubEpochScores(4, 1).marks == [1]


def test_a_real_grid_point_trains_with_scores_inside_its_first_epoch() -> None:
    entry = rung_fidelity.train_grid("digits", seed=0, k=3, limit=2, log=lambda _: None)
    assert entry["task"] == "digits" and entry["epochs"] == 6 and len(entry["runs"]) == 2
    for run in entry["runs"]:
        assert len(run["sub_epoch"]) == 2 and len(run["epochs"]) == 6
        assert all(v is not None and 0.0 <= v <= 1.0 for v in run["sub_epoch"] + run["epochs"])
    report = rung_fidelity.report({"tasks": [entry]})
    assert "| digits | 1/3 ep | 1/3 |" in report and "| digits | 3 ep curve | 3 |" in report


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        rung_fidelity.main(["--k", "1", "--out", "x.json"])
    assert "--k must be at least 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        rung_fidelity.main(["--tasks", "digits"])
    assert "--out is required" in capsys.readouterr().err
