"""How long one full training run of each task takes, and what it learns, on one TensorFlow thread.

    python benchmarks/task_timing.py [--tasks a,b] [--repeats 3] [--task-file FILE]

One full run is what the budget counts as 1 FRE: ``task.epochs`` epochs over the 60% training
split (seed 0), batch 32, Adam 1e-3, standard scaling (or the task's first allowed scaling when
standard is not allowed), no regularizer, no BatchNorm. A warm-up run first (tracing, caches), then
``--repeats`` timed runs; the table gives the median seconds of ``model.fit`` alone and the
validation score of the last epoch (accuracy, or R^2 for regression), and the median CPU time of
the process over the fit (less sensitive than the wall to other work on the machine). Prints a
markdown table and the load average.
"""

from __future__ import annotations

import os

# One thread, as in every benchmark worker (job.init_worker); set before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import tasks

__all__ = ["Timing", "main", "markdown", "time_task"]


@dataclass(frozen=True)
class Timing:
    task: str
    n_train: int
    epochs: int
    scaling: str
    seconds: float  # median wall time of ``fit`` for one full run
    cpu_seconds: float  # median CPU time of the process over the same fit (all its threads)
    score: float  # validation accuracy or R^2 after the last epoch
    kind: str


def _scaler(name: str) -> Any:
    from sklearn.preprocessing import FunctionTransformer, RobustScaler, StandardScaler

    return {"none": FunctionTransformer(), "standard": StandardScaler(), "robust": RobustScaler()}[
        name
    ]


def _scaled(scaler: Any, x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return np.asarray(scaler.transform(flat), dtype="float32").reshape(x.shape)  # as tools._apply


def _fit_once(
    task: tasks.Task, data: tuple[np.ndarray, ...], seed: int
) -> tuple[float, float, float]:
    """One full run at Adam 1e-3, batch 32: (wall and CPU seconds inside fit, last validation
    score)."""
    import keras

    x_train, y_train, x_val, y_val = data
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = task.model_fn(tasks.PeerHP())
    classify = task.kind == "classification"
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy" if classify else "mse",
        metrics=["accuracy"] if classify else [],
    )
    started, cpu = time.perf_counter(), time.process_time()
    history = model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=task.epochs,
        validation_data=(x_val, y_val),
        verbose=0,
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if classify:
        return seconds, cpu, float(history.history["val_accuracy"][-1])
    return seconds, cpu, 1.0 - float(history.history["val_loss"][-1]) / float(np.var(y_val))


def time_task(task: tasks.Task, repeats: int = 3) -> Timing:
    """A warm-up run, then the median of ``repeats`` timed full runs (seed 0's splits)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1; got {repeats}. Use 3 for a stable median.")
    s = task.splits(0)
    scaling = "standard" if "standard" in task.scalings else task.scalings[0]
    scaler = _scaler(scaling).fit(s.x_train.reshape(len(s.x_train), -1))
    data = (_scaled(scaler, s.x_train), s.y_train, _scaled(scaler, s.x_val), s.y_val)
    _fit_once(task, data, 0)
    runs = [_fit_once(task, data, 1 + i) for i in range(repeats)]
    return Timing(
        task.name,
        len(s.x_train),
        task.epochs,
        scaling,
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        statistics.median(r[2] for r in runs),
        task.kind,
    )


def markdown(rows: list[Timing]) -> str:
    lines = [
        "| task | n_train | epochs | scaling | s per full run | CPU s | val score (1e-3, batch 32) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        metric = "acc" if r.kind == "classification" else "R^2"
        lines.append(
            f"| {r.task} | {r.n_train} | {r.epochs} | {r.scaling} | {r.seconds:.2f} | "
            f"{r.cpu_seconds:.2f} | {metric} {r.score:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tasks", help="comma-separated task names (default: all)")
    parser.add_argument("--task-file", type=Path, help="a task file instead of the built-ins")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per task (default 3)")
    args = parser.parse_args(argv)
    choices = tasks.TASKS if args.task_file is None else tasks.load_task_file(args.task_file)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks else choices
    rows = []
    for name in names:
        rows.append(time_task(tasks.get(name, args.task_file), args.repeats))
        print(f"timed {name}: {rows[-1].seconds:.2f} s", file=sys.stderr, flush=True)
    print(markdown(rows))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nmedian of {args.repeats} after a warm-up run; load average {load} (1, 5, 15 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
