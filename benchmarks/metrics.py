"""Pure functions from job records to the benchmark's numbers (no TensorFlow here).

A record is what :func:`job.run_tool` returns: its ``fits`` in order, each with the training
examples it processed, the best validation score it reached (higher is better) and whether it
diverged. Budget is counted in full-run equivalents (FRE): examples / (epochs x training-set size).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "budget_to_target",
    "divergent_fraction",
    "incumbent",
    "incumbent_at",
    "mean_se",
    "reached",
    "target_for",
]


def incumbent(record: dict[str, Any]) -> list[tuple[float, float, float]]:
    """(FRE spent, seconds, best score so far) after each fit that produced a score."""
    full = record["full_run_examples"]
    spent, best, out = 0, -math.inf, []
    for fit in record["fits"]:
        spent += fit["examples"]
        if fit["score"] is not None and fit["score"] > best:
            best = fit["score"]
        if best > -math.inf:
            out.append((spent / full, fit["end"], best))
    return out


def incumbent_at(record: dict[str, Any], budget: float) -> float | None:
    """The best score reached within ``budget`` FRE (None if nothing was scored by then)."""
    best = None
    for fre, _, score in incumbent(record):
        if fre > budget + 1e-9:
            break
        best = score
    return best


def target_for(kind: str, oracle: float) -> float:
    """Within 0.5 pp of the oracle for accuracy; 99% of the oracle's R^2 for regression."""
    return oracle - 0.005 if kind == "classification" else 0.99 * oracle


def budget_to_target(record: dict[str, Any], target: float) -> tuple[float, float] | None:
    """(FRE, seconds) at which the incumbent first reached ``target``; None if it never did."""
    for fre, seconds, score in incumbent(record):
        if score >= target - 1e-12:
            return fre, seconds
    return None


def reached(records: Iterable[dict[str, Any]], target_of: Any, cap: float) -> list[float]:
    """Budget to target per record, a run that never reached it counted at ``cap`` (so a mean over
    such runs is a lower bound)."""
    out = []
    for record in records:
        hit = budget_to_target(record, target_of(record))
        out.append(cap if hit is None else min(hit[0], cap))
    return out


def divergent_fraction(record: dict[str, Any]) -> float:
    """Share of the training examples spent in fits that diverged."""
    total = sum(f["examples"] for f in record["fits"])
    bad = sum(f["examples"] for f in record["fits"] if f["diverged"])
    return bad / total if total else 0.0


def detection_batches(record: dict[str, Any]) -> list[int]:
    """Batches each diverged fit ran before it stopped."""
    return [f["batches"] for f in record["fits"] if f["diverged"]]


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error (0 for a single value)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    mean = statistics.fmean(finite)
    se = statistics.stdev(finite) / math.sqrt(len(finite)) if len(finite) > 1 else 0.0
    return mean, se
