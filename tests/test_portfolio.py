"""benchmarks/portfolio.py: a first-trial portfolio learned greedily on design tasks' oracle grids
and read on held-out ones against a tool's best within the same budget (no training)."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import portfolio

RATES = (1e-3, 1e-2, 1e-1)


def grid_record(best_rate: float, scaling_choice: bool = True) -> dict[str, Any]:
    """A first stage of 3 rates x 2 batch sizes x BatchNorm x scaling, and one regularizer row;
    the score falls with the distance from ``best_rate`` at batch 32, standard, no BatchNorm."""
    configs, scores = [], []
    scalings = ("none", "standard") if scaling_choice else ("none",)
    for lr, batch, bn, scaling in itertools.product(RATES, (32, 256), (False, True), scalings):
        configs.append(
            {
                "learning_rate": lr,
                "batch_size": batch,
                "regularizer": "none",
                "strength": 0.0,
                "batch_norm": bn,
                "scaling": scaling,
            }
        )
        near = 1.0 if lr == best_rate else 0.5
        bonus = (batch == 32) + (not bn) + (scaling == "standard" or not scaling_choice)
        scores.append(0.5 * near + 0.1 * bonus)
    configs.append({**configs[0], "regularizer": "l2", "strength": 1e-4})
    scores.append(0.0)
    return {"configs": configs, "scores": scores}


def test_the_portfolio_is_learned_on_the_design_tasks_and_read_on_the_held_out_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    oracle = {
        "design": {"0": grid_record(1e-2), "1": grid_record(1e-2)},
        "held": {"0": grid_record(1e-1, scaling_choice=False)},
    }
    (tmp_path / "oracle.json").write_text(json.dumps(oracle))
    # a tool whose first scored fit (0.6) ends at 2 FRE and whose second (0.8) at 3
    fits = [
        {"examples": 200, "score": 0.6, "end": 1.0},
        {"examples": 100, "score": 0.8, "end": 2.0},
    ]
    results = {
        "task_kinds": {"design": "classification", "held": "classification"},
        "records": [
            {"task": "held", "seed": 0, "tool": "t", "full_run_examples": 100, "fits": fits}
        ],
    }
    (tmp_path / "r.json").write_text(json.dumps(results))
    argv = [
        "--oracle",
        str(tmp_path / "oracle.json"),
        "--design",
        "design",
        "--held-out",
        "held",
        "--results",
        str(tmp_path / "r.json"),
        "--tool",
        "t",
        "--k",
        "3",
        "--json",
    ]
    assert portfolio.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["portfolio"][0] == [1e-2, 32, False, "standard"]  # the design tasks' best
    held = out["tasks"]["held"]
    # on the held-out task (no scaling choice) the first entry reads as scaling none: 0.5*0.5 +
    # 0.3 = 0.55, below the target (the mean of its 5 best: 0.8, 0.7, 0.7, 0.6, 0.55 -> 0.67)
    first = held["rows"][0]
    assert first["portfolio_hits"] == 0 and first["tool_percentile"] == 0.0  # nothing by 1 FRE
    assert [r["tool_hits"] for r in held["rows"]] == [0, 0, 1]  # 0.8 >= 0.67 at 3 FRE
    assert held["hindsight_config"] == {
        "learning_rate": 1e-1,
        "batch_size": 32,
        "batch_norm": False,
        "scaling": "none",
    }
    assert held["hindsight_hits"] == 1 and held["hindsight_percentile"] == 1.0


def test_a_task_without_an_oracle_is_named(tmp_path: Path) -> None:
    (tmp_path / "oracle.json").write_text(json.dumps({"design": {"0": grid_record(1e-2)}}))
    with pytest.raises(ValueError, match=r"tasks \['nope'\] have no oracle in oracle.json"):
        portfolio.main(
            ["--oracle", str(tmp_path / "oracle.json"), "--design", "design", "--held-out", "nope"]
        )
    with pytest.raises(SystemExit):
        portfolio.main(["--k", "0"])


def test_the_published_oracle_learns_a_portfolio_on_the_standard_design_tasks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """NOTES.md section 17 quotes this run's portfolio and table."""
    results = Path(portfolio.ROOT) / "results" / "standard-new-defaults.json"
    assert portfolio.main(["--results", str(results), "--k", "3"]) == 0
    text = capsys.readouterr().out
    notes = (Path(portfolio.ROOT) / "NOTES.md").read_text()
    assert text.splitlines()[0] in notes
    for line in text.splitlines()[2:]:
        assert line in notes, line
