"""Two of issue 20's levers read offline on the oracle grids (``oracle.json``), with no training.

Stage 1 of every task's grid is a full cross of 9 learning rates, batch sizes 32 and 256, each
input scaling the task allows and BatchNorm on/off, unregularized (``job.ORACLE_GRID``); one full
training run per point, per seed. This reads only those points (stage 2 adds regularizers to the
best three, which would favour the winners' other choices).

``scaling`` (the doctor's findings as a prior): per task, the median over seeds of the best score
with each input scaling, beside whether the doctor's ``unscaled-features`` check fires on the
task's data. A prior that drops ``scaling: none`` when the check fires helps only where the
unscaled cells are worse.

``lr-shift`` (the sqrt rule in the sampler's model): per task, how many grid steps (half
decades, x3.16) the best learning rate moves from batch 32 to 256 within each (seed, scaling,
BatchNorm) cell. Adam's square-root rule predicts +1 (x2.83), the linear rule +2 (x8), no rule 0.

    python benchmarks/oracle_marginals.py scaling [--doctor]
    python benchmarks/oracle_marginals.py lr-shift
    python benchmarks/oracle_marginals.py textbook

``textbook`` (where the first trial starts): per task, the median over seeds of each learning
rate's score in the textbook configuration (batch 32, standardized, no BatchNorm).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from run import STANDARD_TASKS as TASKS

ROOT = Path(__file__).resolve().parent
ORACLE = ROOT / "oracle.json"
SMALL, LARGE = 32, 256


def _stage1(entry: dict[str, Any]) -> list[tuple[dict[str, Any], float]]:
    """The unregularized grid points with a score."""
    return [
        (config, score)
        for config, score in zip(entry["configs"], entry["scores"], strict=True)
        if score is not None and config["regularizer"] == "none"
    ]


def _seeds(oracle: dict[str, Any], task: str) -> list[dict[str, Any]]:
    return [e for e in oracle.get(task, {}).values() if isinstance(e, dict) and "configs" in e]


def best_by_scaling(oracle: dict[str, Any], task: str) -> dict[str, float]:
    """The median over seeds of the best stage-1 score with each scaling."""
    per: dict[str, list[float]] = defaultdict(list)
    for entry in _seeds(oracle, task):
        best: dict[str, float] = {}
        for config, score in _stage1(entry):
            best[config["scaling"]] = max(best.get(config["scaling"], -math.inf), score)
        for scaling, score in best.items():
            per[scaling].append(score)
    return {scaling: statistics.median(scores) for scaling, scores in per.items()}


def lr_shifts(oracle: dict[str, Any], task: str) -> Counter[int]:
    """Grid steps the best learning rate moves from batch 32 to 256, one count per cell."""
    shifts: Counter[int] = Counter()
    for entry in _seeds(oracle, task):
        cells: dict[tuple[Any, ...], dict[int, tuple[float, float]]] = defaultdict(dict)
        for config, score in _stage1(entry):
            key = (config["scaling"], config["batch_norm"])
            batch = config["batch_size"]
            if score > cells[key].get(batch, (-math.inf, 0.0))[0]:
                cells[key][batch] = (score, config["learning_rate"])
        for best in cells.values():
            if SMALL in best and LARGE in best:
                ratio = best[LARGE][1] / best[SMALL][1]
                shifts[round(2 * math.log10(ratio))] += 1
    return shifts


def textbook_cell(oracle: dict[str, Any], task: str) -> dict[float, float]:
    """The median over seeds of each learning rate's score in the textbook configuration: batch
    32, standardized inputs (the task's only scaling where it allows one), no BatchNorm."""
    per: dict[float, list[float]] = defaultdict(list)
    for entry in _seeds(oracle, task):
        points = _stage1(entry)
        scalings = {config["scaling"] for config, _ in points}
        scaling = "standard" if "standard" in scalings else min(scalings)
        for config, score in points:
            if (config["batch_size"], config["scaling"], config["batch_norm"]) == (
                SMALL,
                scaling,
                False,
            ):
                per[config["learning_rate"]].append(score)
    return {lr: statistics.median(scores) for lr, scores in sorted(per.items())}


def textbook_table(oracle: dict[str, Any]) -> str:
    rates = sorted({lr for task in TASKS for lr in textbook_cell(oracle, task)})
    lines = [
        "| task | " + " | ".join(f"{lr:g}" for lr in rates) + " | best |",
        "| --- | " + " | ".join("---" for _ in rates) + " | --- |",
    ]
    for task in TASKS:
        cell = textbook_cell(oracle, task)
        best = max(cell, key=cell.__getitem__)
        cells = [f"{cell[lr]:.3f}" if lr in cell else "-" for lr in rates]
        lines.append(f"| {task} | " + " | ".join(cells) + f" | {best:g} |")
    return "\n".join(lines)


def _doctor_flags(tasks_: tuple[str, ...]) -> dict[str, str]:
    """Whether the doctor's ``unscaled-features`` check fires on each task's data."""
    sys.path.insert(0, str(ROOT))
    import tasks

    from adamtune.data import prepare_data
    from adamtune.doctor._data_checks import check_scales

    flags = {}
    for name in tasks_:
        x, y = tasks.get(name).load()
        finding = check_scales(prepare_data((x, y)))
        flags[name] = "fires" if finding is not None else "quiet"
    return flags


def scaling_table(oracle: dict[str, Any], doctor: bool) -> str:
    flags = _doctor_flags(TASKS) if doctor else {}
    lines = [
        "| task | unscaled-features | best with none | best with standard | best with robust |",
        "| --- | --- | --- | --- | --- |",
    ]
    for task in TASKS:
        best = best_by_scaling(oracle, task)
        cells = [f"{best[s]:.3f}" if s in best else "-" for s in ("none", "standard", "robust")]
        lines.append(f"| {task} | {flags.get(task, 'not read')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shift_table(oracle: dict[str, Any]) -> str:
    lines = [
        "| task | cells | steps from batch 32 to 256: count | mode | mean | share at +1 (sqrt) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for task in TASKS:
        shifts = lr_shifts(oracle, task)
        total = sum(shifts.values())
        counts = ", ".join(f"{k:+d}: {shifts[k]}" for k in sorted(shifts))
        mode = max(sorted(shifts), key=lambda k: shifts[k])
        mean = sum(k * n for k, n in shifts.items()) / total
        lines.append(
            f"| {task} | {total} | {counts} | {mode:+d} | {mean:+.2f} | {shifts[1] / total:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("read", choices=("scaling", "lr-shift", "textbook"))
    parser.add_argument("--oracle", type=Path, default=ORACLE)
    parser.add_argument(
        "--doctor", action="store_true", help="load each task and run the doctor's scale check"
    )
    args = parser.parse_args(argv)
    oracle = json.loads(args.oracle.read_text())
    tables = {
        "scaling": lambda: scaling_table(oracle, args.doctor),
        "lr-shift": lambda: shift_table(oracle),
        "textbook": lambda: textbook_table(oracle),
    }
    print(tables[args.read]())


if __name__ == "__main__":
    main()
