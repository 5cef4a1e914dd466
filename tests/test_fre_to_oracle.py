"""benchmarks/fre_to_oracle.py: FRE to a fraction of the oracle's best score, the issue's own
reading of time to target, from a results file (no training); NOTES section 20 quotes it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fre_to_oracle

ROOT = Path(__file__).resolve().parents[1]


def _record(tool: str, seed: int, scores: list[float | None]) -> dict[str, Any]:
    """One run whose fits each spend one full run's examples and score as given."""
    fits = [{"examples": 100, "score": s, "end": float(i)} for i, s in enumerate(scores)]
    return {"task": "t", "tool": tool, "seed": seed, "full_run_examples": 100, "fits": fits}


def test_the_target_is_a_fraction_of_each_seeds_best_grid_score() -> None:
    oracle = {"t": {str(s): {"scores": [0.5, None, 1.0, float("nan")]} for s in range(3)}}
    result = {
        "budget_fre": 4,
        "tasks": ["t"],
        "tools": ["adamtune", "peer", "absent"],
        "records": [
            # reaches 0.99 at its 2nd fit in seeds 0 and 1, never in seed 2
            *(_record("adamtune", s, [0.9, 0.995, 0.99]) for s in (0, 1)),
            _record("adamtune", 2, [0.9, 0.98]),
            # 0.99 reached only after the cap (5th fit): censored in every seed
            *(_record("peer", s, [0.5, 0.5, 0.5, 0.5, 0.999]) for s in range(3)),
        ],
    }
    found = fre_to_oracle.medians(result, oracle, 0.99)
    assert found == {"t": {"adamtune": (2.0, 2, 3), "peer": (None, 0, 3)}}
    assert fre_to_oracle.medians(result, oracle, 0.9)["t"]["adamtune"] == (1.0, 3, 3)
    text = fre_to_oracle.table(result, oracle, 0.99)
    assert "| t | 2.00 (2/3) | > 4 (0/3) | met |" in text
    assert "absent" not in text
    judged = fre_to_oracle.table(result, oracle, 0.99, judged="peer")
    assert (
        "| peer <= 3 FRE |" in judged
        and "| t | 2.00 (2/3) | > 4 (0/3) | missed (censored) |" in judged
    )
    other = fre_to_oracle.table(result, oracle, 0.99, judged="other")
    assert other.endswith("| t | 2.00 (2/3) | > 4 (0/3) | - |")
    assert fre_to_oracle.oracle_target({"scores": [-0.3, -2.0]}, 0.99) == -0.3
    assert fre_to_oracle.oracle_target({"scores": [None]}, 0.99) is None


def test_a_fraction_outside_zero_to_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        fre_to_oracle.main(
            [str(ROOT / "benchmarks" / "results" / "standard.json"), "--fraction", "2"]
        )
    assert "--fraction must be in (0, 1]. Received: 2.0" in capsys.readouterr().err


def test_notes_20_quotes_the_table_of_the_standard_suite_with_the_textbook_start() -> None:
    results = ROOT / "benchmarks" / "results"
    result = json.loads((results / "standard-textbook-start.json").read_text())
    oracle = json.loads(fre_to_oracle.ORACLE.read_text())
    notes = (ROOT / "benchmarks" / "NOTES.md").read_text().split("## 20.", 1)[1]
    assert fre_to_oracle.table(result, oracle, 0.99) in notes
