"""Tune Adam for a small MLP on scikit-learn's digits (1797 8x8 images, 10 classes).

    python examples/digits.py                 # 12 trials, SQLite file adamtune.db, tuned.json
    adamtune search examples/digits.py:build_model --data examples/digits.py:load_data

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """Digits as raw pixel counts 0..16 (unscaled on purpose) and integer labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data.astype("float32"), digits.target.astype("int64")


def build_model(hp: Any) -> Any:
    """An MLP whose width is searched beside Adam's settings; adamtune adds regularizer/BatchNorm."""
    import keras

    units = hp.int("units", 32, 256, log=True)
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv: list[str] | None = None) -> Any:
    import adamtune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--space", default="default")
    parser.add_argument("--storage", default=None, help="default: sqlite:///adamtune.db")
    parser.add_argument("--out", default="tuned.json")
    args = parser.parse_args(argv)

    result = adamtune.search(
        build_model,
        load_data(),
        space=args.space,
        trials=args.trials,
        epochs=args.epochs,
        objective="val_accuracy",
        storage=args.storage,
        study_name="digits",
        seed=0,
    )
    best = result.best
    print(f"best val_accuracy {best.value:.4f} with {best.params}")
    print(f"outcomes: {dict(result.outcomes)}")
    print(f"wrote {result.export(args.out)}")
    return result


if __name__ == "__main__":
    main()
