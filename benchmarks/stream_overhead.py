"""Per-trial cost of a tf.data input against arrays holding the same data (issue 14).

    python benchmarks/stream_overhead.py --form arrays          # one search, one JSON line
    python benchmarks/stream_overhead.py --form tfdata
    python benchmarks/stream_overhead.py --repeat 5             # paired rounds, medians, ratios

One ``adamtune.search`` on scikit-learn's digits (1797 samples, 64 features, 10 classes; a fixed,
stratified 80/20 split, raw 0-16 pixel values) with a Dense 64 relu / Dense 10 softmax model, in a
one-point space (batch 32, learning rate 1e-3, no regularizer, no BatchNorm, standard scaling),
no pruning and a fixed seed, so every trial of every form trains the same configuration for the
same number of epochs. The storage is SQLite in a temporary folder. The data is given as

- ``arrays``: ``((x_tr, y_tr), (x_va, y_va))``;
- ``tfdata``: ``(train_ds, val_ds)``, unbatched ``from_tensor_slices`` datasets, the training one
  shuffled each pass (as Keras shuffles arrays); adamtune batches them;
- ``tfdata-batched``: the same, batched by the user (training 32, validation 256); adamtune
  unbatches the training stream and batches it again at the trial's size.

The timing is per trial, read from the study (``Result.trials["seconds"]``: model build, compile,
feed, ``fit`` and evaluation of each trial), so neither the interpreter's and TensorFlow's start-up
nor the search's pre-flight is in it. One run prints one JSON line; ``per_trial_seconds`` is the
median over its trials. ``--repeat N`` runs N rounds of every form, each run in a fresh process,
the forms' order alternating round by round (A B, B A, ...), and prints every run's line and then
a summary line: the median ``per_trial_seconds`` of each form over the runs and, for each form,
its ratio to ``arrays``, taken round by round (pairing keeps the ratio fair when the machine's
speed drifts), as the ratio of the medians, and as the ratio of the fastest trials (other work on
a shared machine only ever adds time, so the minima move least with it).

``--interleave N`` pairs more tightly, for a machine whose load changes within a run: one process
keeps one study per form and, round by round, adds ``--trials`` trials to each in turn (the forms'
order alternating), so trials of the two forms are seconds apart. ``--warmup`` rounds (default 1)
run first and are not counted: the first trials in a process pay TensorFlow's one-time costs.
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

FORMS = ("arrays", "tfdata", "tfdata-batched")
TRAIN_BATCH = 32
VAL_BATCH = 256  # what adamtune itself uses for validation (arrays and unbatched streams)


def _digits(seed: int) -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.data.astype("float32")  # raw 0-16: the standard scaler has work to do
    y = digits.target.astype("int64")
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    return x_tr, y_tr, x_va, y_va


def model_fn() -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def _space(batch_size: int, learning_rate: float, scaling: str, epochs: int) -> Any:
    from adamtune.spaces import LearningRate, Space

    return Space(
        name="stream-overhead",
        description="benchmarks/stream_overhead.py: one point, so every form runs the same trials",
        learning_rate=LearningRate(
            low=learning_rate, high=learning_rate, reference_batch_size=batch_size, rule="none"
        ),
        batch_size=(batch_size,),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=(scaling,),
        epochs=epochs,
    )


def _data(form: str, seed: int) -> Any:
    x_tr, y_tr, x_va, y_va = _digits(seed)
    if form == "arrays":
        return (x_tr, y_tr), (x_va, y_va)
    import tensorflow as tf

    train = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(
        len(x_tr), seed=seed, reshuffle_each_iteration=True
    )
    val = tf.data.Dataset.from_tensor_slices((x_va, y_va))
    if form == "tfdata-batched":
        train, val = train.batch(TRAIN_BATCH), val.batch(VAL_BATCH)
    return train, val


def _search(form: str, data: Any, args: argparse.Namespace, storage: str, trials: int) -> Any:
    import adamtune

    return adamtune.search(
        model_fn,
        data,
        space=_space(args.batch_size, args.learning_rate, args.scaling, args.epochs),
        trials=trials,
        epochs=args.epochs,
        pruner="none",
        seed=args.seed,
        storage=storage,
        study_name=f"stream-overhead-{form}",
        objective="val_loss",
        verbose=0,
    )


def _seconds(result: Any, expected: int, epochs: int) -> list[float]:
    """Each trial's seconds, in trial order; every trial must have run all its epochs (the same
    work in every form)."""
    table = result.trials
    seconds = [float(s) for s in table["seconds"] if s == s]  # NaN: a trial without a time
    ran = [int(e) for e in table["epochs_run"] if e == e]
    if len(seconds) != expected or ran != [epochs] * expected:
        raise RuntimeError(
            f"expected {expected} timed trials of {epochs} epochs; got seconds {seconds}, epochs "
            f"{ran}, outcomes {dict(result.outcomes)}"
        )
    return seconds


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One search in this process; its per-trial seconds as a JSON-ready dict."""
    data = _data(args.form, args.seed)
    with tempfile.TemporaryDirectory(prefix="adamtune-stream-overhead-") as tmp:
        started = time.perf_counter()
        result = _search(args.form, data, args, f"sqlite:///{Path(tmp) / 'study.db'}", args.trials)
        search_seconds = time.perf_counter() - started
        table = result.trials
        outcomes = dict(result.outcomes)
        best = result.best.value
        seconds = _seconds(result, args.trials, args.epochs)
    return {
        "form": args.form,
        "trials": args.trials,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "scaling": args.scaling,
        "seed": args.seed,
        "threads": args.threads,
        "trial_seconds": [round(s, 4) for s in seconds],
        "per_trial_seconds": round(statistics.median(seconds), 4),
        "mean_trial_seconds": round(statistics.fmean(seconds), 4),
        "total_trial_seconds": round(sum(seconds), 4),
        "search_seconds": round(search_seconds, 4),
        "epochs_run": [int(e) for e in table["epochs_run"]],
        "outcomes": outcomes,
        "best_val_loss": None if best is None else round(float(best), 5),
    }


def _child(form: str, args: argparse.Namespace) -> dict[str, Any]:
    """One run in a fresh interpreter (nothing traced or cached carries over between runs)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        f"--form={form}",
        f"--trials={args.trials}",
        f"--epochs={args.epochs}",
        f"--batch-size={args.batch_size}",
        f"--learning-rate={args.learning_rate}",
        f"--scaling={args.scaling}",
        f"--seed={args.seed}",
        f"--threads={args.threads}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
        )
    return dict(json.loads(lines[-1]))


def _forms(args: argparse.Namespace) -> list[str]:
    forms = list(dict.fromkeys(f.strip() for f in args.forms.split(",") if f.strip()))
    unknown = [f for f in forms if f not in FORMS]
    if unknown or "arrays" not in forms or len(forms) < 2:
        raise SystemExit(f"--forms: arrays and at least one of {FORMS[1:]}; got {args.forms!r}")
    return forms


def _summary(
    mode: str,
    rounds: int,
    forms: list[str],
    runs: dict[str, list[float]],
    every: dict[str, list[float]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Each form's median per-trial seconds over the rounds, and its ratios to arrays.

    ``runs``: each run's median trial; ``every``: every counted trial. The fastest trial of each
    form is given too: on a shared machine other work only ever adds time, so the ratio of the
    minima is the figure least moved by it (quote it beside the medians, not instead)."""
    medians = {f: statistics.median(v) for f, v in runs.items()}
    minima = {f: min(v) for f, v in every.items()}
    base = runs["arrays"]
    out: dict[str, Any] = {
        "summary": mode,
        "rounds": rounds,
        "order": "forms alternate round by round: " + ",".join(forms) + ", then reversed",
        "trials": args.trials,
        "epochs": args.epochs,
        "threads": args.threads,
        "cores": os.cpu_count(),
        "per_trial_seconds": runs,
        "median_per_trial_seconds": {f: round(m, 4) for f, m in medians.items()},
        "min_trial_seconds": {f: round(m, 4) for f, m in minima.items()},
    }
    for form in forms[1:]:
        pairs = [a / b for a, b in zip(runs[form], base, strict=True)]
        out[f"ratio_{form}_over_arrays"] = {
            "median_of_paired": round(statistics.median(pairs), 4),
            "of_medians": round(medians[form] / medians["arrays"], 4),
            "of_minima": round(minima[form] / minima["arrays"], 4),
            "paired": [round(p, 4) for p in pairs],
        }
    return out


def paired(args: argparse.Namespace) -> dict[str, Any]:
    """``--repeat`` rounds of every form in ``--forms``, fresh processes, alternating order."""
    forms = _forms(args)
    runs: dict[str, list[float]] = {f: [] for f in forms}
    every: dict[str, list[float]] = {f: [] for f in forms}
    for r in range(args.repeat):
        for form in forms if r % 2 == 0 else forms[::-1]:
            line = _child(form, args)
            line["round"] = r
            runs[form].append(line["per_trial_seconds"])
            every[form].extend(line["trial_seconds"])
            print(json.dumps(line), flush=True)
    return _summary("fresh process per run", args.repeat, forms, runs, every, args)


def interleaved(args: argparse.Namespace) -> dict[str, Any]:
    """``--interleave`` rounds in this process: each round adds ``--trials`` trials to every
    form's study in turn (alternating order), after ``--warmup`` rounds that are not counted."""
    forms = _forms(args)
    data = {f: _data(f, args.seed) for f in forms}
    runs: dict[str, list[float]] = {f: [] for f in forms}
    every: dict[str, list[float]] = {f: [] for f in forms}
    with tempfile.TemporaryDirectory(prefix="adamtune-stream-overhead-") as tmp:
        storage = f"sqlite:///{Path(tmp) / 'study.db'}"
        for r in range(args.warmup + args.interleave):
            for form in forms if r % 2 == 0 else forms[::-1]:
                total = (r + 1) * args.trials
                result = _search(form, data[form], args, storage, total)
                new = _seconds(result, total, args.epochs)[-args.trials :]
                line = {
                    "form": form,
                    "round": r - args.warmup,
                    "warmup": r < args.warmup,
                    "trial_seconds": [round(s, 4) for s in new],
                    "per_trial_seconds": round(statistics.median(new), 4),
                }
                print(json.dumps(line), flush=True)
                if r >= args.warmup:
                    runs[form].append(line["per_trial_seconds"])
                    every[form].extend(new)
    return _summary("one process, trials interleaved", args.interleave, forms, runs, every, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--form", choices=FORMS, default="arrays", help="one run of this form")
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=TRAIN_BATCH)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--scaling", default="standard", help="none, standard, minmax or robust")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TensorFlow's intra-op threads (inter-op 1; tf.data's pool follows), one per "
        "benchmark worker as elsewhere in benchmarks/; 0 (default) leaves TensorFlow's own",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="paired mode: this many rounds of every form in --forms, each run a fresh process",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        default=0,
        help="paired mode: this many rounds in one process, the forms' trials taking turns",
    )
    parser.add_argument("--warmup", type=int, default=1, help="--interleave rounds not counted")
    parser.add_argument(
        "--forms", default=",".join(FORMS), help="the forms --repeat/--interleave run"
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 1:
        parser.error("--trials and --epochs must be at least 1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.threads > 0:  # before TensorFlow runs anything; adamtune sizes tf.data's pool to it
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.repeat > 0 and args.interleave > 0:
        parser.error("--repeat and --interleave are two ways to pair; choose one")
    if args.interleave > 0:
        out = interleaved(args)
    elif args.repeat > 0:
        out = paired(args)
    else:
        out = run_once(args)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
