"""benchmarks/oracle_marginals.py: the best score per input scaling and the best learning rate's
move from batch 32 to 256, read on the oracle grids (no training), and NOTES section 19 quoting it."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import oracle_marginals

ROOT = Path(__file__).resolve().parents[1]
RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
KEYS = ("learning_rate", "batch_size", "regularizer", "strength", "batch_norm", "scaling")


def _grid(best_small: float, best_large: float, scaled_bonus: float) -> dict[str, Any]:
    """5 rates x 2 batch sizes x BatchNorm x 2 scalings, plus a regularized point that would win
    if it were read; the score peaks at ``best_small`` for batch 32 and ``best_large`` for 256."""
    configs, scores = [], []
    for lr, batch, bn, scaling in itertools.product(
        RATES, (32, 256), (False, True), ("none", "standard")
    ):
        best = best_small if batch == 32 else best_large
        values = (lr, batch, "none", 0.0, bn, scaling)
        configs.append(dict(zip(KEYS, values, strict=True)))
        scores.append(
            0.9
            - 0.1 * abs(RATES.index(lr) - RATES.index(best))
            + scaled_bonus * (scaling == "standard")
        )
    configs.append({**configs[0], "regularizer": "l2", "strength": 1e-4, "scaling": "none"})
    scores.append(5.0)
    configs.append({**configs[1], "learning_rate": 1.0})
    scores.append(None)  # a point that never scored
    return {"configs": configs, "scores": scores}


def test_shifts_and_scaling_bests_are_read_from_the_unregularized_grid() -> None:
    oracle = {
        "a": {"0": _grid(1e-3, 3e-3, 0.05), "1": _grid(1e-3, 1e-2, 0.05)},
        "b": {"0": _grid(1e-2, 1e-2, -0.2), "note": "not a grid record"},
    }
    # 4 cells (scaling x BatchNorm) per seed: seed 0 moves one step, seed 1 two
    assert oracle_marginals.lr_shifts(oracle, "a") == {1: 4, 2: 4}
    assert oracle_marginals.lr_shifts(oracle, "b") == {0: 4}
    best = oracle_marginals.best_by_scaling(oracle, "a")
    assert best == {"none": 0.9, "standard": 0.9 + 0.05}  # the regularized 5.0 is not read
    assert oracle_marginals.best_by_scaling(oracle, "b") == {"none": 0.9, "standard": 0.7}
    # the textbook cell: batch 32, standardized, no BatchNorm; the score falls a tenth a step
    cell = oracle_marginals.textbook_cell(oracle, "a")
    assert abs(cell[1e-3] - 0.95) < 1e-9 and abs(cell[1e-2] - 0.75) < 1e-9 and len(cell) == 5


def test_notes_19_quotes_the_scripts_tables_on_the_repos_oracle() -> None:
    import json

    oracle = json.loads(oracle_marginals.ORACLE.read_text())
    notes = (ROOT / "benchmarks" / "NOTES.md").read_text().split("## 19.", 1)[1]
    assert oracle_marginals.shift_table(oracle) in notes
    assert oracle_marginals.textbook_table(oracle) in notes.split("## 21.", 1)[1]
    for row in oracle_marginals.scaling_table(oracle, doctor=False).splitlines()[2:]:
        task, _, *cells = row.strip("| ").split(" | ")
        assert f"| {task} | " in notes and " | ".join(cells) + " |" in notes, task
    assert "| mnist-cnn | fires | 0.937 | 0.935 |" in notes  # --doctor's column, as run
