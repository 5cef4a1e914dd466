"""Packing several small trials into one process step (an issue 20 lever): what it would save.

K configs of one task that share a batch size and differ in learning rate are trained three
ways, each way in a process of its own (so none inherits another's traced graphs):

- ``sequential``: one after another, as a search runs its trials: clear the session, build,
  compile with Adam, ``fit`` with validation each epoch;
- ``reused``: one after another in one model built, compiled and traced once, its weights and
  Adam's state reset in place before each config (one traced function per architecture);
- ``packed``: the K models side by side in one Keras model whose train step runs every member on
  the same batch and applies each member's own Adam to its own weights, one ``fit`` for all.

Both start every member from the same initial weights (made once, in a process of their own) and
shuffle with the same seed, so a member and its sequential twin see the same batches; the results
give each member's best validation score each way, to show that each way trained the same thing.
The legs of a round run in rotating order. Wall times are taken inside each process, after its
imports, from the first build to the end of the last fit.

The unit of the budget (full-run equivalents, training examples) is the same every way: these
levers can only change the wall clock.

    python benchmarks/packing.py --out benchmarks/results/packing.json \
        [--tasks digits,mnist-cnn] [--packs 1,4,8] [--rounds 3] [--threads 1]
    python benchmarks/packing.py --report benchmarks/results/packing.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SEED = 0
BATCH = 32
LR_RANGE = (3e-4, 3e-2)
DEFAULT_TASKS = "digits,regression-1e4,tokens-embedding,italy-gru,mnist-cnn"


def learning_rates(k: int) -> list[float]:
    """``k`` learning rates spaced evenly in log between the ends of ``LR_RANGE``."""
    lo, hi = LR_RANGE
    if k == 1:
        return [lo]
    return [lo * (hi / lo) ** (i / (k - 1)) for i in range(k)]


def _set_threads(threads: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(threads)


def _data(task_name: str) -> tuple[Any, Any, Any, Any, Any]:
    """The task, its training and validation arrays at split ``SEED``, unscaled (every member
    shares the input scaling, so it stays out of the comparison)."""
    import tasks

    task = tasks.get(task_name)
    s = task.splits(SEED)
    return task, s.x_train, s.y_train, s.x_val, s.y_val


def make_initial_weights(task_name: str, k: int, path: Path) -> None:
    """Build ``k`` members, each from its own seed, and save their weights to ``path``."""
    import keras
    import numpy as np
    import tasks

    task = tasks.get(task_name)
    arrays: dict[str, Any] = {}
    for m in range(k):
        keras.backend.clear_session()
        keras.utils.set_random_seed(SEED + m)
        model = task.model_fn(tasks.PeerHP())
        for i, w in enumerate(model.get_weights()):
            arrays[f"m{m}_{i}"] = w
    np.savez(path, **arrays)


def _weights(path: Path, m: int) -> list[Any]:
    import numpy as np

    with np.load(path) as saved:
        count = sum(1 for key in saved.files if key.startswith(f"m{m}_"))
        return [saved[f"m{m}_{i}"] for i in range(count)]


def _loss_and_metric(task: Any) -> tuple[Any, Any, str]:
    """The loss, a fresh validation metric and its name, as ``protocol.compile_config`` uses."""
    import keras

    if task.kind == "classification":
        return (
            keras.losses.SparseCategoricalCrossentropy(),
            keras.metrics.SparseCategoricalAccuracy,
            "accuracy",
        )
    return keras.losses.MeanSquaredError(), keras.metrics.MeanSquaredError, "data_loss"


def _score(task: Any, values: list[float], y_val: Any) -> float:
    """A member's best epoch: validation accuracy, or R^2 from the validation MSE."""
    import numpy as np

    if task.kind == "classification":
        return max(values)
    var = float(np.var(y_val))
    return max(1.0 - v / var for v in values)


def sequential_leg(task_name: str, k: int, weights: Path, epochs: int) -> dict[str, Any]:
    """Train the ``k`` members one after another, each its own build, compile and ``fit``."""
    import keras
    import tasks

    task, x_tr, y_tr, x_va, y_va = _data(task_name)
    loss, metric, name = _loss_and_metric(task)
    scores: list[float] = []
    started = time.perf_counter()
    for m, lr in enumerate(learning_rates(k)):
        keras.backend.clear_session()
        model = task.model_fn(tasks.PeerHP())
        model.set_weights(_weights(weights, m))
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss, metrics=[metric(name=name)])
        keras.utils.set_random_seed(SEED)
        history = model.fit(
            x_tr, y_tr, batch_size=BATCH, epochs=epochs, validation_data=(x_va, y_va), verbose=0
        )
        scores.append(_score(task, history.history[f"val_{name}"], y_va))
    return {"wall_s": time.perf_counter() - started, "scores": scores}


def reset_in_place(model: Any, weights: list[Any], lr: float) -> None:
    """Make a compiled, already trained ``model`` a fresh trial without a new trace: its weights
    set, its Adam's step count and moments zeroed, its learning rate (a variable) set."""
    import numpy as np

    model.set_weights(weights)
    for v in model.optimizer.variables:
        if v.path.endswith("learning_rate"):
            v.assign(lr)
        else:
            v.assign(np.zeros(v.shape, dtype=v.dtype))


def reused_leg(task_name: str, k: int, weights: Path, epochs: int) -> dict[str, Any]:
    """Train the ``k`` members one after another in one model, built, compiled and traced once:
    before each member, :func:`reset_in_place` (one traced function per architecture)."""
    import keras
    import tasks

    task, x_tr, y_tr, x_va, y_va = _data(task_name)
    loss, metric, name = _loss_and_metric(task)
    scores: list[float] = []
    started = time.perf_counter()
    keras.backend.clear_session()
    model = task.model_fn(tasks.PeerHP())
    model.compile(optimizer=keras.optimizers.Adam(), loss=loss, metrics=[metric(name=name)])
    model.optimizer.build(model.trainable_variables)
    for m, lr in enumerate(learning_rates(k)):
        reset_in_place(model, _weights(weights, m), lr)
        keras.utils.set_random_seed(SEED)
        history = model.fit(
            x_tr, y_tr, batch_size=BATCH, epochs=epochs, validation_data=(x_va, y_va), verbose=0
        )
        scores.append(_score(task, history.history[f"val_{name}"], y_va))
    return {"wall_s": time.perf_counter() - started, "scores": scores}


def packed_model(task: Any, members: list[Any], optimizers: list[Any]) -> Any:
    """One Keras model that trains ``members`` side by side: each member's loss on the same
    batch, each member's optimizer applied to its own weights only."""
    import keras
    import tensorflow as tf

    loss_fn, metric, name = _loss_and_metric(task)

    class Packed(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.members = members
            self.member_optimizers = optimizers
            self.trackers = [
                (keras.metrics.Mean(name=f"m{m}_loss"), metric(name=f"m{m}_{name}"))
                for m in range(len(members))
            ]

        @property
        def metrics(self) -> list[Any]:
            return [t for pair in self.trackers for t in pair]

        def call(self, x: Any, training: bool = False) -> list[Any]:
            return [member(x, training=training) for member in self.members]

        def _record(self, y: Any, preds: list[Any], losses: list[Any]) -> dict[str, Any]:
            for (mean, score), pred, loss in zip(self.trackers, preds, losses, strict=True):
                mean.update_state(loss)
                score.update_state(y, pred)
            return {t.name: t.result() for t in self.metrics}

        def _member_losses(self, y: Any, preds: list[Any]) -> list[Any]:
            out = []
            for member, pred in zip(self.members, preds, strict=True):
                penalty = tf.add_n(member.losses) if member.losses else 0.0
                out.append(loss_fn(y, pred) + penalty)
            return out

        def train_step(self, data: Any) -> dict[str, Any]:
            x, y = data[0], data[1]
            with tf.GradientTape() as tape:
                preds = self(x, training=True)
                losses = self._member_losses(y, preds)
                total = tf.add_n(losses)
            variables = [v for member in self.members for v in member.trainable_variables]
            grads = tape.gradient(total, variables)
            start = 0
            for member, opt in zip(self.members, self.member_optimizers, strict=True):
                n = len(member.trainable_variables)
                opt.apply(grads[start : start + n], member.trainable_variables)
                start += n
            return self._record(y, preds, losses)

        def test_step(self, data: Any) -> dict[str, Any]:
            x, y = data[0], data[1]
            preds = self(x, training=False)
            return self._record(y, preds, self._member_losses(y, preds))

    return Packed()


def packed_leg(task_name: str, k: int, weights: Path, epochs: int) -> dict[str, Any]:
    """Train the ``k`` members in one packed model and one ``fit``."""
    import keras
    import tasks

    task, x_tr, y_tr, x_va, y_va = _data(task_name)
    _, _, name = _loss_and_metric(task)
    started = time.perf_counter()
    keras.backend.clear_session()
    members, optimizers = [], []
    for m, lr in enumerate(learning_rates(k)):
        member = task.model_fn(tasks.PeerHP())
        member.set_weights(_weights(weights, m))
        opt = keras.optimizers.Adam(lr)
        opt.build(member.trainable_variables)
        members.append(member)
        optimizers.append(opt)
    model = packed_model(task, members, optimizers)
    model.compile()
    keras.utils.set_random_seed(SEED)
    history = model.fit(
        x_tr, y_tr, batch_size=BATCH, epochs=epochs, validation_data=(x_va, y_va), verbose=0
    )
    scores = [_score(task, history.history[f"val_m{m}_{name}"], y_va) for m in range(k)]
    return {"wall_s": time.perf_counter() - started, "scores": scores}


LEGS = {"sequential": sequential_leg, "reused": reused_leg, "packed": packed_leg}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """One process's work: ``init`` saves the members' initial weights, a leg trains them."""
    _set_threads(int(job["threads"]))
    if job["leg"] == "init":
        make_initial_weights(job["task"], int(job["k"]), Path(job["weights"]))
        return {}
    return LEGS[job["leg"]](job["task"], int(job["k"]), Path(job["weights"]), int(job["epochs"]))


def _in_its_own_process(job: dict[str, Any], workdir: Path) -> dict[str, Any]:
    name = f"{job['task']}-k{job['k']}-{job['leg']}-r{job.get('round', 0)}"
    job_file, out_file = workdir / f"{name}.job.json", workdir / f"{name}.out.json"
    job_file.write_text(json.dumps({**job, "out": str(out_file)}))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--job", str(job_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"packing leg {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out_file.read_text())
    return result


def measure(
    task_names: list[str], packs: list[int], rounds: int, threads: int, out: Path
) -> dict[str, Any]:
    """Every task at every pack size: the initial weights once, then ``rounds`` rounds of the
    three legs in rotating order. Writes ``out`` after each task and pack size."""
    import tasks

    result: dict[str, Any] = {
        "command": "python benchmarks/packing.py",
        "batch_size": BATCH,
        "threads": threads,
        "rounds": rounds,
        "tasks": {},
    }
    with tempfile.TemporaryDirectory(prefix="adamtune-packing-") as tmp:
        workdir = Path(tmp)
        for name in task_names:
            epochs = tasks.get(name).epochs
            result["tasks"][name] = {"epochs": epochs, "packs": {}}
            for k in packs:
                base = {
                    "task": name,
                    "k": k,
                    "threads": threads,
                    "epochs": epochs,
                    "weights": str(workdir / f"{name}-k{k}.npz"),
                }
                _in_its_own_process({**base, "leg": "init"}, workdir)
                legs: dict[str, list[dict[str, Any]]] = {leg: [] for leg in LEGS}
                for r in range(rounds):
                    order = list(LEGS)[r % len(LEGS) :] + list(LEGS)[: r % len(LEGS)]
                    for leg in order:
                        legs[leg].append(
                            _in_its_own_process({**base, "leg": leg, "round": r}, workdir)
                        )
                result["tasks"][name]["packs"][str(k)] = {
                    "learning_rates": learning_rates(k),
                    **legs,
                }
                out.write_text(json.dumps(result, indent=1))
                rows = summarize_pack(legs)
                print(
                    f"{name} k={k}: "
                    + ", ".join(
                        f"{leg} {row['wall_s']:.2f} s (x{row['ratio']:.2f}, score diff "
                        f"{row['max_score_diff']:.4f})"
                        for leg, row in rows.items()
                    ),
                    flush=True,
                )
    return result


def summarize_pack(legs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """For each leg: its median wall, the median of the rounds' sequential/leg wall ratios, and
    the largest difference between a member's best score in that leg and sequentially, in any
    round."""
    seq = legs["sequential"]
    out = {}
    for leg in LEGS:
        if leg not in legs:
            continue  # a file written before the leg existed
        runs = legs[leg]
        diffs = [
            abs(a - b)
            for s, r in zip(seq, runs, strict=True)
            for a, b in zip(s["scores"], r["scores"], strict=True)
        ]
        out[leg] = {
            "wall_s": statistics.median(r["wall_s"] for r in runs),
            "ratio": statistics.median(
                s["wall_s"] / r["wall_s"] for s, r in zip(seq, runs, strict=True)
            ),
            "max_score_diff": max(diffs),
        }
    return out


def report(result: dict[str, Any]) -> str:
    lines = [
        f"{result['rounds']} rounds, batch {result['batch_size']}, "
        f"{result['threads']} TensorFlow thread(s) a process",
        "",
        "| task | epochs | K | leg | wall s | per trial s | sequential / leg | "
        "largest best-score difference from sequential |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, entry in result["tasks"].items():
        for k, legs in entry["packs"].items():
            for leg, row in summarize_pack(legs).items():
                lines.append(
                    f"| {name} | {entry['epochs']} | {k} | {leg} | {row['wall_s']:.2f} | "
                    f"{row['wall_s'] / int(k):.2f} | {row['ratio']:.2f} | "
                    f"{row['max_score_diff']:.4f} |"
                )
    return "\n".join(lines)


def _positive_ints(text: str, flag: str, parser: argparse.ArgumentParser) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        parser.error(f"{flag} takes comma-separated integers of at least 1. Received: {text!r}")
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=DEFAULT_TASKS)
    parser.add_argument("--packs", default="1,4,8", help="pack sizes K")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads a process")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", type=Path, help="print the table of a written file")
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.job is not None:
        job = json.loads(args.job.read_text())
        Path(job["out"]).write_text(json.dumps(run_job(job)))
        return
    if args.report is not None:
        print(report(json.loads(args.report.read_text())))
        return
    if args.out is None:
        parser.error("--out is required to measure (or pass --report FILE)")
    packs = _positive_ints(args.packs, "--packs", parser)
    if args.rounds < 1 or args.threads < 1:
        parser.error(
            f"--rounds and --threads must be at least 1. Received: {args.rounds}, {args.threads}"
        )
    import tasks

    names = args.tasks.split(",")
    unknown = [n for n in names if n not in tasks.TASKS]
    if unknown:
        parser.error(f"--tasks: unknown {', '.join(unknown)}; known: {', '.join(tasks.TASKS)}")
    started = time.perf_counter()
    result = measure(names, packs, args.rounds, args.threads, args.out)
    result["minutes"] = round((time.perf_counter() - started) / 60, 1)
    args.out.write_text(json.dumps(result, indent=1))
    print(report(result))


if __name__ == "__main__":
    main()
