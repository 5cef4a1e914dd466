"""Instability the training probe saw, and what the doctor's two remedy probes showed: the same
run with the learning rate warmed up over its first epoch, and with the gradients' global norm
clipped. A remedy is advised only when its probe trained clearly better than the failing run.
Each threshold below says why it sits where it does."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from adamtune.doctor._findings import Finding, sentence
from adamtune.doctor._probes import TrainingProbe
from adamtune.doctor._verdicts import LR_SLOW_DROP, blowup

__all__ = [
    "CURE_GAIN",
    "EARLY_RISE",
    "GRAD_GROWTH",
    "SPIKE_FACTOR",
    "SPIKE_WINDOW",
    "STUCK",
    "Remedy",
    "clip_norm",
    "early_failure",
    "exploding",
    "exploding_finding",
    "symptomatic",
    "warmup_finding",
    "warmup_steps_for",
]

# Exploding gradients: the data loss's gradient on one fixed batch grows over 10x its norm at
# initialization during the probe. Measured (global norm, first batch): the digits MLP at lr 1e-3
# falls from ~1.6 to ~0.3; a 2x1024 ReLU MLP at lr 0.03 jumps 1.9 -> 40 in 2 steps while its loss
# rises 12x; a ReLU SimpleRNN on token counts at lr 3e-3 grows 0.27 -> 4.1 over 3 epochs.
GRAD_GROWTH = 10.0
# A loss spike: one step's loss over 5x the median of the 20 steps before it, and above the
# first step's loss (a spike that undoes training, not a hard batch late in a run whose median
# loss is small: the healthy digits MLP's worst step is ~3x its recent median at loss ~0.1).
SPIKE_FACTOR = 5.0
SPIKE_WINDOW = 20
# Early trouble worth a warmup probe, short of a blow-up: within the first epoch the running
# training loss rose over 1.2x its first step's (a healthy run's running mean only falls from
# there; the 4-block post-LN Transformer at lr 3e-3: 2.35 -> 2.94, then stuck near chance).
EARLY_RISE = 1.2
# ...or the run barely learned: its last epoch's training data loss is still over 0.8x chance
# level (the Transformer above ends its 5 epochs at 0.9x; the guide's digits MLP at lr 1e-3 at
# 0.34x, though its first epoch's mean, which holds the untrained steps, is at 1.0x).
STUCK = 0.8
# A remedy "cures" the run when its probe ends with a training data loss at most 0.8x the failing
# run's (or finite where that was NaN), fell at least 10% from its start (lr-too-low's
# LR_SLOW_DROP) and did not blow up. Measured: a 4-block post-LN Transformer at lr 3e-3 ends at
# 2.09 (chance) constant and at 0.56 warmed up over one epoch; a 12-layer ReLU MLP on digits with
# 2% of rows x50 ends at 1.79 unclipped and 0.72 with global_clipnorm 1.
CURE_GAIN = 0.2


@dataclass(frozen=True)
class Remedy:
    """One remedy probe: what was changed, and the run it gave."""

    change: str  # what was changed, as the evidence says it
    value: float  # the warmup's steps, or the clipping norm
    probe: TrainingProbe | None  # None when the probe raised
    error: str = ""


def _g(value: float) -> str:
    return f"{value:.2g}"


def _loss(value: float) -> str:
    return f"{value:.3g}"


def _end_loss(probe: TrainingProbe) -> float:
    values = probe.history.get("data_loss", [])
    return values[-1] if values else math.nan


def _first_loss(probe: TrainingProbe) -> float:
    return probe.batch_losses[0] if probe.batch_losses else math.nan


def _blowup_step(probe: TrainingProbe) -> int | None:
    """The first step of lr-too-high's blow-up (non-finite, or over LR_BLOWUP_FACTOR x the first
    running loss), or None."""
    evidence = blowup(probe)
    return None if evidence is None else int(evidence["first_step"])


def _at_chance(probe: TrainingProbe, chance: float | None) -> float | None:
    """The last epoch's training data loss when it is still within STUCK of chance level (or above
    it), else None."""
    values = probe.history.get("data_loss", [])
    if chance is None or not values or not math.isfinite(values[-1]):
        return None
    return values[-1] if values[-1] >= STUCK * chance else None


def early_failure(probe: TrainingProbe, chance: float | None, steps_per_epoch: int) -> str | None:
    """What went wrong early enough for warmup to be worth a probe: the loss blew up or rose
    (EARLY_RISE) within the first epoch, or it ended near chance level (STUCK). ``None`` when
    none of these."""
    step = _blowup_step(probe)
    if step is not None and step <= steps_per_epoch:
        value = probe.batch_losses[step - 1]
        if not math.isfinite(value):
            return f"the training loss went to {value} at step {step}, in the first epoch"
        return (
            f"the training loss rose from {_loss(_first_loss(probe))} to {_loss(value)} by step {step}, "
            "in the first epoch"
        )
    first, early = _first_loss(probe), probe.batch_losses[:steps_per_epoch]
    if early and first > 0 and max(early) > EARLY_RISE * first:
        peak = max(range(len(early)), key=lambda i: early[i])
        return (
            f"the running training loss rose from {_loss(first)} to {_loss(early[peak])} by step "
            f"{peak + 1}, in the first epoch"
        )
    stuck = _at_chance(probe, chance)
    if stuck is not None:
        epochs = len(probe.history.get("data_loss", []))
        return (
            f"the training data loss was still {_loss(stuck)} after {epochs} epoch(s), against "
            f"{_loss(chance or 0.0)} at chance level"
        )
    return None


def warmup_steps_for(steps_per_epoch: int, epochs: int) -> int:
    """The remedy probe's warmup: the first epoch, or half the run when it has one epoch."""
    return max(1, min(steps_per_epoch, (steps_per_epoch * epochs) // 2))


def _growth(probe: TrainingProbe) -> dict[str, Any] | None:
    norms = probe.grad_norms
    if len(norms) < 2 or not (math.isfinite(norms[0]) and norms[0] > 0):
        return None
    finite = [
        (n, s) for n, s in zip(norms[1:], probe.grad_steps[1:], strict=True) if math.isfinite(n)
    ]
    if not finite:
        return None
    peak, step = max(finite)
    layer, layer_growth = "", 0.0
    at = probe.grad_steps.index(step)
    for name, values in probe.layer_grad_norms.items():
        if values[0] > 0 and at < len(values) and values[at] / values[0] > layer_growth:
            layer, layer_growth = name, values[at] / values[0]
    return {
        "start_norm": norms[0],
        "peak_norm": peak,
        "peak_step": step,
        "growth": peak / norms[0],
        "layer": layer,
        "layer_growth": layer_growth,
    }


def _spikes(probe: TrainingProbe) -> list[dict[str, float]]:
    losses, first = probe.step_losses, _first_loss(probe)
    found = []
    for i in range(SPIKE_WINDOW, len(losses)):
        value = losses[i]
        if not math.isfinite(value):
            break
        median = statistics.median(losses[i - SPIKE_WINDOW : i])
        if value > SPIKE_FACTOR * median and value > first:
            found.append({"step": i + 1, "loss": value, "median": median})
    return found


def exploding(probe: TrainingProbe) -> dict[str, Any] | None:
    """The evidence of exploding gradients: the gradient norm grew over GRAD_GROWTH x its start,
    or the loss spiked; None when neither."""
    growth = _growth(probe)
    spikes = _spikes(probe)
    grew = growth is not None and growth["growth"] > GRAD_GROWTH
    if not grew and not spikes:
        return None
    return {"growth": growth, "grew": grew, "spikes": spikes}


def clip_norm(probe: TrainingProbe) -> float:
    """The remedy probe's ``global_clipnorm``: the median gradient norm the probe measured, so
    typical steps pass and the outliers are cut."""
    finite = [n for n in probe.grad_norms if math.isfinite(n) and n > 0]
    return statistics.median(finite) if finite else 1.0


def _cured(failing: TrainingProbe, remedy: Remedy) -> bool:
    twin = remedy.probe
    if twin is None or _blowup_step(twin) is not None:
        return False
    end, before = _end_loss(twin), _end_loss(failing)
    start = twin.start_data_loss
    if not math.isfinite(end) or not (start > 0) or (start - end) / start < LR_SLOW_DROP:
        return False
    return not math.isfinite(before) or end <= (1 - CURE_GAIN) * before


def _outcome(failing: TrainingProbe, remedy: Remedy) -> str:
    if remedy.probe is None:
        return f"the probe with {remedy.change} raised: {remedy.error}"
    twin = remedy.probe
    text = (
        f"with {remedy.change}, the same model, seed and data ended at training data loss "
        f"{_loss(_end_loss(twin))} against {_loss(_end_loss(failing))}"
    )
    val = twin.history.get("val_accuracy") or []
    before = failing.history.get("val_accuracy") or []
    if val and before:
        text += f" (validation accuracy {val[-1]:.2f} against {before[-1]:.2f})"
    step = _blowup_step(twin)
    if step is not None:
        text += f", and its loss still blew up at step {step}"
    return text


def _remedy_data(failing: TrainingProbe, remedy: Remedy) -> dict[str, Any]:
    twin = remedy.probe
    return {
        "change": remedy.change,
        "cured": _cured(failing, remedy),
        "end_data_loss": None if twin is None else _end_loss(twin),
        "failing_end_data_loss": _end_loss(failing),
        "curves": None if twin is None else dict(twin.history),
        "error": remedy.error or None,
    }


def warmup_finding(
    failing: TrainingProbe, why: str, remedy: Remedy, lr: float, warm: int
) -> Finding | None:
    """warmup-needed: the run failed early (``why``) at a rate that trains when reached over the
    first ``warm`` steps; None when the warmup probe did not train clearly better."""
    if not _cured(failing, remedy):
        return None
    return Finding(
        "warmup-needed",
        "error",
        sentence(
            f"at a constant lr {_g(lr)} {why}; {_outcome(failing, remedy)}: this learning rate "
            "trains when it is reached gradually"
        ),
        f"warm the learning rate up from 0 over the first ~{warm} steps: learning_rate="
        f"keras.optimizers.schedules.CosineDecay(0.0, decay_steps=<your steps - {warm}>, "
        f"alpha=1.0, warmup_target={_g(lr)}, warmup_steps={warm}) (alpha < 1 also decays it); "
        "to search it: adamtune.search(model_fn, data), whose default space tries a cosine "
        "decay after a 0-10% warmup beside a constant rate (the 'schedules' space: more)",
        {"lr": lr, "warmup_steps": warm, "failure": why, "remedy": _remedy_data(failing, remedy)},
    )


def symptomatic(failing: TrainingProbe, evidence: dict[str, Any]) -> bool:
    """Whether the loss shows the explosion (it spiked or blew up). Growth alone is common and
    benign early on (a Bidirectional LSTM's gradient grows 12x from its small start in 2 steps
    while it learns), so only a symptom earns the clipping probe."""
    return bool(evidence["spikes"]) or _blowup_step(failing) is not None


def exploding_finding(
    failing: TrainingProbe,
    evidence: dict[str, Any],
    remedy: Remedy | None,
    warmup_cured: bool,
    *,
    clips: bool = False,
) -> Finding:
    """exploding-gradients, with what the clipping probe showed (``remedy``; None when it was not
    run: the optimizer already ``clips``, or the loss showed no symptom)."""
    parts = []
    growth = evidence["growth"]
    if evidence["grew"]:
        part = (
            f"the gradient norm on one fixed batch grew from {_g(growth['start_norm'])} at "
            f"initialization to {_g(growth['peak_norm'])} at step {growth['peak_step']} "
            f"({growth['growth']:.0f}x)"
        )
        if growth["layer"]:
            part += f"; most on {growth['layer']}'s kernel ({growth['layer_growth']:.0f}x)"
        parts.append(part)
    spikes = evidence["spikes"]
    if spikes:
        worst = max(spikes, key=lambda s: s["loss"] / s["median"])
        parts.append(
            f"the training loss spiked in {len(spikes)} step(s) over {SPIKE_FACTOR:g}x the median "
            f"of the {SPIKE_WINDOW} before (worst: {_loss(worst['loss'])} at step "
            f"{int(worst['step'])} against {_loss(worst['median'])})"
        )
    data: dict[str, Any] = {**evidence, "remedy": None}
    cured = remedy is not None and _cured(failing, remedy)
    # Growth alone, on a run whose loss neither spiked nor blew up and that clipping did not help,
    # is worth knowing, not fixing (a ReLU RNN's gradient grows 15x while its loss falls).
    symptom = symptomatic(failing, evidence) or cured
    severity = "warning" if symptom else "info"
    if remedy is None:
        if clips:
            advice = "the optimizer already clips: lower its clipnorm, or the learning rate" + (
                " (or warm it up: see warmup-needed)" if warmup_cured else ""
            )
        else:
            parts.append("the loss neither spiked nor blew up")
            advice = (
                "nothing to fix while the loss falls; if it starts to spike, clip the gradients' "
                f"global norm near the median measured ({_g(clip_norm(failing))}): "
                "keras.optimizers.Adam(..., global_clipnorm=...)"
            )
        return Finding("exploding-gradients", severity, sentence("; ".join(parts)), advice, data)
    data["remedy"] = _remedy_data(failing, remedy)
    parts.append(_outcome(failing, remedy))
    if cured:
        advice = (
            "clip the gradients' global norm: keras.optimizers.Adam(..., "
            f"global_clipnorm={_g(remedy.value)}) "
            f"(the median gradient norm the probe measured); to search it: "
            "`global_clipnorm: {low: ..., high: ...}` in your space (search_spaces/schedules.yaml)"
        )
    else:
        advice = (
            "clipping did not steady this run: Adam already moves each weight by about lr per "
            "step whatever the gradient's size, so clipping only tempers isolated spikes; lower "
            "the learning rate" + (" or warm it up (see warmup-needed)" if warmup_cured else "")
        )
    return Finding("exploding-gradients", severity, sentence("; ".join(parts)), advice, data)
