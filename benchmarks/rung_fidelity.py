"""How well an early rung ranks configs, measured by training the oracle's stage-1 grid once per
task with validation inside the first epoch: issue 20's "data subsets as a fidelity" (a rung
after 1/k of the first epoch) and "early rungs that judge a trial by its learning curve rather
than one epoch's value", each beside the default pruner's own rungs (after epochs 1 and 3).

Each grid point (``job.oracle_configs``: 9 learning rates x batch 32/256 x the task's scalings x
BatchNorm, unregularized) trains for the task's epochs through ``protocol.train_config``, as the
oracle's runs do, with a callback that scores the validation set after each 1/k of the first
epoch. A config's final score is its best epoch (the suites' score). The rungs read:

- ``1/k ep`` ... ``(k-1)/k ep``: the score after that share of the first epoch's batches;
- ``1 ep`` and ``3 ep``: the score after that epoch (the ``asha`` pruner's rungs);
- ``3 ep curve``: epoch 3's score plus its last gain (epoch 3 - epoch 2) for each epoch left, a
  learning curve extrapolated linearly to the run's end.

For each rung, over the grid: Spearman's rho against the final score; ``kept best``, whether the
config with the best final score is in the rung's best third (what a rung that promotes a third
must do); ``top-10% kept``, the share of the final best tenth that is in the rung's best third;
``regret``, the best final score among the rung's best third below the grid's best. A config
with no finite score at a rung ranks last there.

    python benchmarks/rung_fidelity.py --tasks digits --seed 0 --out results/rung-fidelity.json
    python benchmarks/rung_fidelity.py --report results/rung-fidelity.json [more.json ...]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

HELD_OUT = ("mnist-cnn", "italy-gru", "tokens-embedding", "digits")
Scores = list[float | None]


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(float(value)) else None


class SubEpochScores:
    """A Keras callback's logic, kept apart so it can be built once TensorFlow is imported: the
    validation score after each 1/k of the first epoch's ``steps`` batches."""

    def __init__(self, k: int, steps: int) -> None:
        self.marks = sorted({max(1, math.ceil(j * steps / k)) for j in range(1, k)})
        self.scores: Scores = []


def _callback(probe: SubEpochScores, score_of: Any, x_val: np.ndarray) -> Any:
    import keras

    class _Probe(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            if self.epoch == 0 and batch + 1 in probe.marks:
                pred = np.asarray(self.model(x_val, training=False))
                probe.scores.append(_finite(score_of(pred)))

    return _Probe()


def _scorer(kind: str, y_val: np.ndarray) -> Any:
    """Higher is better, as ``protocol.score_logs``: accuracy, or R^2 of the predictions."""
    var = float(np.var(y_val))

    def score(pred: np.ndarray) -> float:
        if kind == "classification":
            return float(np.mean(pred.argmax(axis=1) == y_val))
        return float(1.0 - np.mean((pred.ravel() - y_val) ** 2) / var)

    return score


def train_grid(
    task_name: str, seed: int, k: int, limit: int | None = None, log: Any = print
) -> dict[str, Any]:
    """Every stage-1 grid point of ``task_name`` at ``seed``: its sub-epoch and epoch scores."""
    import job
    import protocol
    import tasks

    task = tasks.get(task_name)
    s = task.splits(seed)
    score_logs = protocol.score_logs(task, s.y_val)
    configs = job.oracle_configs(task.scalings)[:limit]
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i, cfg in enumerate(configs):
        scaler = protocol.make_scaler(cfg["scaling"]).fit(protocol.flat(s.x_train))
        x_val = protocol.apply_scaler(scaler, s.x_val)
        probe = SubEpochScores(k, math.ceil(len(s.x_train) / int(cfg["batch_size"])))
        callback = _callback(probe, _scorer(task.kind, s.y_val), x_val)
        _, (history, _) = protocol.train_config(
            task, s, cfg, task.epochs, seed, [*protocol.peer_callbacks(), callback]
        )
        epochs = [
            _finite(score_logs({key: history.history[key][e] for key in history.history}))
            for e in range(len(history.history.get("loss", [])))
        ]
        runs.append({"config": cfg, "sub_epoch": probe.scores, "epochs": epochs})
        if (i + 1) % 10 == 0 or i + 1 == len(configs):
            log(
                f"{task_name}: {i + 1}/{len(configs)} configs, {time.perf_counter() - started:.0f} s"
            )
    return {
        "task": task_name,
        "seed": seed,
        "k": k,
        "epochs": task.epochs,
        "runs": runs,
        "seconds": round(time.perf_counter() - started, 1),
    }


def rung_values(run: dict[str, Any], k: int, epochs: int) -> dict[str, float | None]:
    """One config's value at each rung (None where it had no finite score)."""
    sub: Scores = list(run["sub_epoch"]) + [None] * (k - 1 - len(run["sub_epoch"]))
    ep: Scores = list(run["epochs"]) + [None] * (epochs - len(run["epochs"]))
    out: dict[str, float | None] = {f"{j}/{k} ep": sub[j - 1] for j in range(1, k)}
    out["1 ep"] = ep[0]
    if epochs > 3:
        out["3 ep"] = ep[2]
        e2, e3 = ep[1], ep[2]
        out["3 ep curve"] = None if e2 is None or e3 is None else e3 + (e3 - e2) * (epochs - 3)
    return out


def final_score(run: dict[str, Any]) -> float | None:
    finite = [v for v in run["epochs"] if v is not None]
    return max(finite) if finite else None


def _ranks(values: Sequence[float | None]) -> np.ndarray:
    """Average ranks, higher value -> higher rank; None below every number."""
    keyed = np.array([-math.inf if v is None else v for v in values], dtype=float)
    order = keyed.argsort(kind="stable")
    ranks = np.empty(len(keyed))
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and keyed[order[j + 1]] == keyed[order[i]]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2
        i = j + 1
    return ranks


def rung_quality(rung: Sequence[float | None], final: Sequence[float | None]) -> dict[str, Any]:
    """How well ``rung`` ranks the configs whose final scores are ``final`` (see the module)."""
    n = len(final)
    a, b = _ranks(rung), _ranks(final)
    rho = float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else float("nan")
    kept = set(np.argsort(-a, kind="stable")[: math.ceil(n / 3)].tolist())
    by_final = np.argsort(-b, kind="stable")
    top = by_final[: max(1, math.ceil(n / 10))].tolist()
    best_all = max((v for v in final if v is not None), default=None)
    best_kept = max((final[i] for i in kept if final[i] is not None), default=None)
    return {
        "rho": rho,
        "kept_best": int(by_final[0]) in kept,
        "top10_kept": sum(i in kept for i in top) / len(top),
        "regret": None if best_all is None or best_kept is None else best_all - best_kept,
    }


def report(result: dict[str, Any]) -> str:
    lines = [
        "| task | rung | epochs it costs | Spearman rho | kept best | top-10% kept | regret |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for entry in result["tasks"]:
        k, epochs = entry["k"], entry["epochs"]
        values = [rung_values(r, k, epochs) for r in entry["runs"]]
        final = [final_score(r) for r in entry["runs"]]
        for rung in values[0]:
            q = rung_quality([v[rung] for v in values], final)
            cost = rung.split(" ")[0]
            regret = "-" if q["regret"] is None else f"{q['regret']:.3f}"
            lines.append(
                f"| {entry['task']} | {rung} | {cost} | {q['rho']:.2f} | "
                f"{'yes' if q['kept_best'] else 'no'} | {q['top10_kept']:.0%} | {regret} |"
            )
    return "\n".join(lines)


def merged(paths: Sequence[Path]) -> dict[str, Any]:
    """The tasks of several written files (two processes' share of the tasks), in order."""
    return {"tasks": [t for p in paths for t in json.loads(p.read_text())["tasks"]]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(HELD_OUT))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--k", type=int, default=3, help="rungs at j/k of the first epoch")
    parser.add_argument("--limit", type=int, help="only the grid's first N points (a smoke run)")
    parser.add_argument("--out", type=Path, help="write the scores here (JSON)")
    parser.add_argument(
        "--report", type=Path, nargs="+", help="print the table of written files, in order"
    )
    args = parser.parse_args(argv)
    if args.report is not None:
        print(report(merged(args.report)))
        return
    if args.k < 2:
        parser.error(f"--k must be at least 2 (a rung inside the first epoch). Received: {args.k}")
    if args.out is None:
        parser.error("--out is required to train (or pass --report FILE)")
    result: dict[str, Any] = {"command": "python benchmarks/rung_fidelity.py", "tasks": []}
    for name in args.tasks.split(","):
        result["tasks"].append(train_grid(name, args.seed, args.k, args.limit))
        args.out.write_text(json.dumps(result, indent=1))
    print(report(result))


if __name__ == "__main__":
    main()
