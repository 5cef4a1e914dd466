"""Where each tool's budget went, by how many epochs a fit ran, read from a results file with no
training: the ceiling of the levers that make early rungs cheaper (issue 20's "data subsets as a
fidelity") or later rungs smarter ("learning-curve rungs").

Per task and tool, the medians over seeds of the full-run equivalents (FRE) spent, up to the
suite's budget, in fits that ran:

- ``no val``: fits that never scored on the validation set and did not diverge (adamtune's LR
  range test; a job's last fit, cut by the budget's end before its first validation pass);
- ``< 1 ep``: less than one epoch (adamtune's one-batch build step; a fit a divergence guard cut
  in its first epoch);
- ``1 ep``: one epoch (under adamtune's default pruner, the trials its first rung cut);
- ``2-3 ep``: two or three epochs (the second rung's cuts);
- ``4+ ep``: four epochs or more, short of a full run;
- ``full``: a full run (the task's epochs) or more.

``first rung at 1/k`` is the FRE a first rung judged after 1/k of an epoch (a data subset) would
have saved had it cut the same one-epoch fits: (1 - 1/k) x the one-epoch column. An upper bound:
it assumes the subset's rung cuts exactly the trials the epoch's rung cut.

    python benchmarks/budget_split.py benchmarks/results/standard.json [--tools adamtune,...] [--k 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

BUCKETS = ("no val", "< 1 ep", "1 ep", "2-3 ep", "4+ ep", "full")


def bucket(fit: dict[str, Any], epochs_run: float, full: int) -> str:
    """The column ``fit``, of ``epochs_run`` epochs, falls in, for a task of ``full`` epochs."""
    if fit.get("score") is None and not fit.get("diverged"):
        return "no val"
    eps = 1e-6
    if epochs_run >= full - eps:
        return "full"
    if epochs_run < 1 - eps:
        return "< 1 ep"
    if epochs_run < 1 + eps:
        return "1 ep"
    return "2-3 ep" if epochs_run < 3 + eps else "4+ ep"


def split(record: dict[str, Any], epochs: int, cap: float) -> dict[str, float]:
    """FRE spent in each bucket by one job, its fits counted in order up to ``cap`` FRE (the fit
    that crossed the cap counted at what it ran before it)."""
    full = float(record["full_run_examples"])
    epoch = full / epochs
    out = dict.fromkeys(BUCKETS, 0.0)
    spent = 0.0
    for fit in record["fits"]:
        examples = float(fit["examples"])
        fre = min(examples / full, cap - spent)
        if fre <= 0:
            break
        out[bucket(fit, examples / epoch, epochs)] += fre
        spent += fre
    return out


def medians(
    result: dict[str, Any], epochs_of: dict[str, int], tools: list[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """task -> tool -> bucket (and ``fits``) -> median over the tool's seeds."""
    cap = float(result["budget_fre"])
    out: dict[str, dict[str, dict[str, float]]] = {}
    for task in result["tasks"]:
        if task not in epochs_of:
            raise ValueError(
                f"task {task!r} of the results file has no epoch count here; known: "
                f"{', '.join(sorted(epochs_of))}. Pass the suite's --task-file"
            )
        out[task] = {}
        for tool in tools:
            runs = [r for r in result["records"] if r["task"] == task and r["tool"] == tool]
            if not runs:
                continue
            splits = [split(r, epochs_of[task], cap) for r in runs]
            row = {b: statistics.median(s[b] for s in splits) for b in BUCKETS}
            row["fits"] = statistics.median(len(r["fits"]) for r in runs)
            out[task][tool] = row
    return out


def table(found: dict[str, dict[str, dict[str, float]]], k: int, cap: float) -> str:
    """One row per task and tool; the last column is the sub-epoch first rung's ceiling."""
    lines = [
        "| task | tool | fits | " + " | ".join(BUCKETS) + f" | first rung at 1/{k}: FRE saved |",
        "| --- | --- | --- | " + " | ".join("---" for _ in BUCKETS) + " | --- |",
    ]
    for task, rows in found.items():
        for tool, row in rows.items():
            cells = " | ".join(f"{row[b]:.2f}" for b in BUCKETS)
            saved = (1 - 1 / k) * row["1 ep"]
            lines.append(
                f"| {task} | {tool} | {row['fits']:g} | {cells} | "
                f"{saved:.2f} ({saved / cap:.0%} of {cap:g}) |"
            )
    return "\n".join(lines)


def task_epochs(task_file: str | None) -> dict[str, int]:
    """Each known task's epochs per full run: the built-in tasks and ``task_file``'s."""
    import tasks

    known = {name: t.epochs for name, t in tasks.TASKS.items()}
    if task_file:
        known.update({name: t.epochs for name, t in tasks.load_task_file(task_file).items()})
    return known


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a suite's results JSON")
    parser.add_argument("--tools", help="comma-separated tools (default: every tool in the file)")
    parser.add_argument("--k", type=int, default=3, help="the sub-epoch rung's 1/k (default 3)")
    parser.add_argument("--task-file", help="the suite's --task-file, for tasks not built in")
    args = parser.parse_args(argv)
    if args.k < 2:
        parser.error(f"--k must be at least 2 (a rung after 1/k of an epoch). Received: {args.k}")
    result = json.loads(args.results.read_text())
    tools = args.tools.split(",") if args.tools else list(result["tools"])
    unknown = sorted(set(tools) - set(result["tools"]))
    if unknown:
        parser.error(
            f"--tools: {', '.join(unknown)} not in the file; it holds {', '.join(result['tools'])}"
        )
    found = medians(result, task_epochs(args.task_file or result.get("task_file")), tools)
    print(table(found, args.k, float(result["budget_fre"])))


if __name__ == "__main__":
    main()
