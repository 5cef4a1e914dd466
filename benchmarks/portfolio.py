"""Offline: would a portfolio of first trials, learned on the design tasks, help on the held-out
ones? (issue 20's "portfolio of first trials" lever, estimated before any run is spent on it.)

    python benchmarks/portfolio.py --results benchmarks/results/standard-new-defaults.json

No training: it reads ``oracle.json``, where every task and seed has the validation score of each
config of the oracle's grid, each trained as a full run (the task's epochs). The grid's first
stage is the same on every task and seed: 9 learning rates x batch 32 and 256 x BatchNorm off/on x
scaling none/standard/robust, no regularizer (token-id tasks: scaling none only, 36 configs). A
portfolio of k of those configs, run as the first k trials, costs k full runs and scores its best.

The portfolio is chosen greedily on the design tasks only (``--design``; by default the standard
suite's two: digits-badscale and regression-1e4): each step adds the config that most raises the
mean, over the design tasks' seeds, of the portfolio's best score as a percentile of that seed's
grid (percentiles put accuracy and R^2 on one scale, and a blown-up regression ranks last instead
of weighing -inf). On a token-id task a config's scaling is read as none (adamtune does not scale
token ids). Each task and seed is then read three ways at k = 1..``--k`` full runs:

- the portfolio's best (a percentile of the grid; "hit" when it reaches the target, the mean of
  the grid's 5 best scores, as the suite's FRE-to-target uses);
- the same for ``--tool``'s best score within k FRE in ``--results`` (what the tool reached with
  that much of its budget spent, on the same task, seed and split);
- the best fixed config in hindsight: the one config with the highest mean percentile over that
  task's seeds, chosen on the task itself (no fixed portfolio can do better with one trial).

A portfolio that reaches higher percentiles than the tool at the same k, on the held-out tasks,
is worth a real run; one that does not is not.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import metrics

ROOT = Path(__file__).resolve().parent
ORACLE = ROOT / "oracle.json"
DESIGN = ("digits-badscale", "regression-1e4")
HELD_OUT = ("mnist-cnn", "italy-gru", "tokens-embedding", "digits")
STAGE = ("learning_rate", "batch_size", "batch_norm", "scaling")

Key = tuple[Any, ...]


def stage_key(config: dict[str, Any], scales: bool) -> Key | None:
    """A first-stage config's key (no regularizer); None for the grid's regularizer stage."""
    if config.get("regularizer", "none") != "none":
        return None
    return tuple(config[k] if k != "scaling" or scales else "none" for k in STAGE)


class Grid:
    """One task and seed's oracle grid: each first-stage config's score, and the target."""

    def __init__(self, record: dict[str, Any], kind: str) -> None:
        configs, scores = record["configs"], record["scores"]
        self.scales = any(c["scaling"] != "none" for c in configs)
        self.all = sorted(s if s is not None else float("-inf") for s in scores)
        self.by_key = {
            k: (s if s is not None else float("-inf"))
            for c, s in zip(configs, scores, strict=True)
            if (k := stage_key(c, self.scales)) is not None
        }
        self.target = metrics.target_for(kind, record)

    def percentile(self, score: float) -> float:
        """The share of the grid's configs scoring at most ``score`` (0 to 1)."""
        return sum(s <= score for s in self.all) / len(self.all)

    def score(self, key: Key) -> float:
        return self.by_key[stage_key(dict(zip(STAGE, key, strict=True)), self.scales)]  # type: ignore[index]

    def best_of(self, portfolio: list[Key]) -> float:
        return max(self.score(k) for k in portfolio)


def grids(oracle: dict[str, Any], tasks: list[str], kinds: dict[str, str]) -> dict[str, dict]:
    """Every task's grids by seed, for the tasks in ``tasks``."""
    missing = [t for t in tasks if t not in oracle]
    if missing:
        raise ValueError(
            f"tasks {missing} have no oracle in oracle.json (it has {sorted(oracle)}); run "
            "`python benchmarks/run.py --oracle-only` for their suite first"
        )
    return {
        t: {int(s): Grid(r, kinds.get(t, "classification")) for s, r in oracle[t].items()}
        for t in tasks
    }


def candidates(by_task: dict[str, dict[int, Grid]]) -> list[Key]:
    """The first-stage configs of a grid that scales (the same on every task and seed)."""
    for seeds in by_task.values():
        for grid in seeds.values():
            if grid.scales:
                return sorted(grid.by_key, key=str)
    raise ValueError("no task with a scaling choice among the design tasks: pass one in --design")


def mean_percentile(by_task: dict[str, dict[int, Grid]], portfolio: list[Key]) -> float:
    return statistics.fmean(
        g.percentile(g.best_of(portfolio)) for seeds in by_task.values() for g in seeds.values()
    )


def learn(design: dict[str, dict[int, Grid]], k: int) -> list[Key]:
    """Greedy: each step adds the config that most raises the design tasks' mean percentile."""
    pool = candidates(design)
    portfolio: list[Key] = []
    for _ in range(k):
        portfolio.append(
            max(
                (c for c in pool if c not in portfolio),
                key=lambda c: mean_percentile(design, [*portfolio, c]),
            )
        )
    return portfolio


def hindsight(seeds: dict[int, Grid], pool: list[Key]) -> Key:
    """The one config with the best mean percentile over this task's own seeds."""
    return max(
        pool, key=lambda c: statistics.fmean(g.percentile(g.score(c)) for g in seeds.values())
    )


def read(
    seeds: dict[int, Grid], portfolio: list[Key], records: dict[int, dict], best: Key
) -> dict[str, Any]:
    """At k = 1..len(portfolio): the portfolio's and the tool's median percentile and hits, and
    the hindsight config's."""
    rows = []
    for k in range(1, len(portfolio) + 1):
        mine = [g.best_of(portfolio[:k]) for g in seeds.values()]
        tool = [metrics.incumbent_at(records[s], k) if s in records else None for s in seeds]
        theirs = [float("-inf") if t is None else t for t in tool]
        rows.append(
            {
                "k": k,
                "portfolio_percentile": _median_pct(seeds, mine),
                "portfolio_hits": _hits(seeds, mine),
                "tool_percentile": _median_pct(seeds, theirs) if records else None,
                "tool_hits": _hits(seeds, theirs) if records else None,
            }
        )
    fixed = [g.score(best) for g in seeds.values()]
    return {
        "rows": rows,
        "hindsight_config": dict(zip(STAGE, best, strict=True)),
        "hindsight_percentile": _median_pct(seeds, fixed),
        "hindsight_hits": _hits(seeds, fixed),
        "seeds": len(seeds),
    }


def _median_pct(seeds: dict[int, Grid], scores: list[float]) -> float:
    return round(
        statistics.median(g.percentile(s) for g, s in zip(seeds.values(), scores, strict=True)), 3
    )


def _hits(seeds: dict[int, Grid], scores: list[float]) -> int:
    return sum(s >= g.target - 1e-12 for g, s in zip(seeds.values(), scores, strict=True))


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Portfolio learned on {', '.join(result['design'])}: "
        + "; ".join(
            f"{i + 1}. {_label(dict(zip(STAGE, c, strict=True)))}"
            for i, c in enumerate(result["portfolio"])
        ),
        "",
        f"| task | k | portfolio: median percentile (hits) | {result['tool']}: median "
        "percentile within k FRE (hits) | best fixed config in hindsight (hits) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for task, read_ in result["tasks"].items():
        n = read_["seeds"]
        for row in read_["rows"]:
            tool = (
                "-"
                if row["tool_percentile"] is None
                else f"{row['tool_percentile']:.3f} ({row['tool_hits']}/{n})"
            )
            fixed = (
                f"{read_['hindsight_percentile']:.3f} ({read_['hindsight_hits']}/{n}), "
                f"{_label(read_['hindsight_config'])}"
                if row["k"] == 1
                else ""
            )
            lines.append(
                f"| {task} | {row['k']} | {row['portfolio_percentile']:.3f} "
                f"({row['portfolio_hits']}/{n}) | {tool} | {fixed} |"
            )
    return "\n".join(lines)


def _label(config: dict[str, Any]) -> str:
    bn = ", BatchNorm" if config["batch_norm"] else ""
    return f"lr {config['learning_rate']:g}, batch {config['batch_size']}, {config['scaling']}{bn}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=3, help="portfolio size (default 3)")
    parser.add_argument("--design", default=",".join(DESIGN), help="tasks to learn it on")
    parser.add_argument("--held-out", default=",".join(HELD_OUT), help="tasks to read it on")
    parser.add_argument("--results", type=Path, help="a suite's results file to read --tool from")
    parser.add_argument("--tool", default="adamtune", help="the tool read from --results")
    parser.add_argument("--oracle", type=Path, default=ORACLE)
    parser.add_argument("--json", action="store_true", help="print JSON, not markdown")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error(f"--k: at least 1 config; got {args.k}")
    design = [t.strip() for t in args.design.split(",") if t.strip()]
    held = [t.strip() for t in args.held_out.split(",") if t.strip()]
    oracle = json.loads(args.oracle.read_text())
    results = json.loads(args.results.read_text()) if args.results else {}
    kinds = {**{t: "classification" for t in oracle}, **results.get("task_kinds", {})}
    kinds.setdefault("regression-1e4", "regression")
    learned = grids(oracle, design, kinds)
    portfolio = learn(learned, args.k)
    pool = candidates(learned)
    out_tasks = {}
    for task, seeds in grids(oracle, design + held, kinds).items():
        records = {
            int(r["seed"]): r
            for r in results.get("records", [])
            if r["task"] == task and r["tool"] == args.tool
        }
        out_tasks[task] = read(seeds, portfolio, records, hindsight(seeds, pool))
    result = {
        "design": design,
        "held_out": held,
        "tool": args.tool,
        "results": None if args.results is None else str(args.results),
        "portfolio": [list(c) for c in portfolio],
        "tasks": out_tasks,
    }
    print(json.dumps(result, indent=1) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
