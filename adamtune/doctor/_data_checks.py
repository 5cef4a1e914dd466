"""The doctor's data checks: nothing here trains. Non-finite values, feature scales, class balance,
and whether there are enough samples for the model."""

from __future__ import annotations

from typing import Any

import numpy as np

from adamtune.data import Data, Prepared, to_array, unpack
from adamtune.doctor._findings import Finding, sentence

__all__ = [
    "IMBALANCE_RATIO",
    "TINY_PARAMS_PER_SAMPLE",
    "TINY_TRAIN_SAMPLES",
    "TINY_VAL_SAMPLES",
    "UNSCALED_MAX_RMS",
    "UNSCALED_MIN_RMS",
    "UNSCALED_PEAK_RATIO",
    "check_class_balance",
    "check_nonfinite",
    "check_scales",
    "check_size",
    "check_target_scale",
]

# --- thresholds --------------------------------------------------------------------------------

# A feature's typical magnitude is its root mean square over the training split (standardized
# features: exactly 1; min-max scaled: at most 1; raw 0-255 pixels: ~100; raw digits: up to 13).
# Above 10, the first layer's pre-activations at Glorot init are many times their intended unit
# scale: units saturate or explode and the first steps of Adam are spent undoing it (raw digits:
# 0.65 validation accuracy against 0.97 standardized, FACTS.md).
UNSCALED_MAX_RMS = 10.0
# Below 1e-2 for every feature, the first layer's weights must grow 100-fold before the inputs
# move the output; at Adam's ~lr-sized steps that takes thousands of steps.
UNSCALED_MIN_RMS = 1e-2
# Peak magnitudes (max |x| per non-constant feature) three decades apart: the features share one
# learning rate although their weights need steps 1000x apart. Peaks, not RMS, for the ratio: a
# rare binary or sparse pixel feature has a tiny RMS even after min-max scaling, but peak 1; and a
# standardized rare feature peaks at ~sqrt(n) (38 on digits), still well below 1e3.
UNSCALED_PEAK_RATIO = 1e3

# The rarest class has under a tenth of the commonest's training samples: a constant prediction of
# the majority then already scores >= 91% accuracy (binary), and the rare class contributes a tenth
# of the gradient, so training loss and accuracy look good while the rare class is never predicted.
IMBALANCE_RATIO = 0.1

# Under 100 training samples an epoch is ~3 batches of 32: a "5 epoch" budget is ~15 Adam steps,
# and any model with a hidden layer can memorize the set.
TINY_TRAIN_SAMPLES = 100
# Under 30 validation samples one misclassified sample moves validation accuracy by over 3%: the
# validation curve is too noisy to compare settings or to stop on.
TINY_VAL_SAMPLES = 30
# Over 100 trainable parameters per training sample the model can memorize the training set many
# times over (the digits MLP of the tests has under 1 per sample).
TINY_PARAMS_PER_SAMPLE = 100.0


# --- non-finite values -------------------------------------------------------------------------


def _bad_rows(array: np.ndarray) -> np.ndarray:
    """A boolean per row: whether it holds a NaN or infinity (numeric arrays only)."""
    if not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.complexfloating)
    ):
        return np.zeros(len(array), dtype=bool)
    bad = ~np.isfinite(array)
    return bad.reshape(len(array), -1).any(axis=1) if array.ndim > 1 else bad


def _count(array: np.ndarray) -> tuple[int, int]:
    if not np.issubdtype(array.dtype, np.floating):
        return 0, 0
    return int(np.isnan(array).sum()), int(np.isinf(array).sum())


def check_nonfinite(data: Any) -> tuple[Finding | None, Any]:
    """A ``nonfinite-data`` finding (or None) and ``data`` without the rows holding NaN/inf, in
    the form it came in (``None`` when no row is left). Non-numeric arrays pass through: the
    data's own checks (``prepare_data``) reject them with their message."""
    given = unpack(data)  # sample weights are left out: the doctor's probes do not weight
    x, y, x_val, y_val, split = given.x, given.y, given.x_val, given.y_val, given.split
    parts = {"x": x, "y": y} if x_val is None else {"x": x, "y": y, "x_val": x_val, "y_val": y_val}
    arrays = {name: to_array(value, name) for name, value in parts.items()}
    counts = {name: _count(a) for name, a in arrays.items()}
    if not any(nan + inf for nan, inf in counts.values()):
        return None, data
    keep = {
        "train": ~(_bad_rows(arrays["x"]) | _bad_rows(arrays["y"])),
    }
    if x_val is not None:
        keep["val"] = ~(_bad_rows(arrays["x_val"]) | _bad_rows(arrays["y_val"]))
    described = [
        f"{name} holds {nan} NaN and {inf} infinite value(s)"
        for name, (nan, inf) in counts.items()
        if nan + inf
    ]
    dropped = {part: int((~mask).sum()) for part, mask in keep.items()}
    total = {"train": len(arrays["x"]), "val": len(arrays["x_val"]) if x_val is not None else 0}
    rows = "; ".join(f"{dropped[p]} of {total[p]} {p} rows affected" for p in keep)
    finding = Finding(
        "nonfinite-data",
        "error",
        f"{', '.join(described)} ({rows}). Adam turns one NaN into NaN weights at the first step "
        "that sees it, so the training probes were skipped.",
        "impute the missing values (sklearn.impute.SimpleImputer) or drop those rows before "
        "training; adamtune.search refuses such data",
        {
            "nan": {name: c[0] for name, c in counts.items()},
            "inf": {name: c[1] for name, c in counts.items()},
            "rows_affected": dropped,
            "rows": total,
        },
    )
    if any(mask.sum() == 0 for mask in keep.values()):
        return finding, None
    m = keep["train"]
    if x_val is None:
        if isinstance(data, Data):
            return finding, Data(arrays["x"][m], arrays["y"][m], validation_split=split)
        return finding, (arrays["x"][m], arrays["y"][m])
    v = keep["val"]
    return finding, (
        (arrays["x"][m], arrays["y"][m]),
        (arrays["x_val"][v], arrays["y_val"][v]),
    )


# --- feature scales ----------------------------------------------------------------------------


def check_scales(prepared: Prepared) -> Finding | None:
    """``unscaled-features`` when the inputs are far from unit scale or on very different scales."""
    flat = prepared.x_train.reshape(len(prepared.x_train), -1).astype(np.float64)
    live = flat.std(axis=0) > 0
    if not live.any():
        return None
    rms = np.sqrt((flat[:, live] ** 2).mean(axis=0))
    peak = np.abs(flat[:, live]).max(axis=0)
    columns = np.flatnonzero(live)
    big, small = float(rms.max()), float(rms.min())
    ratio = float(peak.max() / max(peak.min(), 1e-30))
    data = {
        "rms_max": big,
        "rms_min": small,
        "rms_max_feature": int(columns[int(rms.argmax())]),
        "peak_max": float(peak.max()),
        "peak_min": float(peak.min()),
        "peak_ratio": ratio,
        "features": int(live.sum()),
        "constant_features": int((~live).sum()),
    }
    reasons = []
    if big > UNSCALED_MAX_RMS:
        reasons.append(
            f"feature {data['rms_max_feature']} has a root-mean-square magnitude of {big:.2g} "
            f"(over {UNSCALED_MAX_RMS:g})"
        )
    if big < UNSCALED_MIN_RMS:
        reasons.append(
            f"every feature's root-mean-square magnitude is at most {big:.2g} "
            f"(under {UNSCALED_MIN_RMS:g})"
        )
    if ratio > UNSCALED_PEAK_RATIO:
        reasons.append(
            f"feature ranges span {peak.min():.1e} to {peak.max():.1e}, ratio {ratio:.1e} "
            f"(over {UNSCALED_PEAK_RATIO:.0e})"
        )
    if not reasons:
        return None
    return Finding(
        "unscaled-features",
        "warning",
        sentence("; ".join(reasons)),
        "scale inputs: scaler='standard' (sklearn StandardScaler fitted on the training split); "
        "or search with a space whose `scaling` includes standard (the default space tries "
        "none, standard, minmax and robust)",
        data,
    )


def check_target_scale(prepared: Prepared) -> Finding | None:
    """``unscaled-targets`` when a regression's targets have a root-mean-square magnitude over
    :data:`UNSCALED_MAX_RMS`: Adam moves each weight by about lr per step, so an output that must
    reach targets of 1e4 spends its steps growing to their scale (``tests/test_doctor_targets.py``
    trains the same MLP with Adam(1e-3) on Friedman #1 with standardized targets and at 100x and
    1e4x that scale; the README gives its numbers)."""
    if prepared.target.kind != "regression" or not isinstance(prepared.y_train, np.ndarray):
        return None
    y = prepared.y_train.reshape(len(prepared.y_train), -1).astype(np.float64)
    rms = np.sqrt((y**2).mean(axis=0))
    column = int(rms.argmax())
    big = float(rms[column])
    if not big > UNSCALED_MAX_RMS:
        return None
    mean, std = float(y[:, column].mean()), float(y[:, column].std())
    which = "the targets have" if y.shape[1] == 1 else f"target column {column} has"
    return Finding(
        "unscaled-targets",
        "warning",
        sentence(
            f"{which} a root-mean-square magnitude of {big:.2g} (mean {mean:.3g}, standard "
            f"deviation {std:.3g}; over {UNSCALED_MAX_RMS:g}): Adam moves each weight by about "
            "lr per step, so the output spends its first steps growing to the targets' scale, "
            "and the learning rates that train sit far above the usual ones"
        ),
        "standardize the targets: fit sklearn's StandardScaler on y_train, train on its "
        "transform and inverse_transform the predictions. adamtune.search leaves your targets "
        "as they are, so its LR range test then points at the large rates these targets need",
        {
            "rms_max": big,
            "column": column,
            "mean": mean,
            "std": std,
            "outputs": int(y.shape[1]),
        },
    )


# --- classes and sizes -------------------------------------------------------------------------


def _labels(prepared: Prepared) -> np.ndarray | None:
    if not prepared.target.is_classification:
        return None
    y = prepared.y_train
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)


def check_class_balance(prepared: Prepared) -> Finding | None:
    """``class-imbalance`` when the rarest class has under IMBALANCE_RATIO of the commonest's."""
    labels = _labels(prepared)
    if labels is None:
        return None
    counts = np.bincount(labels, minlength=prepared.target.n_classes or 0)
    ratio = float(counts.min() / counts.max())
    if ratio >= IMBALANCE_RATIO:
        return None
    rare, common = int(counts.argmin()), int(counts.argmax())
    share = float(counts.max() / counts.sum())
    return Finding(
        "class-imbalance",
        "warning",
        f"class {rare} has {counts.min()} training samples against {counts.max()} for class "
        f"{common} (ratio {ratio:.2g}, under {IMBALANCE_RATIO:g}); predicting class {common} "
        f"always already scores {share:.0%} accuracy.",
        'weight the classes: search(class_weight="balanced") (CLI: --class-weight balanced), '
        "which weights them as fit(class_weight=...) does, or resample; judge the model by a "
        "per-class metric (AUC, recall), not accuracy",
        {
            "counts": [int(c) for c in counts],
            "ratio": ratio,
            "majority_share": share,
        },
    )


def check_size(prepared: Prepared, params: int, batch_size: int) -> Finding | None:
    """``tiny-dataset`` when the splits are too small to train on, or to judge by."""
    n_train, n_val = len(prepared.x_train), len(prepared.x_val)
    per_sample = params / n_train
    reasons = []
    if n_train < TINY_TRAIN_SAMPLES:
        steps = -(-n_train // batch_size)
        reasons.append(
            f"{n_train} training samples (under {TINY_TRAIN_SAMPLES}): {steps} Adam step(s) per "
            f"epoch at batch size {batch_size}"
        )
    if n_val < TINY_VAL_SAMPLES:
        reasons.append(
            f"{n_val} validation samples (under {TINY_VAL_SAMPLES}): one sample moves validation "
            f"accuracy by {1 / n_val:.0%}"
        )
    if per_sample > TINY_PARAMS_PER_SAMPLE:
        reasons.append(
            f"{params} trainable parameters for {n_train} training samples ({per_sample:.0f} per "
            f"sample, over {TINY_PARAMS_PER_SAMPLE:g}): the model can memorize the set"
        )
    if not reasons:
        return None
    return Finding(
        "tiny-dataset",
        "warning",
        sentence("; ".join(reasons)),
        "gather more data or use a smaller model; judge settings by cross-validation rather than "
        "one small validation split, and add regularization (the default space's l2 or adamw)",
        {
            "n_train": n_train,
            "n_val": n_val,
            "params": params,
            "params_per_sample": per_sample,
            "batch_size": batch_size,
        },
    )
