"""The doctor on a model that needs warmup: two 1024-unit ReLU layers on standardized digits,
Adam at lr 0.03. Constant-rate, the loss blows up in the first steps; the doctor's warmup probe
trains the same model, seed and data with the rate reached over the first epoch, and compares.

    python examples/doctor_warmup.py              # the table (about 20 s)
    python examples/doctor_warmup.py --json       # the findings with every number
    adamtune doctor examples/doctor_warmup.py:build_model \
        --data examples/doctor_warmup.py:load_data --lr 0.03 --no-lr-range

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """Digits, each feature standardized (so that scale is not the problem), integer labels."""
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    digits = load_digits()
    x = StandardScaler().fit_transform(digits.data).astype("float32")
    return x, digits.target.astype("int64")


def build_model() -> Any:
    """Wide layers: Adam's first steps move every weight by about lr at once."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(1024, activation="relu"),
            keras.layers.Dense(1024, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def main(argv: list[str] | None = None) -> Any:
    import keras

    import adamtune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.03, help="Adam's learning rate")
    parser.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    args = parser.parse_args(argv)
    diagnosis = adamtune.diagnose(
        build_model, load_data(), optimizer=keras.optimizers.Adam(args.lr), lr_range=False
    )
    print(diagnosis.to_json() if args.json else diagnosis.table())
    return diagnosis


if __name__ == "__main__":
    main()
