"""From the probes' numbers to findings about the learning rate, collapse, gradients and
regularization. Each threshold below says why it sits where it does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from adamtune.doctor._findings import Finding, sentence
from adamtune.doctor._probes import TrainingProbe
from adamtune.params import scale_for_batch

__all__ = [
    "ADAMW_DECAY_RATIO",
    "ADAM_LR_CAVEAT",
    "BATCH_MISMATCH_MIN_SCALE",
    "CHANCE_TOLERANCE",
    "CONSTANT_OUTPUT",
    "DEAD_LAYER_COLLAPSED",
    "DEAD_LAYER_INFO",
    "LR_BLOWUP_FACTOR",
    "LR_HIGH_MARGIN",
    "LR_LOW_MARGIN",
    "LR_SLOW_DROP",
    "OVERFIT_MIN_EPOCHS",
    "OVERFIT_RISE",
    "OVERFIT_TRAIN_BELOW_CHANCE",
    "REG_GRAD_RATIO",
    "VANISHING_MIN_LAYERS",
    "VANISHING_RATIO",
    "Context",
    "blowup",
    "judge",
    "lr_caveat",
    "range_text",
]

# --- thresholds --------------------------------------------------------------------------------

# A suggested Adam learning rate above 1: Adam moves every weight by about lr per step, so above 1
# a step is larger than a Glorot-initialized weight (~0.1-0.3); on the test models nothing trains
# there once the inputs are scaled (digits at lr 1.0: chance level, FACTS.md). A range test that
# points there has usually read a data or scale problem (raw breast-cancer features: 0.33..3.3).
ADAM_LR_CAVEAT = 1.0

# The running training loss exceeds 10x the first batch's: the same factor as adamtune's
# DivergenceGuard, which stops a search trial there. lr 1.0 on digits reaches ~250x.
LR_BLOWUP_FACTOR = 10.0
# The user's lr is over 3x the range test's suggested top, i.e. above the learning rate at which
# the range test's loss bottomed out (the suggested top is that lr / 3): the loss has stopped
# falling there, the sweep is at the edge of divergence.
LR_HIGH_MARGIN = 3.0
# The user's lr is over 10x below the range test's suggested bottom, i.e. over two decades below
# where the loss fell fastest: Adam's steps are ~lr per weight, so 10x fewer epochs' progress.
LR_LOW_MARGIN = 10.0
# ...and the training probe confirms it: the training data loss fell by under 10% from before the
# first step to the last epoch (digits MLP over 5 epochs at lr 1e-3: ~70%; at lr 1e-6: ~0.02%).
LR_SLOW_DROP = 0.1
# batch-lr-mismatch: the batch size is at least 4x (or at most 1/4 of) the reference 32, so Adam's
# square-root rule moves the lr by at least 2x (smaller corrections are within the range test's
# resolution; its suggested range spans a decade), and the lr is outside the suggested range on the
# side the batch size predicts (too low for a large batch, too high for a small one), but not so
# far that the scaled lr would still be lr-too-low / lr-too-high.
BATCH_MISMATCH_MIN_SCALE = 2.0
# The last epoch's training data loss is within 5% of chance (ln K for K balanced classes): the
# model predicts no better than the label frequencies.
CHANCE_TOLERANCE = 0.05
# The outputs' spread across validation samples is under 0.1% of their size: one constant output
# for every input (the digits MLP trained: ~0.6; untrained: ~0.4; lr 1.0 on raw digits: 0.0; an
# 8-layer sigmoid net: 3.5e-4).
CONSTANT_OUTPUT = 1e-3
# A ReLU layer with 90% of its units zero for every validation sample passes almost nothing on:
# with the loss at chance, the model has collapsed.
DEAD_LAYER_COLLAPSED = 0.9
# Half of a ReLU layer's units dead (while the model still learns): capacity lost, worth knowing.
DEAD_LAYER_INFO = 0.5
# Vanishing gradients: the error signal reaching the first kernel layer is under 1e-3 of the one
# reaching the last (on one batch at initialization, see LayerGradient.signal). Adam rescales each
# weight's step, but once the gradient is this far under its noise and epsilon, the early layers
# stay where initialization put them. Measured on digits (Glorot init, 32 units per layer): ReLU
# with 2 kernel layers 0.5, with 9 0.04; tanh with 9 0.2; sigmoid with 4 6e-3, with 6 4e-4 (loss
# still near chance after 5 epochs), with 9 4e-6 (collapsed to a constant output).
VANISHING_RATIO = 1e-3
# ...in a model of at least 3 kernel layers: with two the "first" layer is one step from the loss.
VANISHING_MIN_LAYERS = 3
# Over-regularized, kernel penalties (L1/L2): at initialization the penalty's gradient is over half
# the data loss's, so the first steps pull weights towards zero about as hard as towards the data.
# A cheap proxy for "trains far worse than without the regularizer" (which would need a second
# run). Measured on the digits MLP, 5 epochs: L2 1.0 on every layer: ratio 6.1, data loss stuck at
# chance (2.26); L2 0.1: ratio 0.61, data loss 1.53 against 0.79 without (validation accuracy 0.71
# against 0.83); L2 1e-2 (the top of the default space): ratio 0.06, no measurable cost. (Late in
# training the ratio says nothing: at any minimum of data loss + penalty the two gradients cancel.)
REG_GRAD_RATIO = 0.5
# Over-regularized, decoupled weight decay (AdamW; Keras applies v -= v * weight_decay * lr): per
# step the decay moves a weight by lr * wd * |w| while Adam moves it by at most ~lr, so
# wd * rms(w) at initialization compares the two. Over 0.5, decay undoes half of what Adam's
# steps can do (digits MLP: wd 10 with lr 1e-2: 1.8, validation accuracy 0.65 after 5 epochs; wd 1:
# 0.18, no cost; Keras' AdamW default 0.004: 7e-4).
ADAMW_DECAY_RATIO = 0.5
# Overfitting: the validation data loss ends over 10% above its best epoch while the training
# data loss kept falling after it, and the probe ran at least 3 epochs to tell a trend.
OVERFIT_RISE = 0.1
OVERFIT_MIN_EPOCHS = 3
# ...and the training data loss ends under half of chance level: a model that overfits fits its
# training set. Without this, an unstable run (lr 1.0: training loss 28 against chance 2.3, the
# validation loss jumping 188 -> 232) would read as overfitting.
OVERFIT_TRAIN_BELOW_CHANCE = 0.5


@dataclass(frozen=True)
class Context:
    """The user's setup and the references the verdicts compare it with."""

    lr: float
    weight_decay: float
    optimizer: str
    batch_size: int
    epochs: int
    chance: float | None
    reference_batch: int
    space_lr: tuple[float, float]  # the space's lr range at the reference batch size
    space_rule: str
    suggested: tuple[float, float] | None  # the LR range test's, at the user's batch size
    min_loss_lr: float | None
    unscaled: bool = False  # unscaled-features was found
    # The scaler `suggested` was measured with: "none" (the data as given) or the one the
    # unscaled-features fix recommends; then raw_* hold the range test's numbers on the raw data.
    suggested_scaling: str = "none"
    raw_suggested: tuple[float, float] | None = None
    raw_min_loss_lr: float | None = None


def _g(value: float) -> str:
    return f"{value:.2g}"


_SCALERS = {"standard": "StandardScaler", "minmax": "MinMaxScaler", "robust": "RobustScaler"}


def lr_caveat(high: float) -> str:
    """The loud caveat for a suggested Adam learning rate whose top is above ADAM_LR_CAVEAT, or
    ``""``."""
    if not high > ADAM_LR_CAVEAT:
        return ""
    return (
        f" CAUTION: this range reaches lr {_g(high)}, above {ADAM_LR_CAVEAT:g}. Adam above "
        f"{ADAM_LR_CAVEAT:g} almost never trains (every step moves each weight by about lr): "
        "this is most likely a data or scale problem, not a learning rate to use. Check the "
        "input scales (scaler='standard'), a regression's target scale (unscaled-targets), "
        "that the loss matches the labels and the output layer, and the curve itself "
        "(adamtune lr-find MODEL --data DATA --plot lr.png)."
    )


def _measured_on(ctx: Context) -> str:
    """Where the suggestion was measured: at the batch size, and on which inputs."""
    where = f"LR range test at batch size {ctx.batch_size}"
    if ctx.suggested_scaling == "none":
        return where
    scaler = _SCALERS.get(ctx.suggested_scaling, ctx.suggested_scaling)
    return f"{where}, on the inputs scaled with {scaler} as unscaled-features advises"


def _scaled_note(ctx: Context) -> str:
    """``"on the inputs scaled with StandardScaler; "`` when the suggestion was, else ``""``."""
    if ctx.suggested_scaling == "none":
        return ""
    return (
        f"on the inputs scaled with {_SCALERS.get(ctx.suggested_scaling, ctx.suggested_scaling)}; "
    )


def range_text(ctx: Context) -> str:
    """The suggested range with what it was measured on, the raw-data range beside it when the
    suggestion was measured under a data fix, and the caveat for a range above 1."""
    assert ctx.suggested is not None
    low, high = ctx.suggested
    text = f"{_g(low)}..{_g(high)} ({_measured_on(ctx)}"
    if ctx.raw_suggested is not None:
        raw_low, raw_high = ctx.raw_suggested
        text += (
            f"; measured on the raw, unscaled inputs it was {_g(raw_low)}..{_g(raw_high)}, "
            "which does not carry over to scaled inputs"
        )
    return text + ")"


def _lr_text(ctx: Context) -> str:
    if ctx.suggested is not None:
        text = f"use a learning rate in {range_text(ctx)}"
        return text + lr_caveat(ctx.suggested[1])
    low, high = _space_range(ctx)
    return (
        f"search the learning rate in {_g(low)}..{_g(high)} (the space's range at batch size "
        f"{ctx.batch_size}): adamtune.search(..., space='default')"
    )


def _space_range(ctx: Context) -> tuple[float, float]:
    low, high = ctx.space_lr
    return (
        scale_for_batch(low, ctx.batch_size, ctx.reference_batch, ctx.space_rule),
        scale_for_batch(high, ctx.batch_size, ctx.reference_batch, ctx.space_rule),
    )


def _drop(probe: TrainingProbe) -> float | None:
    """Relative fall of the training data loss: before the first step (TrainingProbe.start_data_loss)
    to the last epoch's mean."""
    end = _last(probe.history.get("data_loss", []))
    start = probe.start_data_loss
    if end is None or not math.isfinite(start) or start <= 0:
        return None
    return (start - end) / start


def _last(values: list[float]) -> float | None:
    return values[-1] if values and math.isfinite(values[-1]) else None


# --- the learning rate -------------------------------------------------------------------------


def blowup(probe: TrainingProbe) -> dict[str, Any] | None:
    """Training evidence of a too-high lr: NaN/inf, or the running loss over LR_BLOWUP_FACTOR x
    its start. ``steps`` is where it went non-finite or peaked, ``first_step`` the first step
    over the line (where warmup would have to act)."""
    losses = probe.batch_losses
    if not losses:
        return None
    first = losses[0]
    bad = probe.nonfinite_step
    if bad is not None:
        return {
            "first_loss": first,
            "peak_loss": losses[bad - 1],
            "steps": bad,
            "first_step": _first_over(losses, first) or bad,
            "kind": "nonfinite",
        }
    peak_step = max(range(len(losses)), key=lambda i: losses[i])
    peak = losses[peak_step]
    if math.isfinite(first) and first > 0 and peak > LR_BLOWUP_FACTOR * first:
        return {
            "first_loss": first,
            "peak_loss": peak,
            "steps": peak_step + 1,
            "first_step": _first_over(losses, first) or peak_step + 1,
            "kind": "blowup",
        }
    return None


def _first_over(losses: list[float], first: float) -> int | None:
    """The first step (from 1) whose running loss is non-finite or over LR_BLOWUP_FACTOR x the
    first, or None."""
    for step, value in enumerate(losses, start=1):
        if not math.isfinite(value) or (first > 0 and value > LR_BLOWUP_FACTOR * first):
            return step
    return None


def _lr_high(ctx: Context, probe: TrainingProbe | None) -> Finding | None:
    evidence = blowup(probe) if probe is not None else None
    above = ctx.suggested is not None and ctx.lr > LR_HIGH_MARGIN * ctx.suggested[1]
    if evidence is None and not above:
        return None
    parts = []
    data: dict[str, Any] = {
        "lr": ctx.lr,
        "suggested": ctx.suggested,
        "min_loss_lr": ctx.min_loss_lr,
        "suggested_scaling": ctx.suggested_scaling,
        "raw_suggested": ctx.raw_suggested,
    }
    if evidence is not None:
        data.update(evidence)
        if evidence["kind"] == "nonfinite":
            parts.append(
                f"at lr {_g(ctx.lr)} the training loss went from {evidence['first_loss']:.2g} to "
                f"{evidence['peak_loss']} at step {evidence['steps']}"
            )
        else:
            parts.append(
                f"at lr {_g(ctx.lr)} the training loss rose from {evidence['first_loss']:.2g} to "
                f"{evidence['peak_loss']:.2g} in {evidence['steps']} steps (over "
                f"{LR_BLOWUP_FACTOR:g}x its start)"
            )
    if above and ctx.suggested is not None:
        parts.append(
            f"lr {_g(ctx.lr)} is {ctx.lr / ctx.suggested[1]:.0f}x the LR range test's suggested "
            f"top {_g(ctx.suggested[1])} ({_scaled_note(ctx)}its loss was lowest at "
            f"{_g(ctx.min_loss_lr or 0.0)})"
        )
    advice = _lr_text(ctx)
    if ctx.suggested is not None and ctx.lr <= ctx.suggested[1]:
        # The sweep accepted this lr, the full run did not: other causes (unscaled inputs, a bad
        # loss) make every lr fragile; still, a smaller one is the first thing to try.
        advice = (
            f"lower the learning rate about 10x, to {_g(ctx.lr / 10)}, and fix the other findings "
            f"first (the LR range test's short sweep accepted {_g(ctx.suggested[0])}.."
            f"{_g(ctx.suggested[1])})"
        )
    return Finding(
        "lr-too-high",
        "error" if evidence is not None else "warning",
        sentence("; ".join(parts)),
        advice,
        data,
    )


def _lr_low(ctx: Context, probe: TrainingProbe | None) -> Finding | None:
    drop = _drop(probe) if probe is not None else None
    if drop is None or drop >= LR_SLOW_DROP:
        return None
    if ctx.suggested is not None:
        floor, where = ctx.suggested[0] / LR_LOW_MARGIN, "the LR range test's suggested bottom"
        reference = ctx.suggested[0]
    else:
        reference = _space_range(ctx)[0]
        floor, where = reference, "the bottom of the space's learning-rate range"
    if ctx.lr >= floor:
        return None
    return Finding(
        "lr-too-low",
        "warning",
        f"At lr {_g(ctx.lr)} the training data loss fell only {drop:.1%} in {ctx.epochs} epoch(s) "
        f"(under {LR_SLOW_DROP:.0%}); lr is {reference / ctx.lr:.0f}x below {where} "
        f"{_g(reference)}.",
        _lr_text(ctx),
        {"lr": ctx.lr, "drop": drop, "suggested": ctx.suggested, "reference": reference},
    )


def _batch_mismatch(ctx: Context) -> Finding | None:
    """The lr is off the range test's range on the side the batch size predicts: a learning rate
    fit for the reference batch size (32), not carried to this one by Adam's square-root rule."""
    if ctx.suggested is None:
        return None
    scale = math.sqrt(ctx.batch_size / ctx.reference_batch)
    if max(scale, 1 / scale) < BATCH_MISMATCH_MIN_SCALE:
        return None
    low, high = ctx.suggested
    scaled = scale_for_batch(ctx.lr, ctx.batch_size, ctx.reference_batch, "sqrt")
    if scale > 1 and not (ctx.lr < low and scaled >= low / LR_LOW_MARGIN):
        return None
    if scale < 1 and not (ctx.lr > high and scaled <= high * LR_HIGH_MARGIN):
        return None
    side = "below" if scale > 1 else "above"
    k = ctx.batch_size / ctx.reference_batch
    return Finding(
        "batch-lr-mismatch",
        "warning",
        f"lr {_g(ctx.lr)} is {side} the LR range test's {_g(low)}..{_g(high)} at batch size "
        f"{ctx.batch_size}, {k:.3g}x the reference batch size {ctx.reference_batch}: Adam's "
        f"square-root rule scales a batch-{ctx.reference_batch} lr by {scale:.2g}x, to "
        f"{_g(scaled)}.",
        f"at batch size {ctx.batch_size} use lr {_g(scaled)} or more towards {_g(low)}..{_g(high)} "
        f"(adamtune.params.scale_for_batch(lr, {ctx.batch_size}, {ctx.reference_batch}, 'sqrt')), "
        f"and scale (1 - beta_1), (1 - beta_2) by {k:.3g}; a search couples lr and batch size "
        "this way"
        if scale > 1
        else f"at batch size {ctx.batch_size} use lr {_g(scaled)} or less towards "
        f"{_g(low)}..{_g(high)} (adamtune.params.scale_for_batch(lr, {ctx.batch_size}, "
        f"{ctx.reference_batch}, 'sqrt')); a search couples lr and batch size this way",
        {"lr": ctx.lr, "scaled_lr": scaled, "suggested": ctx.suggested, "scale": scale},
    )


def _lr_range_info(ctx: Context) -> Finding | None:
    if ctx.suggested is None:
        return None
    low, high = ctx.suggested
    where = "inside" if low <= ctx.lr <= high else ("below" if ctx.lr < low else "above")
    caveat = (
        " Measured on the unscaled inputs: scale them and run the doctor again before trusting it."
        if ctx.unscaled and ctx.suggested_scaling == "none"
        else ""
    )
    measured = _measured_on(ctx) + ("" if ctx.suggested_scaling == "none" else ",")
    raw = ""
    if ctx.raw_suggested is not None:
        raw_low, raw_high = ctx.raw_suggested
        raw = (
            f" On the raw, unscaled inputs (as given) the same test found the loss lowest at lr "
            f"{_g(ctx.raw_min_loss_lr or 0.0)} and suggested {_g(raw_low)}..{_g(raw_high)}: "
            "measured on raw data, that range does not carry over once the inputs are scaled."
        )
    return Finding(
        "lr-range",
        "info",
        f"The {measured} found the loss lowest at lr {_g(ctx.min_loss_lr or 0.0)} and "
        f"suggests {_g(low)}..{_g(high)}; lr {_g(ctx.lr)} is {where} that range.{caveat}{raw}"
        f"{lr_caveat(high)}",
        f"to tune it: adamtune.search(model_fn, data) samples lr in {_g(ctx.space_lr[0])}.."
        f"{_g(ctx.space_lr[1])} at batch size {ctx.reference_batch}, scaled to each batch size",
        {
            "lr": ctx.lr,
            "suggested": ctx.suggested,
            "min_loss_lr": ctx.min_loss_lr,
            "suggested_scaling": ctx.suggested_scaling,
            "raw_suggested": ctx.raw_suggested,
            "raw_min_loss_lr": ctx.raw_min_loss_lr,
        },
    )


# --- collapse, gradients, regularization -------------------------------------------------------


def _collapsed(ctx: Context, probe: TrainingProbe) -> Finding | None:
    end = _last(probe.history.get("data_loss", []))
    if ctx.chance is None or end is None or end < ctx.chance * (1 - CHANCE_TOLERANCE):
        return None
    dead = {k: v for k, v in probe.dead_units.items() if v >= DEAD_LAYER_COLLAPSED}
    constant = probe.output_spread is not None and probe.output_spread < CONSTANT_OUTPUT
    if not dead and not constant:
        return None
    signs = []
    if constant:
        signs.append(
            f"the outputs barely vary across samples (relative spread {probe.output_spread:.1e})"
        )
    if dead:
        layers = ", ".join(f"{name} {share:.0%}" for name, share in dead.items())
        signs.append(f"ReLU units dead for every validation sample: {layers}")
    return Finding(
        "collapsed-to-chance",
        "error",
        f"After {len(probe.history.get('data_loss', []))} epoch(s) the training data loss is "
        f"{end:.3g}, at chance level {ctx.chance:.3g} (a constant prediction); "
        + "; ".join(signs)
        + ".",
        (
            "lower the learning rate (a large first step kills ReLU units for good) and scale "
            f"the inputs; {_lr_text(ctx)}"
            if dead
            else "see vanishing-gradients and lr findings: a constant output means no signal "
            "reaches the early layers (saturated activations, too small or too large a "
            f"learning rate, unscaled inputs); {_lr_text(ctx)}"
        ),
        {
            "data_loss": end,
            "chance": ctx.chance,
            "output_spread": probe.output_spread,
            "dead_units": probe.dead_units,
            "top_class_share": probe.top_class_share,
        },
    )


def _dead_info(probe: TrainingProbe, collapsed: bool) -> Finding | None:
    dead = {k: v for k, v in probe.dead_units.items() if v >= DEAD_LAYER_INFO}
    if collapsed or not dead:
        return None
    layers = ", ".join(f"{name} {share:.0%}" for name, share in dead.items())
    return Finding(
        "dead-units",
        "info",
        f"ReLU units that output zero for every validation sample: {layers}.",
        "if the model underfits, lower the learning rate or use a leaky activation "
        "(keras.layers.LeakyReLU, 'gelu')",
        {"dead_units": probe.dead_units},
    )


def _vanishing(probe: TrainingProbe) -> Finding | None:
    grads = probe.gradients
    if len(grads) < VANISHING_MIN_LAYERS or grads[-1].signal <= 0:
        return None
    ratio = grads[0].signal / grads[-1].signal
    if ratio >= VANISHING_RATIO:
        return None
    return Finding(
        "vanishing-gradients",
        "warning",
        f"At initialization the error signal reaching the first layer ({grads[0].layer}) is "
        f"{ratio:.1e} of the one reaching the last ({grads[-1].layer}), over {len(grads)} kernel "
        f"layers (under {VANISHING_RATIO:.0e}).",
        "use ReLU-family activations with He initialization (kernel_initializer='he_normal'), "
        "add BatchNormalization (a search tries batch_norm), or use fewer layers",
        {
            "ratio": ratio,
            "layers": [g.to_dict() for g in grads],
        },
    )


def _over_regularized(ctx: Context, probe: TrainingProbe) -> Finding | None:
    data: dict[str, Any] = {
        "penalty_grad_norm": probe.penalty_grad_norm,
        "data_grad_norm": probe.data_grad_norm,
        "start_penalty": probe.start_penalty,
        "start_data_loss": probe.start_data_loss,
        "weight_decay": ctx.weight_decay,
        "kernel_weight_rms": probe.kernel_weight_rms,
    }
    reasons, fixes = [], []
    if probe.data_grad_norm > 0 and probe.penalty_grad_norm > 0:
        ratio = probe.penalty_grad_norm / probe.data_grad_norm
        data["penalty_grad_ratio"] = ratio
        if ratio > REG_GRAD_RATIO:
            share = probe.start_penalty / (probe.start_penalty + probe.start_data_loss)
            reasons.append(
                f"at initialization the kernel regularizers' gradient is {ratio:.2g}x the data "
                f"loss's (over {REG_GRAD_RATIO:g}) and their penalty is {share:.0%} of the loss"
            )
            fixes.append(
                "weaken the kernel regularizers 10-100x (the default space searches l2 in "
                "1e-6..1e-2, l1 in 1e-7..1e-3)"
            )
    decay = ctx.weight_decay * probe.kernel_weight_rms
    data["decay_ratio"] = decay
    if decay > ADAMW_DECAY_RATIO:
        reasons.append(
            f"{ctx.optimizer}'s weight_decay {_g(ctx.weight_decay)} shrinks each weight by "
            f"lr x {_g(decay)} per step (weight_decay x weight RMS {probe.kernel_weight_rms:.2g}; "
            f"over {ADAMW_DECAY_RATIO:g}) against Adam's steps of about lr"
        )
        fixes.append(
            "lower weight_decay (the default space searches adamw in 1e-4..1e-1) and search it "
            "together with the learning rate: Keras decays by weight_decay x lr"
        )
    if not reasons:
        return None
    end = _last(probe.history.get("data_loss", []))
    if end is not None:
        data["end_data_loss"] = end
        chance = f" (chance level {ctx.chance:.3g})" if ctx.chance is not None else ""
        reasons.append(f"the training data loss ended at {end:.3g}{chance}")
    text = "; ".join(reasons)
    return Finding("over-regularized", "warning", sentence(text), "; ".join(fixes), data)


def _under_regularized(ctx: Context, probe: TrainingProbe) -> Finding | None:
    val = probe.history.get("val_data_loss", [])
    train = probe.history.get("data_loss", [])
    if len(val) < OVERFIT_MIN_EPOCHS or len(train) != len(val):
        return None
    if not all(math.isfinite(v) for v in val + train):
        return None
    if ctx.chance is not None and train[-1] > OVERFIT_TRAIN_BELOW_CHANCE * ctx.chance:
        return None  # not fitting the training set yet: a jumpy validation loss is instability
    best = min(range(len(val)), key=lambda i: val[i])
    if best == len(val) - 1 or val[-1] < val[best] * (1 + OVERFIT_RISE) or train[-1] >= train[best]:
        return None
    return Finding(
        "under-regularized",
        "warning",
        f"Validation data loss was lowest at epoch {best + 1} ({val[best]:.3g}) and rose to "
        f"{val[-1]:.3g} by epoch {len(val)} (+{val[-1] / val[best] - 1:.0%}) while the training "
        f"data loss fell from {train[best]:.3g} to {train[-1]:.3g}: the model overfits.",
        f"add regularization (the default space searches l2 1e-6..1e-2 and adamw 1e-4..1e-1), "
        f"stop at epoch {best + 1} (keras.callbacks.EarlyStopping(restore_best_weights=True)), or "
        "use a smaller model",
        {
            "best_epoch": best + 1,
            "best_val": val[best],
            "end_val": val[-1],
            "train": train,
            "val": val,
        },
    )


def judge(ctx: Context, probe: TrainingProbe | None) -> list[Finding]:
    """Every finding the learning-rate context and the training probe support."""
    found: list[Finding | None] = []
    mismatch = _batch_mismatch(ctx)
    high, low = _lr_high(ctx, probe), _lr_low(ctx, probe)
    if mismatch is not None:  # the batch size explains the lr; keep lr-too-* only with evidence
        high = high if high is not None and high.severity == "error" else None
        low = None
    found += [mismatch, high, low, _lr_range_info(ctx)]
    if probe is not None:
        unstable = high is not None and high.severity == "error"
        collapsed = _collapsed(ctx, probe)
        found += [
            collapsed,
            _dead_info(probe, collapsed is not None),
            _vanishing(probe),
            _over_regularized(ctx, probe),
            None if unstable else _under_regularized(ctx, probe),
        ]
    return [f for f in found if f is not None]
