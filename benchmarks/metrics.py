"""Pure functions from job records to the benchmark's numbers (no TensorFlow here).

A record is what :func:`job.run_tool` returns: its ``fits`` in order, each with the training
examples it processed, the best validation score it reached (higher is better) and whether it
diverged. Budget is counted in full-run equivalents (FRE): examples / (epochs x training-set size).

Statistics: time to target is a survival curve (the fraction of seeds whose incumbent reached the
target by a budget) and its median, censored (``None``) when fewer than half the seeds reached the
target by the cap, never a mean of capped values. Tools are compared on paired seeds: the mean
(accuracy) or median (R^2) of the per-seed differences, a percentile bootstrap interval and the
Wilcoxon signed-rank test. A run whose regression blew up scores ``-inf``: it ranks below every
finite score, two such runs tie, and it never enters a mean (see :func:`paired`).
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "KINDS",
    "MIN_PAIRS",
    "RESAMPLES",
    "TOP_K",
    "budget_to_target",
    "divergent_fraction",
    "incumbent",
    "incumbent_at",
    "mean_se",
    "median_iqr",
    "median_to_target",
    "paired",
    "reached",
    "record_test_score",
    "survival",
    "target_for",
]

KINDS = ("classification", "regression")
TOP_K = 5  # the target is the mean of the oracle's best TOP_K grid configs
RESAMPLES = 10_000  # bootstrap resamples of the paired differences
MIN_PAIRS = 6  # fewer pairs: no Wilcoxon p and no ahead/behind verdict ("too few")
_SENTINEL = 1e300  # stands for an infinite difference inside the bootstrap (ranks kept)


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


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}: pass the task's `Task.kind`")


def target_for(kind: str, oracle: dict[str, Any] | float) -> float:
    """The score a tool must reach on one task and seed.

    With the oracle record's ``scores`` (the best validation score of every grid config): the mean
    of its best :data:`TOP_K` finite scores, for both kinds, so that one lucky evaluation does not
    set the bar. An old record without ``scores`` (or a bare number) keeps the old rule on its best
    score: within 0.5 pp for accuracy, 99% of the R^2 for regression.
    """
    _check_kind(kind)
    if isinstance(oracle, dict):
        scores = [s for s in oracle.get("scores") or [] if s is not None and math.isfinite(s)]
        if scores:
            top = sorted(scores, reverse=True)[:TOP_K]
            return statistics.fmean(top)
        best = oracle.get("score")
    else:
        best = oracle
    if not isinstance(best, int | float) or isinstance(best, bool) or not math.isfinite(best):
        raise ValueError(
            f"oracle must be an oracle record with finite `scores` or `score`, or a finite "
            f"number; got {oracle!r}: run the oracle again for this task and seed"
        )
    return best - 0.005 if kind == "classification" else 0.99 * best


def budget_to_target(record: dict[str, Any], target: float) -> tuple[float, float] | None:
    """(FRE, seconds) at which the incumbent first reached ``target``; None if it never did."""
    for fre, seconds, score in incumbent(record):
        if score >= target - 1e-12:
            return fre, seconds
    return None


def reached(records: Iterable[dict[str, Any]], target_of: Any, cap: float) -> list[float]:
    """Budget to target per record, a run that never reached it counted at ``cap`` (a lower bound:
    use :func:`survival` and :func:`median_to_target` for statistics)."""
    out = []
    for record in records:
        hit = budget_to_target(record, target_of(record))
        out.append(cap if hit is None else min(hit[0], cap))
    return out


def survival(hits: Sequence[float | None], grid: Sequence[float]) -> list[float]:
    """The fraction of runs whose incumbent reached the target by each budget in ``grid``
    (``hits``: the FRE at which each run reached it, None for never)."""
    if not hits:
        raise ValueError("hits must hold one entry per run; got none: pass at least one record")
    return [sum(h is not None and h <= b + 1e-9 for h in hits) / len(hits) for b in grid]


def median_to_target(hits: Sequence[float | None], cap: float) -> float | None:
    """The budget at which half the runs had reached the target (the survival curve's median);
    None (censored: "> cap") when fewer than half reached it within ``cap``."""
    if not hits:
        raise ValueError("hits must hold one entry per run; got none: pass at least one record")
    done = sorted(min(h, cap) for h in hits if h is not None and h <= cap + 1e-9)
    need = math.ceil(len(hits) / 2)
    return done[need - 1] if len(done) >= need else None


def divergent_fraction(record: dict[str, Any]) -> float:
    """Share of the training examples spent in fits that diverged."""
    total = sum(f["examples"] for f in record["fits"])
    bad = sum(f["examples"] for f in record["fits"] if f["diverged"])
    return bad / total if total else 0.0


def detection_batches(record: dict[str, Any]) -> list[int]:
    """Batches each diverged fit ran before it stopped."""
    return [f["batches"] for f in record["fits"] if f["diverged"]]


def record_test_score(record: dict[str, Any]) -> float:
    """The mean over the record's retraining seeds (``test_scores``; an old record's single
    ``test_score``); ``-inf`` when any retraining blew up, NaN when nothing was scored."""
    scores = record.get("test_scores")
    if not scores:
        scores = [record.get("test_score")]
    values = [-math.inf if s is None else float(s) for s in scores]
    if any(math.isnan(v) for v in values):
        return math.nan
    return -math.inf if any(math.isinf(v) and v < 0 for v in values) else statistics.fmean(values)


def mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the finite values (0 for a single value; NaN for none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    mean = statistics.fmean(finite)
    se = statistics.stdev(finite) / math.sqrt(len(finite)) if len(finite) > 1 else 0.0
    return mean, se


def median_iqr(values: Sequence[float]) -> tuple[float, float, float]:
    """Median and quartiles, ``-inf`` ranked below every finite value (NaN dropped)."""
    kept = np.array([v for v in values if not math.isnan(v)], dtype=float)
    if not kept.size:
        return math.nan, math.nan, math.nan
    finite = np.where(np.isneginf(kept), -_SENTINEL, kept)
    q1, med, q3 = (float(x) for x in np.quantile(finite, [0.25, 0.5, 0.75]))
    return _unsentinel(med), _unsentinel(q1), _unsentinel(q3)


def _unsentinel(value: float) -> float:
    if value <= -_SENTINEL / 10:
        return -math.inf
    if value >= _SENTINEL / 10:
        return math.inf
    return value


def _differences(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    """a - b per pair; -inf against -inf is a tie (0); an infinite difference is kept."""
    out = []
    for x, y in zip(a, b, strict=True):
        out.append(0.0 if x == y else x - y)
    return np.array(out, dtype=float)


def _bootstrap(
    d: np.ndarray, stat: Callable[..., Any], resamples: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(d), size=(resamples, len(d)))
    values = stat(d[picks], axis=1)
    low, high = np.quantile(values, [0.025, 0.975])
    return _unsentinel(float(low)), _unsentinel(float(high))


def _wilcoxon(d: np.ndarray) -> tuple[float | None, str]:
    from scipy.stats import wilcoxon

    if len(d) < MIN_PAIRS:
        return None, f"too few pairs for Wilcoxon (n={len(d)} < {MIN_PAIRS})"
    if not np.any(d):
        return None, "all differences are zero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ties and zeros: scipy's normal approximation, said
        p = float(wilcoxon(d, zero_method="wilcox").pvalue)
    return p, ""


def paired(
    a: Sequence[float],
    b: Sequence[float],
    kind: str,
    *,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare two tools on the same seeds: ``a[i]`` and ``b[i]`` are their scores on seed i.

    Accuracy: the mean of the differences a - b, over the pairs where both scores are finite
    (``dropped`` counts the others). R^2: the median of the differences, ``-inf`` (a blown-up run)
    ranked below every finite score and two blown-up runs tied, so it never poisons a mean; an
    infinite difference enters the bootstrap and the Wilcoxon ranks as a difference larger than
    any finite one. Interval: percentile bootstrap (``resamples`` with a fixed ``seed``). Verdict:
    "ahead" when the 95% interval is above 0, "behind" when below, "tie" otherwise, and "too few"
    under :data:`MIN_PAIRS` pairs (a bootstrap over 3 seeds is not a 95% interval).
    """
    _check_kind(kind)
    if len(a) != len(b):
        raise ValueError(
            f"a and b must hold one score per shared seed; got {len(a)} and {len(b)} values: "
            "pair the records by seed first"
        )
    if not isinstance(resamples, int) or resamples < 100:
        raise ValueError(f"resamples must be an int >= 100; got {resamples!r}")
    x = np.array([math.nan if v is None else v for v in a], dtype=float)
    y = np.array([math.nan if v is None else v for v in b], dtype=float)
    mean = kind == "classification"
    stat_name = "mean" if mean else "median"
    stat: Callable[..., Any] = np.mean if mean else np.median
    keep = np.isfinite(x) & np.isfinite(y) if mean else ~(np.isnan(x) | np.isnan(y))
    d = _differences(x[keep], y[keep])
    out: dict[str, Any] = {
        "statistic": stat_name,
        "n": len(d),
        "dropped": int((~keep).sum()),
        "estimate": None,
        "low": None,
        "high": None,
        "p": None,
        "note": "",
        "verdict": "no pairs",
    }
    if not len(d):
        out["note"] = "no seed with a score from both tools"
        return out
    ranked = np.clip(d, -_SENTINEL, _SENTINEL)  # infinities ranked beyond every finite difference
    out["estimate"] = _unsentinel(float(stat(ranked)))
    out["low"], out["high"] = _bootstrap(ranked, stat, resamples, seed)
    out["p"], out["note"] = _wilcoxon(ranked)
    if len(d) < MIN_PAIRS:
        out["verdict"] = "too few"
    elif out["low"] > 0:
        out["verdict"] = "ahead"
    elif out["high"] < 0:
        out["verdict"] = "behind"
    else:
        out["verdict"] = "tie"
    return out
