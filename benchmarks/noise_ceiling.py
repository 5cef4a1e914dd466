"""How often one more full run of the oracle's own best config reaches 99% of the oracle's best
score: the floor under issue 20's "at most 3 FRE to 99% of the oracle (the physical limit is 1:
one run at the final config)".

The oracle's best score on a task and seed is the largest of 50-100 grid points' best epochs, each
one training run with one weight initialization, so it carries that run's luck. For each task and
seed this trains the oracle's best config (``oracle.json``) through ``protocol.train_config`` on the
same split, as the oracle did: once with the oracle's own training seed (does it repeat the
recorded score?) and ``--reruns`` times with other training seeds (``seed + 1000 * j``). A rerun
"hits" when its best epoch reaches ``fraction`` x the oracle's best (``fre_to_oracle``'s target).

From the hit rate p over a task's reruns, a tool that knew the best config from the start and
only reran it would need a median of ``ceil(log 0.5 / log(1 - p))`` full runs to hit the target:
the limit the target really has, in FRE.

    python benchmarks/noise_ceiling.py --out benchmarks/results/noise-ceiling.json [--reruns 4]
    python benchmarks/noise_ceiling.py --report benchmarks/results/noise-ceiling.json \
        [--suite-file benchmarks/results/standard.json]

With ``--suite-file``, each tool's FRE to 99% of the best config's median run instead of the
grid's largest score (``rerun_oracle``), beside the issue's own reading in ``fre_to_oracle.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

from fre_to_oracle import ORACLE, oracle_target, table
from run import STANDARD_TASKS

SEED_STEP = 1000


def rerun_scores(
    task_name: str, seed: int, config: dict[str, Any], reruns: int
) -> list[float | None]:
    """The best epoch of ``config`` on ``task_name``'s split ``seed``: first with training seed
    ``seed`` (the oracle's), then with ``reruns`` other training seeds."""
    import job
    import ledger
    import protocol
    import tasks

    job.init_worker()
    task = tasks.get(task_name)
    splits = task.splits(seed)
    book = ledger.open_ledger(float("inf"), protocol.score_logs(task, splits.y_val))
    out: list[float | None] = []
    try:
        for j in range(reruns + 1):
            before = len(book.fits)
            train_seed = seed + SEED_STEP * j
            protocol.train_config(
                task, splits, config, task.epochs, train_seed, protocol.peer_callbacks()
            )
            out.append(job._best_score(book, before))
    finally:
        ledger.close_ledger()
    return out


def median_runs(p: float) -> float:
    """The median number of independent runs until the first hit, each hitting with chance p."""
    if p <= 0:
        return math.inf
    if p >= 1:
        return 1.0
    return float(math.ceil(math.log(0.5) / math.log(1 - p)))


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Per task: whether the oracle's own seed repeated its score, the reruns' hit rate, the median
    ratio of a rerun to the oracle's best and the median runs to a hit."""
    rows = []
    for task, by_seed in result["tasks"].items():
        repeated = hits = n = 0
        ratios: list[float] = []
        for entry in by_seed.values():
            target, best = entry["target"], entry["oracle_score"]
            own, *others = entry["scores"]
            repeated += own is not None and abs(own - best) < 1e-6
            for s in others:
                n += 1
                hits += s is not None and target is not None and s >= target
                if s is not None and best:
                    ratios.append(s / best)
        p = hits / n if n else 0.0
        ratios.sort()
        rows.append(
            {
                "task": task,
                "seeds": len(by_seed),
                "repeated": repeated,
                "hits": hits,
                "reruns": n,
                "p": p,
                "median_ratio": ratios[len(ratios) // 2] if ratios else None,
                "median_runs": median_runs(p),
            }
        )
    return rows


def rerun_oracle(result: dict[str, Any]) -> dict[str, Any]:
    """An oracle in ``oracle.json``'s shape whose one score per task and seed is the median of the
    best config's runs (the oracle's own and the reruns): its best config's typical run, with the
    luck of the grid's largest score taken out. ``fre_to_oracle.table`` reads it as an oracle."""
    out: dict[str, Any] = {}
    for task, by_seed in result["tasks"].items():
        out[task] = {}
        for seed, entry in by_seed.items():
            finite = sorted(s for s in entry["scores"] if s is not None and math.isfinite(s))
            out[task][seed] = {"scores": [finite[len(finite) // 2]] if finite else []}
    return out


def report(result: dict[str, Any]) -> str:
    fraction = result["fraction"]
    lines = [
        f"| task | own seed repeats the oracle | reruns at {fraction:.0%} of the oracle | "
        "median rerun / oracle best | median full runs to a hit |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in summarize(result):
        ratio = "-" if row["median_ratio"] is None else f"{row['median_ratio']:.4f}"
        runs = "never" if math.isinf(row["median_runs"]) else f"{row['median_runs']:g}"
        lines.append(
            f"| {row['task']} | {row['repeated']}/{row['seeds']} | {row['hits']}/{row['reruns']} "
            f"({row['p']:.0%}) | {ratio} | {runs} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(STANDARD_TASKS))
    parser.add_argument("--seeds", default=",".join(str(s) for s in range(10)))
    parser.add_argument("--reruns", type=int, default=4)
    parser.add_argument("--fraction", type=float, default=0.99)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path, help="print the table of a written file")
    parser.add_argument(
        "--suite-file",
        type=Path,
        help="with --report: also each tool's FRE to the fraction of the best config's median run "
        "(``rerun_oracle``), read from this results file",
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        written = json.loads(args.report.read_text())
        print(report(written))
        if args.suite_file is not None:
            suite = json.loads(args.suite_file.read_text())
            print()
            print(table(suite, rerun_oracle(written), written["fraction"]))
        return
    if args.out is None:
        parser.error("--out is required to train (or pass --report FILE)")
    if args.reruns < 1:
        parser.error(f"--reruns must be at least 1. Received: {args.reruns}")
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction must be in (0, 1]. Received: {args.fraction}")
    oracle = json.loads(ORACLE.read_text())
    missing = [
        f"{name} seed {seed}"
        for name in args.tasks.split(",")
        for seed in args.seeds.split(",")
        if not (oracle.get(name, {}).get(seed) or {}).get("config")
    ]
    if missing:
        parser.error(
            f"--tasks/--seeds: no oracle-best config for {', '.join(missing)} in {ORACLE.name}; "
            "run `python benchmarks/run.py --oracle-only` for them first"
        )
    result: dict[str, Any] = {
        "command": "python benchmarks/noise_ceiling.py",
        "fraction": args.fraction,
        "reruns": args.reruns,
        "tasks": {},
    }
    started = time.perf_counter()
    for name in args.tasks.split(","):
        result["tasks"][name] = {}
        for seed in args.seeds.split(","):
            entry = oracle[name][seed]
            scores = rerun_scores(name, int(seed), entry["config"], args.reruns)
            result["tasks"][name][seed] = {
                "config": entry["config"],
                "oracle_score": entry["score"],
                "target": oracle_target(entry, args.fraction),
                "scores": scores,
            }
            args.out.write_text(json.dumps(result, indent=1))
            print(
                f"{name} seed {seed}: oracle {entry['score']:.4f}, runs {scores}, "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result, indent=1))
    print(report(result))


if __name__ == "__main__":
    main()
