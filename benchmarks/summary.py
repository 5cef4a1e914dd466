"""From job records to the benchmark's numbers: per-task tables, paired tests by seed, the
``summary`` object and its verdicts. The markdown is ``tables.py``'s, the PNGs ``plots.py``'s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import metrics

__all__ = ["TARGETS", "paired", "per_task", "summarize", "target_mean", "verdicts"]

# summary field -> (comparison, threshold) the issue sets.
TARGETS: dict[str, tuple[str, float]] = {
    "time_to_target_ratio_vs_best_peer": ("<=", 0.5),
    "test_acc_gap_vs_best_peer": (">=", -0.005),
    "overhead_ratio_vs_bare_fit": ("<=", 1.05),
    "rss_growth_mb_per_100_trials": ("<=", 100.0),
    "divergent_compute_fraction": ("<=", 0.05),
    "parallel_speedup_2_workers": (">=", 1.7),
    "full_run_equivalents_to_99pct_oracle": ("<=", math.inf),  # reported, no target
    "cells_behind_qmc_at_2x_budget": ("<=", 0.0),
}
SURVIVAL_STEPS = 100  # the survival curve's budget grid: 0..cap in this many steps
FIRST_ONLY = "first-trial-only"  # the textbook first config alone: compared with adamtune
FIRST_SUFFIX = "+first"  # a peer given adamtune's first trial: compared with the peer alone
# The Google tuning playbook's bar for an adaptive search: it must beat quasi-random search given
# twice its budget. adamtune at each checkpoint B is paired with this tool at 2B, where the suite
# has a checkpoint at 2B ("twice the budget" rows).
QMC = "optuna-qmc"
# adamtune with one thing changed (tools.EXTRA): compared with adamtune as it ships
ABLATIONS = (
    "adamtune-schedules",
    "adamtune-default-schedule",
    "adamtune-no-first-trial",
    "adamtune-lr-range",
    "adamtune-confirm",
    "adamtune-sha",
    "adamtune-range-asha",
    "adamtune-no-lr-range",
    "adamtune-range-start",
    "adamtune-textbook-start",
    "adamtune-third-rung",
    "adamtune-no-pruner",
)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _ranked(value: float | None) -> float | None:
    """Keep -inf (a blow-up, ranked last) and finite values; NaN and None become None."""
    if value is None or math.isnan(value) or value == math.inf:
        return None
    return value


def _spread(values: Sequence[float]) -> dict[str, Any]:
    """Accuracy: mean and standard error; R^2: median and quartiles. Both count the -inf runs."""
    cell: dict[str, Any] = {
        "n": len(values),
        "non_finite": sum(not math.isfinite(v) for v in values),
    }
    mean, se = metrics.mean_se(values)
    med, q1, q3 = metrics.median_iqr(values)
    cell |= {"mean": _finite(mean), "se": _finite(se)}
    cell |= {"median": _ranked(med), "q1": _ranked(q1), "q3": _ranked(q3)}
    return cell


def _center(cell: dict[str, Any], kind: str) -> float:
    """The value that ranks tools: the mean for accuracy, the median for R^2 (-inf when none)."""
    value = cell["mean"] if kind == "classification" else cell["median"]
    return -math.inf if value is None else value


def _targets(oracle: dict[str, dict[str, Any]], kind: str) -> dict[int, float | None]:
    out: dict[int, float | None] = {}
    for seed, entry in oracle.items():
        try:
            out[int(seed)] = metrics.target_for(kind, entry)
        except ValueError:  # an oracle that scored nothing: no target, nobody reaches it
            out[int(seed)] = None
    return out


def target_mean(oracle: dict[str, dict[str, Any]], kind: str) -> float | None:
    """A task's target averaged over its seeds (``oracle``: seed -> oracle record); the seeds whose
    oracle scored nothing are left out; None when no seed has a target."""
    metrics._check_kind(kind)  # _targets reads a ValueError as "no target": refuse a bad kind first
    targets = [t for t in _targets(oracle, kind).values() if t is not None]
    return sum(targets) / len(targets) if targets else None


def _hit(record: dict[str, Any], target: float | None) -> tuple[float, float] | None:
    return None if target is None else metrics.budget_to_target(record, target)


def _at(record: dict[str, Any], budget: float) -> float:
    value = metrics.incumbent_at(record, budget)
    return -math.inf if value is None else value


def per_task(
    records: list[dict[str, Any]],
    oracle: dict[str, dict[str, Any]],
    kind: str,
    tools: list[str],
    checkpoints: list[float],
    cap: float,
) -> dict[str, Any]:
    """Per tool: the incumbent at each checkpoint, the survival curve to the oracle target and its
    median, the test score (each record's mean over its retraining seeds), exported epochs."""
    targets = _targets(oracle, kind)
    grid = [cap * i / SURVIVAL_STEPS for i in range(SURVIVAL_STEPS + 1)]
    out: dict[str, Any] = {}
    for tool in tools:
        runs = sorted((r for r in records if r["tool"] == tool), key=lambda r: r["seed"])
        if not runs:
            continue
        hits = [_hit(r, targets.get(int(r["seed"]))) for r in runs]
        fre_hits = [None if h is None else min(h[0], cap) for h in hits]
        median = metrics.median_to_target(fre_hits, cap)
        epochs = [r["exported_epochs"] for r in runs if r.get("exported_epochs") is not None]
        out[tool] = {
            "kind": kind,
            "seeds": [r["seed"] for r in runs],
            "incumbent": {str(b): _spread([_at(r, b) for r in runs]) for b in checkpoints},
            "fre_to_target": {
                "median": median,
                "censored": median is None,
                "reached": sum(h is not None for h in hits),
                "n": len(runs),
                "hits": fre_hits,
                "seconds_median": metrics.median_to_target(
                    [None if h is None else h[1] for h in hits], math.inf
                ),
                "survival": {"grid": grid, "fraction": metrics.survival(fre_hits, grid)},
            },
            "test_score": _spread([metrics.record_test_score(r) for r in runs]),
            "exported_epochs_mean": metrics.mean_se(epochs)[0] if epochs else None,
            "divergent_fraction": metrics.mean_se([metrics.divergent_fraction(r) for r in runs])[0],
            "detection_batches": sorted(b for r in runs for b in metrics.detection_batches(r)),
            "fits_mean": metrics.mean_se([len(r["fits"]) for r in runs])[0],
            "wall_seconds_mean": metrics.mean_se([r["wall_seconds"] for r in runs])[0],
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
            "errors": [r["error"] for r in runs if r["error"]],
        }
    return out


def _metric_values(records: list[dict[str, Any]], metric: str) -> dict[int, float]:
    """seed -> the tool's value of ``metric`` ("test" or a checkpoint budget as text)."""
    if metric == "test":
        return {int(r["seed"]): metrics.record_test_score(r) for r in records}
    return {int(r["seed"]): _at(r, float(metric)) for r in records}


def _compare(
    by_tool: dict[str, list[dict[str, Any]]],
    a: str,
    b: str,
    metric: str,
    kind: str,
    role: str,
    resamples: int,
    seed: int,
    against_metric: str | None = None,
) -> dict[str, Any]:
    """``a`` against ``b`` on ``metric`` (``b`` on ``against_metric`` when given: the row adds
    it as ``against_metric``), paired by seed."""
    b_metric = against_metric or metric
    va, vb = _metric_values(by_tool[a], metric), _metric_values(by_tool[b], b_metric)
    seeds = sorted(set(va) & set(vb))
    test = metrics.paired(
        [va[s] for s in seeds], [vb[s] for s in seeds], kind, resamples=resamples, seed=seed
    )
    return {
        "comparison": role,
        "metric": metric,
        "tool": a,
        "tool_value": _center(_spread(list(va.values())), kind),
        "against": b,
        "against_value": _center(_spread(list(vb.values())), kind),
        **({"against_metric": against_metric} if against_metric else {}),
        "seeds": seeds,
        **test,
    }


def paired(
    records: list[dict[str, Any]],
    kind: str,
    peers: list[str],
    checkpoints: list[float],
    *,
    resamples: int = metrics.RESAMPLES,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Paired-by-seed comparisons on one task, for each metric (the incumbent at each checkpoint,
    then the test score): adamtune against the best peer on that metric (best mean for accuracy,
    best median for R^2), every ``<peer>+first`` against its ``<peer>`` ("good start"),
    adamtune against ``first-trial-only`` ("good search") and each of :data:`ABLATIONS` present
    against adamtune ("ablation"), and adamtune at each checkpoint against :data:`QMC` at twice
    that budget where the suite has that checkpoint ("twice the budget"; the row's
    ``against_metric``). Each row: ``comparison``, ``metric``, ``tool``/``tool_value``,
    ``against``/``against_value`` and :func:`metrics.paired`'s fields (difference = tool -
    against)."""
    metrics._check_kind(kind)
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        by_tool.setdefault(r["tool"], []).append(r)
    names = [str(c) for c in checkpoints] + ["test"]
    rows = []
    for metric in names:
        present = [p for p in peers if p in by_tool and p != "adamtune"]
        if "adamtune" in by_tool and present:
            best = max(
                present,
                key=lambda p: _center(
                    _spread(list(_metric_values(by_tool[p], metric).values())), kind
                ),
            )
            rows.append(
                _compare(by_tool, "adamtune", best, metric, kind, "best peer", resamples, seed)
            )
        for tool in sorted(by_tool):
            base = tool.removesuffix(FIRST_SUFFIX)
            if tool.endswith(FIRST_SUFFIX) and base in by_tool:
                rows.append(
                    _compare(by_tool, tool, base, metric, kind, "good start", resamples, seed)
                )
        if "adamtune" in by_tool and FIRST_ONLY in by_tool:
            rows.append(
                _compare(
                    by_tool, "adamtune", FIRST_ONLY, metric, kind, "good search", resamples, seed
                )
            )
        for tool in sorted(t for t in by_tool if t in ABLATIONS and "adamtune" in by_tool):
            rows.append(
                _compare(by_tool, tool, "adamtune", metric, kind, "ablation", resamples, seed)
            )
        twice = _twice(metric, checkpoints)
        if twice is not None and "adamtune" in by_tool and QMC in by_tool:
            rows.append(
                _compare(
                    by_tool,
                    "adamtune",
                    QMC,
                    metric,
                    kind,
                    "twice the budget",
                    resamples,
                    seed,
                    against_metric=twice,
                )
            )
    return rows


def _twice(metric: str, checkpoints: list[float]) -> str | None:
    """The checkpoint at twice ``metric``'s budget, as its metric name, or None (the test
    score, or no such checkpoint)."""
    if metric == "test":
        return None
    doubled = 2 * float(metric)
    return next((str(c) for c in checkpoints if float(c) == doubled), None)


def _cap(row: dict[str, Any]) -> float:
    return row["fre_to_target"]["survival"]["grid"][-1]


def summarize(
    tables: dict[str, dict[str, Any]],
    peers: list[str],
    systems: dict[str, Any],
    kinds: dict[str, str] | None = None,
    paired_rows: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The worst case over tasks of adamtune (default strategy) against the best peer per task.

    ``time_to_target_ratio_vs_best_peer``: adamtune's median FRE to target / the best peer's
    (lowest median); a peer censored at the cap counts as the cap (the ratio is then an upper
    bound); adamtune censored where a peer reached it: the field is None and listed in ``missed``.
    ``test_acc_gap_vs_best_peer``: adamtune - the best peer on the test score, means for accuracy
    and medians of R^2 for regression tasks (``kinds``: task -> kind; by default the kind
    :func:`per_task` stored in each row).
    ``full_run_equivalents_to_99pct_oracle``: adamtune's worst median FRE to target (None and
    ``missed`` when censored). ``cells_behind_qmc_at_2x_budget``: of the "twice the budget" rows
    of ``paired_rows`` (task -> :func:`paired` rows), how many say "behind" (None without any).
    ``notes`` says what each rule did per task.
    """
    kinds = kinds or {}
    ratios, gaps, divergent, fre = [], [], [], []
    missed: set[str] = set()
    notes: dict[str, list[str]] = {}

    def note(key: str, text: str) -> None:
        notes.setdefault(key, []).append(text)

    for task, table in tables.items():
        mine = table.get("adamtune")
        present = [p for p in peers if p in table and p != "adamtune"]
        if mine is None or not present:
            continue
        kind = kinds.get(task) or mine.get("kind", "classification")
        cap = _cap(mine)
        m_a = mine["fre_to_target"]["median"]
        times = {p: table[p]["fre_to_target"]["median"] for p in present}
        done = {p: t for p, t in times.items() if t is not None and t > 0}
        ttt = "time_to_target_ratio_vs_best_peer"
        if m_a is not None and done:
            best = min(done, key=done.__getitem__)
            ratios.append(m_a / done[best])
        elif m_a is not None:
            ratios.append(m_a / cap)
            note(
                ttt,
                f"{task}: no peer's median reached the target by {cap:g} FRE; counted at "
                "the cap (an upper bound)",
            )
        elif done:
            best = min(done, key=done.__getitem__)
            missed.add(ttt)
            note(
                ttt,
                f"{task}: adamtune's median is censored (> {cap:g} FRE), {best}'s is "
                f"{done[best]:.2f}",
            )
        else:
            note(ttt, f"{task}: no median reached the target by {cap:g} FRE (all censored)")
        fr = "full_run_equivalents_to_99pct_oracle"
        if m_a is None:
            missed.add(fr)
            note(fr, f"{task}: adamtune's median is censored (> {cap:g} FRE)")
        else:
            fre.append(m_a)
        gap_key = "test_acc_gap_vs_best_peer"
        best_test = max(_center(table[p]["test_score"], kind) for p in present)
        gap = _center(mine["test_score"], kind) - best_test
        if kind == "regression":
            note(gap_key, f"{task}: medians of R^2")
        if math.isfinite(gap):
            gaps.append(gap)
        elif gap < 0:
            missed.add(gap_key)
            note(gap_key, f"{task}: adamtune's test score is -inf (blown up) or missing")
        else:
            note(gap_key, f"{task}: every peer's test score is -inf; task left out")
        divergent.append(mine["divergent_fraction"])
    behind_qmc = _twice_the_budget(paired_rows or {}, note)
    fields = {
        "time_to_target_ratio_vs_best_peer": max(ratios) if ratios else None,
        "test_acc_gap_vs_best_peer": min(gaps) if gaps else None,
        "overhead_ratio_vs_bare_fit": systems.get("overhead_ratio_vs_bare_fit"),
        "rss_growth_mb_per_100_trials": systems.get("rss_growth_mb_per_100_trials"),
        "divergent_compute_fraction": max(divergent) if divergent else None,
        "parallel_speedup_2_workers": systems.get("parallel_speedup_2_workers"),
        "full_run_equivalents_to_99pct_oracle": max(fre) if fre else None,
        "cells_behind_qmc_at_2x_budget": behind_qmc,
    }
    for key in missed:
        fields[key] = None
    return {
        **fields,
        "missed": sorted(missed),
        "notes": {key: "; ".join(texts) for key, texts in notes.items()},
    }


def _twice_the_budget(paired_rows: dict[str, list[dict[str, Any]]], note: Any) -> int | None:
    """How many "twice the budget" rows say adamtune is behind; the counts and every cell not
    ahead noted."""
    rows = [
        (task, r)
        for task, task_rows in paired_rows.items()
        for r in task_rows
        if r["comparison"] == "twice the budget"
    ]
    if not rows:
        return None
    counts = {v: sum(r["verdict"] == v for _, r in rows) for v in ("ahead", "tie", "behind")}
    cells = "".join(
        f"; {task} at {float(r['metric']):g} FRE: {r['verdict']}"
        for task, r in rows
        if r["verdict"] != "ahead"
    )
    note(
        "cells_behind_qmc_at_2x_budget",
        f"adamtune at B against {QMC} at 2B, paired by seed: ahead in {counts['ahead']}, tie in "
        f"{counts['tie']}, behind in {counts['behind']} of {len(rows)} (task, B) cells{cells}",
    )
    return counts["behind"]


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    """Per summary field: met / MISSED against its target, "reported", or "not measured"."""
    out = {}
    missed = set(summary.get("missed", []))
    for key, (op, limit) in TARGETS.items():
        value = summary.get(key)
        if value is None and key in missed:
            out[key] = "censored (> the cap)" if math.isinf(limit) else f"MISSED ({op} {limit:g})"
        elif value is None and key in summary.get("notes", {}):
            out[key] = "undetermined (see the note)"
        elif value is None:
            out[key] = "not measured"
        elif math.isinf(limit):
            out[key] = "reported"
        else:
            ok = value <= limit if op == "<=" else value >= limit
            out[key] = f"{'met' if ok else 'MISSED'} ({op} {limit:g})"
    return out
