"""Search the regularizer's type and strength (L1, L2, L1+L2, AdamW) for a model that overfits.

    python examples/recipe_regularizer.py                    # 12 trials x 8 epochs, tuned_regularizer.json
    python examples/recipe_regularizer.py --out tuned.yaml   # export as YAML instead

Setting ``L2(0.01)`` on every kernel by hand fixes one type and one strength, chosen before seeing
the data. Here a wide MLP is trained on only 300 digits, so it overfits, and the search picks the
type and, for that type, the strength (each type has its own range: a good L1 strength is not a good
AdamW weight decay). ``build_model`` takes no argument and attaches no regularizer: adamtune adds the
trial's regularizer to every Dense kernel itself, or switches to AdamW for decoupled weight decay.

The search ranks trials by validation accuracy, the number this example reports on the test split.
(With the default ``val_loss`` objective the types would compete fairly too: adamtune scores a loss
without the L1/L2 penalty Keras adds to ``val_loss``, which AdamW's decay never appears in.)

After the search the best config is exported, read back with ``adamtune.load_config`` as training
code would, trained from scratch and scored on a test split the search never saw.

The data ships with scikit-learn, so this runs offline.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

N_TRAIN = 300  # training digits; as many again for validation, the rest (1197) for the test


def load_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Digits split into a small train set, a validation set and a test set (stratified, seeded)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x, y = digits.data.astype("float32"), digits.target.astype("int64")
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, train_size=N_TRAIN, stratify=y, random_state=0
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, train_size=N_TRAIN, stratify=y_rest, random_state=0
    )
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """What the search sees: ``((x_train, y_train), (x_val, y_val))``; the test split stays out."""
    splits = load_splits()
    return splits["train"], splits["val"]


def build_model() -> Any:
    """A wide MLP with no regularizer of its own: too many weights for 300 samples."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def make_space(epochs: int) -> Any:
    """Four regularizer types, each with a strength range of its own; min-max scaling, no BN."""
    from adamtune.spaces import FloatRange, LearningRate, Space

    return Space(
        name="regularizer",
        description="Regularizer type and strength, with the learning rate and batch size.",
        learning_rate=LearningRate(low=1e-4, high=1e-2, reference_batch_size=32, rule="sqrt"),
        batch_size=(16, 32, 64),
        regularizer={
            "l1": FloatRange(1e-6, 1e-3, log=True),
            "l2": FloatRange(1e-5, 1e-2, log=True),  # the often hand-set L2(0.01) is the top
            "l1_l2": FloatRange(1e-6, 1e-3, log=True),
            # AdamW's decay is multiplied by the learning rate at each step, so it needs larger values.
            "adamw": FloatRange(1e-3, 1.0, log=True),
        },
        batch_norm=(False,),
        scaling=("minmax",),
        epochs=epochs,
    )


def by_type(trials: Any) -> str:
    """Per regularizer type: trials run, how many completed, and the best validation accuracy."""
    completed = trials["value"].where(trials["state"] == "COMPLETE")
    table = (
        trials.assign(completed=completed)
        .groupby("regularizer")
        .agg(
            trials=("number", "size"),
            ok=("outcome", lambda s: int((s == "ok").sum())),
            best_val_accuracy=("completed", "max"),
            weakest=("regularizer_strength", "min"),
            strongest=("regularizer_strength", "max"),
        )
    )
    return table.to_string(
        na_rep="-",  # a type with no completed trial has no best value
        formatters={
            "best_val_accuracy": "{:.4f}".format,
            "weakest": "{:.1e}".format,
            "strongest": "{:.1e}".format,
        },
    )


def train_with(path: Any) -> float:
    """Training code, as it would live in a project: load the config, train, score on the test."""
    import keras

    import adamtune

    splits = load_splits()
    (x_train, y_train), (x_test, y_test) = splits["train"], splits["test"]

    cfg = adamtune.load_config(path)
    keras.utils.set_random_seed(0)
    model = cfg.build(build_model)  # the tuned regularizer on every Dense kernel (none for AdamW)
    model.compile(**cfg.compile_kwargs())  # Adam, or AdamW with the tuned weight decay
    scaler = cfg.scaler().fit(x_train)
    model.fit(scaler.transform(x_train), y_train, verbose=0, **cfg.fit_kwargs())
    _, accuracy = model.evaluate(scaler.transform(x_test), y_test, verbose=0)
    print(
        f"trained from {path}: {cfg.optimizer['class_name']}, "
        f"{cfg.fit_kwargs()}, test accuracy {accuracy:.4f} on {len(y_test)} held-out digits"
    )
    return float(accuracy)


def main(argv: list[str] | None = None) -> Any:
    import adamtune

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--storage", default=None, help="default: sqlite:///adamtune.db")
    parser.add_argument("--study", default="recipe-regularizer")
    parser.add_argument("--out", default="tuned_regularizer.json", help=".json, .yaml or .py")
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
    print(by_type(result.trials))
    print(f"outcomes: {dict(result.outcomes)}")

    best = result.best  # raises, naming the outcomes, if no trial completed
    print(
        f"chosen: {best.adam.regularizer} at strength {best.adam.regularizer_strength:.3g}, "
        f"learning rate {best.adam.learning_rate:.2e}, batch size {best.adam.batch_size}, "
        f"{best.epochs} epoch(s) (val_accuracy {best.value:.4f})"
    )
    path = result.export(args.out)
    print(f"wrote {path}")
    train_with(path)
    return result


if __name__ == "__main__":
    main()
