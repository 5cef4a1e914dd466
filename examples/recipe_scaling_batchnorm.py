"""Search input scaling and BatchNorm for raw breast-cancer features, whose ranges differ 100000-fold.

    python examples/recipe_scaling_batchnorm.py            # 12 trials x 8 epochs, SQLite file adamtune.db
    python examples/recipe_scaling_batchnorm.py --trials 40

The 30 features of scikit-learn's breast-cancer set are left as they come: the largest values of
some stay below 0.03, others reach into the thousands. Instead of always applying a StandardScaler
and adding BatchNormalization by hand, the search tries no scaling, standard, min-max and robust
scaling (each fitted on the training split only) and BatchNorm off or on, beside the learning rate
and batch size, and the summary shows how each scaling fared.

``build_model`` takes no argument and places no BatchNorm: in the trials that use it, adamtune
inserts a BatchNormalization layer after each hidden Dense layer, before its activation.

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer: 569 samples x 30 raw (unscaled) features, labels 0 (malignant) / 1 (benign)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return data.data.astype("float32"), data.target.astype("int64")


def build_model() -> Any:
    """A small MLP with a sigmoid output; adamtune adds BatchNorm in the trials that use it."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(30,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def make_space(epochs: int) -> Any:
    """Every scaler, BatchNorm off/on, learning rate and batch size; no regularizer."""
    from adamtune.spaces import SCALERS, LearningRate, Space

    return Space(
        name="scaling-batchnorm",
        description="Input scaling and BatchNorm, with the learning rate and batch size.",
        learning_rate=LearningRate(low=1e-4, high=1e-1, reference_batch_size=32, rule="sqrt"),
        batch_size=(16, 32, 64),
        regularizer={"none": None},
        batch_norm=(False, True),
        scaling=SCALERS,  # none, standard, minmax, robust
        epochs=epochs,
    )


def by_scaling(trials: Any) -> str:
    """Per scaling: trials, how they ended, and the best and median val_accuracy of the completed."""
    lines = [
        f"{'scaling':<9} {'trials':>6} {'BN on':>5} {'best':>7} {'median':>7}  outcomes",
    ]
    for scaling, group in trials.groupby("scaling"):
        done = group.loc[group["state"] == "COMPLETE", "value"]
        outcomes = ", ".join(f"{k} {v}" for k, v in group["outcome"].value_counts().items())
        best = f"{done.max():.4f}" if len(done) else "-"
        median = f"{done.median():.4f}" if len(done) else "-"
        lines.append(
            f"{scaling:<9} {len(group):>6} {int(group['batch_norm'].sum()):>5} {best:>7} "
            f"{median:>7}  {outcomes}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Any:
    import adamtune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--storage", default=None, help="default: sqlite:///adamtune.db")
    parser.add_argument("--study", default="recipe-scaling-batchnorm")
    args = parser.parse_args(argv)

    x, y = load_data()
    spread = np.abs(x).max(axis=0)
    print(f"raw feature maxima span {spread.min():.3g} .. {spread.max():.4g}")

    result = adamtune.search(
        build_model,
        (x, y),
        space=make_space(args.epochs),
        objective="val_accuracy",
        trials=args.trials,
        epochs=args.epochs,
        storage=args.storage,
        study_name=args.study,
        seed=0,
    )
    trials = result.trials
    print(by_scaling(trials))
    cut = trials[~trials["outcome"].isin(["ok", "pruned"])]
    for row in cut.itertuples():
        bn = "with" if row.batch_norm else "without"
        print(f"  trial {row.number} ({row.scaling}, {bn} BatchNorm): {row.outcome}: {row.reason}")
    print(f"outcomes: {dict(result.outcomes)}")
    if result.outcomes.get("ok", 0):
        best = result.best
        print(
            f"best val_accuracy {best.value:.4f}: scaling {best.adam.scaling}, "
            f"BatchNorm {'on' if best.adam.batch_norm else 'off'}, "
            f"learning rate {best.adam.learning_rate:.2e}, batch size {best.adam.batch_size}"
        )
    return result


if __name__ == "__main__":
    main()
