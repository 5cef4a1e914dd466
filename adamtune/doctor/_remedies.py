"""The doctor's remedy probes, run only on a failing setup: warmup when the training probe failed
early, clipping when its gradients exploded and the loss showed it. Each is a second training run
of the same model, seed and data; :mod:`adamtune.doctor._stability` holds the rules that call for
them and judge them against the failing run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from adamtune.doctor import _stability as st
from adamtune.doctor._findings import Finding
from adamtune.doctor._optimizer import ProbedOptimizer
from adamtune.doctor._probes import TrainingProbe

__all__ = ["LR_FAR", "Remedies", "run_remedies"]

# Warmup does not excuse a rate far past what the model trains at: when the LR range test ran and
# the lr is over 10x its suggested top (over ~3x the lr where the sweep's loss bottomed out),
# lr-too-high stays and warmup-needed is only a note beside it. Measured: the KerasTuner guide's
# MLP on digits at lr 0.5 (57x the suggested top 0.0087) warmed up ends its 3 epochs at training
# loss 0.95, against ~0.1 at lr 1e-3: better than its constant run (1.54), yet not a cure.
LR_FAR = 10.0


@dataclass(frozen=True)
class Remedies:
    """What the remedy probes changed: the findings after them and what ran (``probes``)."""

    findings: list[Finding]
    ran: str


def _after_warmup(finding: Finding) -> Finding:
    """A finding once warmup-needed is found: a collapse to chance is its symptom, and its cure
    is the warmup (not a search for a lower learning rate)."""
    if finding.code != "collapsed-to-chance":
        return finding
    return replace(
        finding,
        advice="warm the learning rate up (see warmup-needed): the same run warmed up trains",
    )


def _far_above(findings: list[Finding], lr: float) -> float | None:
    """How many times the LR range test's suggested top ``lr`` is, when lr-too-high was found
    with the test's range and that is over LR_FAR; else None."""
    for finding in findings:
        suggested = finding.data.get("suggested") if finding.code == "lr-too-high" else None
        if suggested and suggested[1] > 0 and lr > LR_FAR * suggested[1]:
            return lr / suggested[1]
    return None


def _beside_too_high(cured: Finding, times: float) -> Finding:
    """warmup-needed as a note beside lr-too-high: the rate is too far past the range for a
    warmup to be the fix."""
    return replace(
        cured,
        severity="info",
        evidence=cured.evidence.replace(
            "this learning rate trains when it is reached gradually",
            f"warmup helps at this rate, but the rate is {times:.0f}x the top of the LR range "
            "test's range",
        ),
        advice="lower the learning rate first (see lr-too-high); warm up only a rate near that "
        "range",
        data={**cured.data, "times_suggested_top": times},
    )


def _remedy(
    train: Callable[[Any], TrainingProbe], optimizer: Callable[[], Any], change: str, value: float
) -> st.Remedy:
    try:
        return st.Remedy(change, value, train(optimizer()))
    except Exception as exc:  # a remedy that cannot run is reported, the diagnosis stands
        return st.Remedy(change, value, None, f"{type(exc).__name__}: {exc}")


def run_remedies(
    probe: TrainingProbe,
    findings: list[Finding],
    opt: ProbedOptimizer,
    *,
    chance: float | None,
    steps_per_epoch: int,
    epochs: int,
    train: Callable[[Any], TrainingProbe],
) -> Remedies:
    """The remedy probes ``probe`` calls for, each run through ``train(optimizer)``: warmup (when
    it cures the run, ``warmup-needed`` replaces ``lr-too-high``), then clipping."""
    why = st.early_failure(probe, chance, steps_per_epoch)
    evidence = st.exploding(probe)
    found, ran, warmup_cured = list(findings), [], False
    if why is not None and opt.schedule is None:
        warm = st.warmup_steps_for(steps_per_epoch, epochs)
        remedy = _remedy(
            train,
            lambda: opt.warmed_up(warm),
            f"the learning rate warmed up from 0 over the first {warm} steps",
            warm,
        )
        ran.append("warmup")
        cured = st.warmup_finding(probe, why, remedy, opt.lr, warm)
        far = _far_above(found, opt.lr)
        if cured is not None and far is not None:
            found.append(_beside_too_high(cured, far))
        elif cured is not None:  # the lr trains once reached gradually: not "too high"
            warmup_cured = True
            found = [_after_warmup(f) for f in found if f.code != "lr-too-high"] + [cured]
    if evidence is not None:
        clipped: st.Remedy | None = None
        if not opt.clips and st.symptomatic(probe, evidence):
            norm = st.clip_norm(probe)
            clipped = _remedy(train, lambda: opt.clipped(norm), f"global_clipnorm={norm:.2g}", norm)
            ran.append("clipping")
        found.append(st.exploding_finding(probe, evidence, clipped, warmup_cured, clips=opt.clips))
    return Remedies(found, f"ran: {', '.join(ran)}" if ran else "not needed")
