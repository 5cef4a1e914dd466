"""One unit of benchmark work, run in a worker process: a tool on a task and seed under a budget,
or the oracle grid for a task and seed. Returns plain JSON-able records."""

from __future__ import annotations

import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ledger
import protocol
import tasks
import tools

__all__ = [
    "ORACLE_GRID",
    "ORACLE_VERSION",
    "init_worker",
    "oracle_configs",
    "run_oracle",
    "run_tool",
    "worker_facts",
]

# The oracle: a grid over what matters most for Adam, each point one full training run. Stage 1
# crosses the learning rate (past 0.1, up to the space's 1.0), two batch sizes, every input scaling
# the task allows and BatchNorm; stage 2 gives the best TOP_REGULARIZED points of stage 1 each
# regularizer the space has, at strengths a practitioner would try first.
ORACLE_VERSION = "v2"
ORACLE_GRID = {
    "learning_rate": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0),
    "batch_size": (32, 256),
    "scaling": ("none", "standard", "robust"),
    "batch_norm": (False, True),
}
ORACLE_REGULARIZERS = (("l1", 1e-5), ("l2", 1e-4), ("l2", 1e-3), ("adamw", 1e-3), ("adamw", 1e-2))
TOP_REGULARIZED = 3


def init_worker() -> None:
    """One TensorFlow thread per worker process: two workers share the two cores."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    ledger.install()


def worker_facts() -> dict[str, Any]:
    """What a job's process starts with (the tests check the pool): its pid, whether TensorFlow
    came preloaded, and a first op run in it (a fork that broke TensorFlow would fail or hang)."""
    preloaded = "tensorflow" in sys.modules
    import tensorflow as tf

    return {"pid": os.getpid(), "preloaded": preloaded, "sum": float(tf.reduce_sum(tf.ones(3)))}


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


def run_tool(
    task_name: str,
    seed: int,
    tool: str,
    budget_fre: float,
    retrain_seeds: int = 3,
    task_file: str | None = None,
) -> dict[str, Any]:
    """``tool`` on ``task_name`` at ``seed`` until ``budget_fre`` full-run equivalents are spent,
    then its exported config retrained from scratch ``retrain_seeds`` times (fresh seeds, the
    epochs it exports) and scored on the test split each time."""
    preloaded = "tensorflow" in sys.modules  # forked from run.py's server (run._pool)
    init_worker()
    task = tasks.get(task_name, task_file)
    splits = task.splits(seed)
    full_run = task.epochs * len(splits.x_train)
    book = ledger.open_ledger(
        budget_fre * full_run, protocol.score_logs(task, splits.y_val), len(splits.x_train)
    )
    started = time.perf_counter()
    error = None
    config: dict[str, Any] = dict(protocol.DEFAULTS)
    with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
        try:
            config = {**tools.TOOLS, **tools.EXTRA}[tool](task, splits, seed, Path(tmp))
        except Exception as exc:  # a tool that crashes is a result too
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            ledger.close_ledger()
    wall = time.perf_counter() - started
    seeds = [seed + 1000 * (i + 1) for i in range(retrain_seeds)]
    scores = protocol.retrain_scores(task, splits, config, seeds)
    return {
        "task": task_name,
        "seed": seed,
        "tool": tool,
        "full_run_examples": full_run,
        "fits": _fits(book),
        "wall_seconds": round(wall, 2),
        "config": {k: v for k, v in config.items() if k != "adamtune_config"},
        "exported_epochs": protocol.exported_epochs(task, config),
        "test_scores": scores,
        "test_score": sum(scores) / len(scores),
        "retrain_seeds": seeds,
        "error": error,
        "peak_rss_mb": round(_rss_mb(), 1),
        "preloaded": preloaded,
    }


def _grid(keys: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    names = list(keys)
    return [
        {**protocol.DEFAULTS, **dict(zip(names, values, strict=True))}
        for values in itertools.product(*keys.values())
    ]


def oracle_configs(scalings: tuple[str, ...] = tasks.SCALINGS) -> list[dict[str, Any]]:
    """Stage 1 of the grid, for a task whose space allows ``scalings``."""
    allowed = tuple(s for s in ORACLE_GRID["scaling"] if s in scalings)
    return _grid({**ORACLE_GRID, "scaling": allowed})


def oracle_size(scalings: tuple[str, ...] = tasks.SCALINGS) -> int:
    return len(oracle_configs(scalings)) + TOP_REGULARIZED * len(ORACLE_REGULARIZERS)


def _best_score(book: ledger.Ledger, before: int) -> float | None:
    scores = [f.score for f in book.fits[before:] if f.score is not None]
    return max(scores) if scores else None


def run_oracle(task_name: str, seed: int, task_file: str | None = None) -> dict[str, Any]:
    """Every grid point's best validation score (higher is better; None when it had none)."""
    init_worker()
    task = tasks.get(task_name, task_file)
    splits = task.splits(seed)
    book = ledger.open_ledger(float("inf"), protocol.score_logs(task, splits.y_val))
    configs = oracle_configs(task.scalings)
    scores: list[float | None] = []

    def train(config: dict[str, Any]) -> None:
        before = len(book.fits)
        protocol.train_config(task, splits, config, task.epochs, seed, protocol.peer_callbacks())
        scores.append(_best_score(book, before))

    started = time.perf_counter()
    try:
        for config in configs:
            train(config)
        ranked = sorted(
            (i for i, v in enumerate(scores) if v is not None), key=lambda i: -(scores[i] or 0)
        )
        for i in ranked[:TOP_REGULARIZED]:
            for kind, strength in ORACLE_REGULARIZERS:
                configs.append({**configs[i], "regularizer": kind, "strength": strength})
                train(configs[-1])
    finally:
        ledger.close_ledger()
    finite = [i for i, v in enumerate(scores) if v is not None]
    best = max(finite, key=lambda i: scores[i] or 0) if finite else None
    return {
        "task": task_name,
        "seed": seed,
        "grid": ORACLE_VERSION,
        "epochs": task.epochs,
        "grid_points": len(configs),
        "configs": configs,
        "scores": scores,
        "score": None if best is None else scores[best],
        "config": None if best is None else configs[best],
        "seconds": round(time.perf_counter() - started, 1),
    }
