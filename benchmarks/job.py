"""One unit of benchmark work, run in a worker process: a tool on a task and seed under a budget,
or the oracle grid for a task and seed. Returns plain JSON-able records."""

from __future__ import annotations

import itertools
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import ledger
import tasks
import tools

__all__ = ["ORACLE_GRID", "init_worker", "run_oracle", "run_tool"]

# The oracle: a dense grid over what matters most for Adam, each at the full epoch budget.
ORACLE_GRID = {
    "learning_rate": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
    "batch_size": (16, 64, 256),
    "scaling": ("none", "standard"),
    "batch_norm": (False, True),
}


def init_worker() -> None:
    """One TensorFlow thread per worker process: two workers share the two cores."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    ledger.install()


def _fits(book: ledger.Ledger) -> list[dict[str, Any]]:
    return [
        {
            "end": round(f.end, 3),
            "examples": round(f.examples),
            "batches": f.batches,
            "batch_size": f.batch_size,
            "score": f.score,
            "diverged": f.diverged,
        }
        for f in book.fits
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_tool(task_name: str, seed: int, tool: str, budget_fre: float) -> dict[str, Any]:
    """``tool`` on ``task_name`` at ``seed`` until ``budget_fre`` full-run equivalents are spent,
    then its exported config retrained from scratch (fresh seed) and scored on the test split."""
    init_worker()
    task = tasks.get(task_name)
    splits = task.splits(seed)
    full_run = task.epochs * len(splits.x_train)
    book = ledger.open_ledger(
        budget_fre * full_run, tools.score_logs(task, splits.y_val), len(splits.x_train)
    )
    started = time.perf_counter()
    error = None
    config: dict[str, Any] = dict(tools.DEFAULTS)
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        try:
            config = {**tools.TOOLS, **tools.EXTRA}[tool](task, splits, seed, Path(tmp))
        except Exception as exc:  # a tool that crashes is a result too
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            ledger.close_ledger()
    wall = time.perf_counter() - started
    test = tools.retrain_score(task, splits, config, seed + 1000)
    return {
        "task": task_name,
        "seed": seed,
        "tool": tool,
        "full_run_examples": full_run,
        "fits": _fits(book),
        "wall_seconds": round(wall, 2),
        "config": {k: v for k, v in config.items() if k != "adamtune_config"},
        "test_score": test,
        "error": error,
        "peak_rss_mb": round(_rss_mb(), 1),
    }


def oracle_configs() -> list[dict[str, Any]]:
    keys = list(ORACLE_GRID)
    return [
        {**tools.DEFAULTS, **dict(zip(keys, values, strict=True))}
        for values in itertools.product(*ORACLE_GRID.values())
    ]


def run_oracle(task_name: str, seed: int) -> dict[str, Any]:
    """The best validation score any grid point reaches at full budget."""
    init_worker()
    task = tasks.get(task_name)
    splits = task.splits(seed)
    book = ledger.open_ledger(float("inf"), tools.score_logs(task, splits.y_val))
    best: tuple[float, dict[str, Any]] | None = None
    try:
        for config in oracle_configs():
            before = len(book.fits)
            tools.train_config(task, splits, config, task.epochs, seed)
            scores = [f.score for f in book.fits[before:] if f.score is not None]
            if scores and (best is None or max(scores) > best[0]):
                best = (max(scores), config)
    finally:
        ledger.close_ledger()
    return {
        "task": task_name,
        "seed": seed,
        "score": None if best is None else best[0],
        "config": None if best is None else best[1],
        "grid_points": len(oracle_configs()),
    }
