"""Does the tuned config beat Keras defaults on data the search never saw?

Unscaled breast-cancer features (about 3e-2 to 4e3): a held-out test split is put aside, a search of
``--trials`` x ``--epochs`` runs on the rest, the exported config is loaded with
``adamtune.load_config`` and a fresh model is retrained from scratch with it; the baseline is the
same model with Keras defaults (``Adam()``, batch 32, raw inputs, the same epochs).

    python benchmarks/heldout.py --seeds 0 1 2 --out benchmarks/results/heldout.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def build_model() -> Any:
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(30,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def _split(seed: int) -> tuple[Any, Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    x, y = data.data.astype("float32"), data.target.astype("int64")
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def _evaluate(model: Any, x: Any, y: Any) -> dict[str, float]:
    loss, accuracy = model.evaluate(x, y, verbose=0)
    return {"loss": float(loss), "accuracy": float(accuracy)}


def run(
    seed: int = 0, trials: int = 12, epochs: int = 10, workdir: str | None = None
) -> dict[str, Any]:
    """One seed: search, export, reload, retrain; and the Keras-defaults baseline."""
    import keras

    import adamtune

    x_train, x_test, y_train, y_test = _split(seed)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        started = time.perf_counter()
        result = adamtune.search(
            build_model,
            (x_train, y_train),
            trials=trials,
            epochs=epochs,
            seed=seed,
            storage=f"sqlite:///{Path(tmp) / 'study.db'}",
            study_name=f"heldout-{seed}",
            verbose=0,
        )
        search_seconds = time.perf_counter() - started
        cfg = adamtune.load_config(result.export(Path(tmp) / "tuned.json"))

    keras.utils.set_random_seed(seed)
    scaler = cfg.scaler().fit(x_train)
    tuned = cfg.build(build_model)
    tuned.compile(**cfg.compile_kwargs())
    tuned.fit(scaler.transform(x_train), y_train, verbose=0, **cfg.fit_kwargs())
    tuned_scores = _evaluate(tuned, scaler.transform(x_test), y_test)

    keras.utils.set_random_seed(seed)
    default = build_model()
    default.compile(
        optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", metrics=["accuracy"]
    )
    default.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    default_scores = _evaluate(default, x_test, y_test)
    return {
        "seed": seed,
        "trials": trials,
        "epochs": epochs,
        "search_seconds": round(search_seconds, 1),
        "outcomes": dict(result.outcomes),
        "tuned_params": cfg.params,
        "tuned": tuned_scores,
        "keras_defaults": default_scores,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default=None, help="write the runs as JSON here")
    args = parser.parse_args(argv)
    runs = [run(seed, args.trials, args.epochs) for seed in args.seeds]
    for r in runs:
        print(
            f"seed {r['seed']}: tuned acc {r['tuned']['accuracy']:.4f} "
            f"loss {r['tuned']['loss']:.4f} | Keras defaults acc "
            f"{r['keras_defaults']['accuracy']:.4f} loss {r['keras_defaults']['loss']:.4f} "
            f"| search {r['search_seconds']} s {r['outcomes']}"
        )
    for key in ("tuned", "keras_defaults"):
        accs = [r[key]["accuracy"] for r in runs]
        print(f"{key}: mean test accuracy {statistics.mean(accs):.4f} over {len(accs)} seeds")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    main()
