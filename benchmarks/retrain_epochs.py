"""Does retraining an exported config for its trial's best epoch cut the run short? Each stored run
of a tool on a task, retrained from scratch at the epochs it exported and at the task's full
epochs, with the run's own retraining seeds, and scored on the test split.

    python benchmarks/retrain_epochs.py --results benchmarks/results/standard.json \\
        --task italy-gru [--tool adamtune]

Runs retrain through the hand-written run the peers use (``protocol.train_config``: scaling
per flattened feature), so on inputs of more than two axes (sequences, images) the numbers differ
from adamtune's own export path, which scales per channel; on 2-D inputs they are the same.
Prints one line per run and the paired mean difference (full - exported) with a 95% bootstrap
interval; ``--out`` keeps the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "retrain_run", "summarize"]


def retrain_run(task: Any, record: dict[str, Any]) -> dict[str, Any]:
    """One stored run's config retrained at its exported epochs and at the task's full epochs."""
    import protocol

    splits = task.splits(record["seed"])
    row: dict[str, Any] = {"seed": record["seed"], "exported": record["exported_epochs"]}
    for epochs in sorted({record["exported_epochs"], task.epochs}):
        scores = []
        for seed in record["retrain_seeds"]:
            model, (_, scaler) = protocol.train_config(task, splits, record["config"], epochs, seed)
            x_test = protocol.apply_scaler(scaler, splits.x_test)
            scores.append(round(protocol.test_score(task, model, x_test, splits.y_test), 4))
        row[f"at_{epochs}"] = scores
    return row


def summarize(rows: list[dict[str, Any]], full: int) -> dict[str, Any]:
    """Mean test score at the exported and at the full epochs, and the paired difference."""
    exported = [statistics.mean(r[f"at_{r['exported']}"]) for r in rows]
    whole = [statistics.mean(r[f"at_{full}"]) for r in rows]
    diffs = np.array(whole) - np.array(exported)
    rng = np.random.default_rng(0)
    means = [rng.choice(diffs, len(diffs)).mean() for _ in range(10000)]
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "runs": len(rows),
        "cut_short": sum(r["exported"] < full for r in rows),
        "exported_mean": round(statistics.mean(exported), 4),
        "full_mean": round(statistics.mean(whole), 4),
        "difference": round(float(diffs.mean()), 4),
        "interval": [round(float(low), 4), round(float(high), 4)],
        "higher_lower_same": [
            int(n) for n in ((diffs > 0).sum(), (diffs < 0).sum(), (diffs == 0).sum())
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True, help="a benchmark results JSON file")
    parser.add_argument("--task", required=True)
    parser.add_argument("--tool", default="adamtune")
    parser.add_argument("--out", help="write the rows and the summary here as JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import tasks

    stored = json.loads(Path(args.results).read_text())
    records = sorted(
        (r for r in stored["records"] if r["task"] == args.task and r["tool"] == args.tool),
        key=lambda r: r["seed"],
    )
    if not records:
        parser.error(f"--results {args.results} holds no run of {args.tool} on {args.task}")
    task = tasks.get(args.task, stored.get("task_file"))
    rows = []
    for record in records:
        rows.append(retrain_run(task, record))
        print(json.dumps(rows[-1]), flush=True)
    summary = summarize(rows, task.epochs)
    print(json.dumps({"task": args.task, "tool": args.tool, **summary}))
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
