"""benchmarks/budget_split.py: where a tool's budget went, by the epochs each fit ran, read from a
results file (no training); NOTES section 22 quotes it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import budget_split

ROOT = Path(__file__).resolve().parents[1]


def _fit(examples: int, score: float | None = 0.5, diverged: bool = False) -> dict[str, Any]:
    return {"examples": examples, "score": score, "diverged": diverged}


def _record(tool: str, seed: int, fits: list[dict[str, Any]]) -> dict[str, Any]:
    # a task of 6 epochs of 100 examples: one full run is 600
    return {"task": "t", "tool": tool, "seed": seed, "full_run_examples": 600, "fits": fits}


def test_each_fit_lands_in_the_column_of_the_epochs_it_ran() -> None:
    fits = [
        _fit(32),  # a one-batch build step: < 1 epoch
        _fit(270, score=None),  # the range test: never scored on validation
        _fit(50, score=None, diverged=True),  # a divergence cut in the first epoch
        _fit(100),  # cut at the first rung
        _fit(300),  # cut at the second
        _fit(500),  # 5 of 6 epochs
        _fit(600),  # a full run
    ]
    got = budget_split.split(_record("a", 0, fits), epochs=6, cap=20)
    assert got == pytest.approx(
        {
            "no val": 0.45,
            "< 1 ep": 82 / 600,
            "1 ep": 1 / 6,
            "2-3 ep": 0.5,
            "4+ ep": 5 / 6,
            "full": 1.0,
        }
    )


def test_the_budget_is_counted_up_to_the_cap_and_the_medians_are_over_seeds() -> None:
    # 3 one-epoch fits then a full run, with a cap of 1 FRE: the full run counts 0.5 of itself
    capped = budget_split.split(_record("a", 0, [_fit(100)] * 3 + [_fit(600)]), epochs=6, cap=1)
    assert capped["1 ep"] == pytest.approx(0.5) and capped["full"] == pytest.approx(0.5)
    result = {
        "budget_fre": 2,
        "tasks": ["t"],
        "tools": ["a", "b"],
        "records": [_record("a", s, [_fit(100)] * (s + 1)) for s in range(3)],
    }
    found = budget_split.medians(result, {"t": 6}, ["a", "b"])
    assert found["t"]["a"]["1 ep"] == pytest.approx(2 / 6) and found["t"]["a"]["fits"] == 2
    assert "b" not in found["t"]  # no records: no row
    text = budget_split.table(found, k=3, cap=2)
    # the sub-epoch rung's ceiling: 2/3 of the one-epoch column
    assert text.splitlines()[-1].endswith("| 0.22 (11% of 2) |")
    with pytest.raises(ValueError, match="task 'u' of the results file has no epoch count"):
        budget_split.medians({**result, "tasks": ["u"]}, {"t": 6}, ["a"])


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    standard = str(ROOT / "benchmarks" / "results" / "standard.json")
    with pytest.raises(SystemExit):
        budget_split.main([standard, "--k", "1"])
    assert "--k must be at least 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        budget_split.main([standard, "--tools", "adamtune,nobody"])
    assert "--tools: nobody not in the file" in capsys.readouterr().err
