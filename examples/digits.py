"""Tune Adam for a small MLP on scikit-learn's digits (1797 8x8 images, 10 classes).

    python examples/digits.py                 # 12 trials, SQLite file adamtune.db, tuned.json
    python examples/digits.py --epochs 5      # its own study, digits-default-5ep
    adamtune search examples/digits.py:build_model --data examples/digits.py:load_data

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
from pathlib import Path
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
    parser.add_argument("--trials", type=int, default=12, help="finished trials to reach")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial")
    parser.add_argument("--space", default="default", help="shipped space name or YAML file")
    parser.add_argument("--storage", default=None, help="default: sqlite:///adamtune.db")
    parser.add_argument(
        "--study",
        default=None,
        help="study name (default digits-<space>-<epochs>ep: a run with other --epochs or "
        "--space starts its own study instead of clashing with the stored one)",
    )
    parser.add_argument("-o", "--output", "--out", default="tuned.json", help="best config file")
    args = parser.parse_args(argv)
    study = args.study or f"digits-{Path(args.space).stem}-{args.epochs}ep"

    result = adamtune.search(
        build_model,
        load_data(),
        space=args.space,
        trials=args.trials,
        epochs=args.epochs,
        objective="val_accuracy",
        storage=args.storage,
        study_name=study,
        seed=0,
    )
    print(result)  # the study in a few lines
    print(result.best)  # the tuned config, one setting a line
    print(f"wrote {result.export(args.output)}")
    where = f" --storage {args.storage}" if args.storage else ""  # else adamtune.db, the default
    print(f"study {study!r}; look at it with:")
    print(f"  adamtune status{where} --study {study}")
    print(f"  adamtune report{where} --study {study} -o report.html")
    return result


if __name__ == "__main__":
    main()
