"""Sweep Adam's learning rate over five decades together with the batch size, on digits.

    python examples/recipe_lr_sweep.py                # 12 trials x 8 epochs, SQLite file adamtune.db
    python examples/recipe_lr_sweep.py --trials 40    # the same study, continued to 40 trials

The usual hand-written sweep tries four learning rates one after another, each for the full number
of epochs, at one batch size. Here the learning rate is drawn on a log scale from 1e-5 to 1 and the
batch size from 16..256 in the same search. The rate is drawn for a reference batch of 32 and
carried to each trial's batch size by Adam's square-root rule, so "lr 3e-3 at batch 32" and
"lr 8.5e-3 at batch 256" count as the same region. Everything else is pinned (no regularizer, no
BatchNorm, standard scaling), so the table at the end is about the learning rate and batch size
only. Runs that blow up are stopped within a few batches and stored with the reason, instead of
using up their epochs.

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """Digits: 1797 8x8 images as pixel counts 0..16, and integer labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype("float32"), digits.target.astype("int64")


def build_model(hp: Any) -> Any:
    """A fixed MLP: only the learning rate and the batch size change between trials."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def make_space(epochs: int) -> Any:
    """Learning rate x batch size; every other choice has exactly one value."""
    from adamtune.spaces import LearningRate, Space

    return Space(
        name="lr-sweep",
        description="Learning rate over five decades, coupled to the batch size; nothing else.",
        learning_rate=LearningRate(low=1e-5, high=1.0, reference_batch_size=32, rule="sqrt"),
        batch_size=(16, 32, 64, 128, 256),
        regularizer={"none": None},
        batch_norm=(False,),
        scaling=("standard",),
        epochs=epochs,
    )


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"  # diverged trials are stored with the worst value, -inf
    return format(value, spec)


def sweep_table(trials: Any) -> str:
    """One line per trial, sorted by learning rate: what was tried and how it ended."""
    rows = trials.sort_values("base_learning_rate")
    lines = [
        f"{'trial':>5}  {'lr@32':>9}  {'batch':>5}  {'lr used':>9}  {'val_acc':>7}  "
        f"{'epochs':>6}  outcome"
    ]
    for row in rows.itertuples():
        lines.append(
            f"{row.number:>5}  {_fmt(row.base_learning_rate, '.2e'):>9}  {row.batch_size:>5}  "
            f"{_fmt(row.learning_rate, '.2e'):>9}  {_fmt(row.value, '.4f'):>7}  "
            f"{_fmt(row.epochs_run, 'd'):>6}  {row.outcome}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Any:
    import adamtune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--storage", default=None, help="default: sqlite:///adamtune.db")
    parser.add_argument("--study", default="recipe-lr-sweep")
    args = parser.parse_args(argv)

    result = adamtune.search(
        build_model,
        load_data(),
        space=make_space(args.epochs),
        objective="val_accuracy",
        trials=args.trials,
        epochs=args.epochs,
        storage=args.storage,
        study_name=args.study,
        seed=0,
    )

    trials = result.trials
    print(sweep_table(trials))
    print("(val_acc: the best epoch of a completed trial, the last epoch of a pruned one)")

    # Failed trials are stored with why they failed, and stop once the guard sees it.
    failed = trials[~trials["outcome"].isin(["ok", "pruned"])]
    if len(failed):
        ran = int(failed["epochs_run"].fillna(0).sum())
        print(
            f"\n{len(failed)} trial(s) failed; they used {ran} of the {len(failed) * args.epochs} "
            "epochs a fixed loop would have spent on them, and the search ranks them last:"
        )
        for row in failed.sort_values("base_learning_rate").itertuples():
            print(f"  lr {row.learning_rate:.2e} @ batch {row.batch_size}: {row.reason}")
    print(f"\noutcomes: {dict(result.outcomes)}")
    if result.outcomes.get("ok", 0):
        best = result.best
        print(
            f"best val_accuracy {best.value:.4f}: learning rate {best.adam.learning_rate:.2e} "
            f"at batch size {best.adam.batch_size} "
            f"({best.adam.base_learning_rate:.2e} at the reference batch 32), "
            f"best after {best.epochs} epoch(s)"
        )
    return result


if __name__ == "__main__":
    main()
