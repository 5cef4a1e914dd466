"""From job records to the benchmark's tables, its ``summary`` object, paired tests and plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import metrics

__all__ = ["TARGETS", "markdown", "paired", "per_task", "plot", "summarize", "verdicts"]

# summary field -> (comparison, threshold) the issue sets.
TARGETS: dict[str, tuple[str, float]] = {
    "time_to_target_ratio_vs_best_peer": ("<=", 0.5),
    "test_acc_gap_vs_best_peer": (">=", -0.005),
    "overhead_ratio_vs_bare_fit": ("<=", 1.05),
    "rss_growth_mb_per_100_trials": ("<=", 100.0),
    "divergent_compute_fraction": ("<=", 0.05),
    "parallel_speedup_2_workers": (">=", 1.7),
    "full_run_equivalents_to_99pct_oracle": ("<=", math.inf),  # reported, no target
}
SURVIVAL_STEPS = 100  # the survival curve's budget grid: 0..cap in this many steps
FIRST_ONLY = "first-trial-only"  # the textbook first config alone: compared with adamtune
FIRST_SUFFIX = "+first"  # a peer given adamtune's first trial: compared with the peer alone
TARGET_RULE = (
    f"target per task and seed: the mean of the oracle's top {metrics.TOP_K} validation scores "
    "over its grid (an old oracle record without every grid score: its best score - 0.5 pp for "
    "accuracy, 99% of its R^2)"
)
INF_RULE = (
    "R^2 is summarized by medians and quartiles: a run whose regression blew up scores -inf, "
    "ranks below every finite score and is counted in the table, never averaged; two blown-up "
    "runs tie"
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
) -> dict[str, Any]:
    va, vb = _metric_values(by_tool[a], metric), _metric_values(by_tool[b], metric)
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
    best median for R^2), every ``<peer>+first`` against its ``<peer>`` ("good start"), and
    adamtune against ``first-trial-only`` ("good search"). Each row: ``comparison``, ``metric``,
    ``tool``/``tool_value``, ``against``/``against_value`` and :func:`metrics.paired`'s fields
    (difference = tool - against)."""
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
    return rows


def _cap(row: dict[str, Any]) -> float:
    return row["fre_to_target"]["survival"]["grid"][-1]


def summarize(
    tables: dict[str, dict[str, Any]],
    peers: list[str],
    systems: dict[str, Any],
    kinds: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The worst case over tasks of adamtune (default strategy) against the best peer per task.

    ``time_to_target_ratio_vs_best_peer``: adamtune's median FRE to target / the best peer's
    (lowest median); a peer censored at the cap counts as the cap (the ratio is then an upper
    bound); adamtune censored where a peer reached it: the field is None and listed in ``missed``.
    ``test_acc_gap_vs_best_peer``: adamtune - the best peer on the test score, means for accuracy
    and medians of R^2 for regression tasks (``kinds``: task -> kind; by default the kind
    :func:`per_task` stored in each row).
    ``full_run_equivalents_to_99pct_oracle``: adamtune's worst median FRE to target (None and
    ``missed`` when censored). ``notes`` says what each rule did per task.
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
    fields = {
        "time_to_target_ratio_vs_best_peer": max(ratios) if ratios else None,
        "test_acc_gap_vs_best_peer": min(gaps) if gaps else None,
        "overhead_ratio_vs_bare_fit": systems.get("overhead_ratio_vs_bare_fit"),
        "rss_growth_mb_per_100_trials": systems.get("rss_growth_mb_per_100_trials"),
        "divergent_compute_fraction": max(divergent) if divergent else None,
        "parallel_speedup_2_workers": systems.get("parallel_speedup_2_workers"),
        "full_run_equivalents_to_99pct_oracle": max(fre) if fre else None,
    }
    for key in missed:
        fields[key] = None
    return {
        **fields,
        "missed": sorted(missed),
        "notes": {key: "; ".join(texts) for key, texts in notes.items()},
    }


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


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "-inf" if value < 0 else "inf"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(cell: dict[str, Any], kind: str) -> str:
    """Accuracy: mean ± standard error; R^2: median [q1, q3], blown-up runs counted."""
    if kind == "classification":
        text = f"{_fmt(cell['mean'])} ± {_fmt(cell['se'])}"
    else:
        text = f"{_fmt(cell['median'])} [{_fmt(cell['q1'])}, {_fmt(cell['q3'])}]"
    if cell["non_finite"]:
        text += (
            f" ({cell['non_finite']} -inf)"
            if kind == "regression"
            else f" ({cell['non_finite']} none)"
        )
    return text


def _time_cell(ftt: dict[str, Any], cap: float) -> str:
    median = "> " + f"{cap:g}" if ftt["median"] is None else f"{ftt['median']:.2f}"
    return f"{median} ({ftt['reached']}/{ftt['n']})"


def _metric_name(metric: str) -> str:
    return "test" if metric == "test" else f"best @ {float(metric):g} FRE"


def _diff_cell(row: dict[str, Any]) -> str:
    if row["estimate"] is None:
        return "-"
    return f"{_fmt(row['estimate'])} [{_fmt(row['low'])}, {_fmt(row['high'])}]"


def _p_cell(row: dict[str, Any]) -> str:
    if row["p"] is not None:
        return f"{row['p']:.3f}"
    if row["note"].startswith("too few"):
        return f"too few (n={row['n']})"
    return row["note"] or "-"


def _verdict_lines(result: dict[str, Any]) -> list[str]:
    """One table over all tasks: adamtune against the best peer per task and metric."""
    design = result.get("task_design", {})
    rows = [
        (task, r)
        for task, task_rows in result.get("paired", {}).items()
        for r in task_rows
        if r["comparison"] == "best peer"
    ]
    if not rows:
        return []
    lines = [
        "",
        "Verdicts: adamtune against the best peer on each task and metric, paired by seed.",
        "",
        "| task | metric | adamtune | best peer (name, value) | difference [95% CI] "
        "| Wilcoxon p | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {task}{' (design task)' if design.get(task) else ''} | {_metric_name(r['metric'])} "
        f"| {_fmt(r['tool_value'])} | {r['against']}, {_fmt(r['against_value'])} "
        f"| {_diff_cell(r)} | {_p_cell(r)} | {r['verdict']} |"
        for task, r in rows
    ]
    return lines


def _start_search_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Per task: ``<peer>+first`` against ``<peer>`` (good start), adamtune against the first
    trial alone (good search)."""
    other = [r for r in rows if r["comparison"] != "best peer"]
    if not other:
        return []
    lines = [
        "",
        "| good start / good search | metric | tool (value) | against (name, value) "
        "| difference [95% CI] | Wilcoxon p | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['comparison']} | {_metric_name(r['metric'])} | {r['tool']}, "
        f"{_fmt(r['tool_value'])} | {r['against']}, {_fmt(r['against_value'])} "
        f"| {_diff_cell(r)} | {_p_cell(r)} | {r['verdict']} |"
        for r in other
    ]
    return lines


def _heading(result: dict[str, Any], task: str) -> list[str]:
    kind = result["task_kinds"][task]
    score_name = "R^2" if kind == "regression" else "accuracy"
    targets = [t for t in _targets(result["oracle"].get(task, {}), kind).values() if t is not None]
    mean = sum(targets) / len(targets) if targets else None
    design = result.get("task_design", {}).get(task, "")
    title = f"### {task}: validation {score_name}; target mean {_fmt(mean)}"
    if design:
        title += f" (design task: {design})"
    lines = ["", title]
    about = result.get("task_about", {}).get(task, "")
    if about:
        lines += ["", about]
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The tables for ``benchmarks/README.md``: the summary, the verdict table (adamtune against
    the best peer per task and metric), then per task the tools' rows and the good-start /
    good-search comparisons (``result["paired"]``: task -> :func:`paired` rows, when present)."""
    cap = result["budget_fre"]
    lines = [
        f"Suite `{result['suite']}`: seeds {result['seeds']}, budget {cap} full-run "
        f"equivalents (FRE), {result['jobs']} worker processes, {result['wall_minutes']:.1f} min.",
        "",
        f"Rules: {TARGET_RULE}. FRE to target is the median of the survival curve (the budget by "
        f'which half the seeds reached the target; "> {cap:g}" when fewer than half did by the '
        "cap, never a mean of capped values), with the seeds that reached it. Accuracy cells are "
        f"mean ± standard error over seeds; {INF_RULE}. Test: each run's mean over its retraining "
        "seeds. Paired comparisons are by seed (difference = tool - against): the mean difference "
        f"for accuracy, the median for R^2, a 95% percentile bootstrap interval "
        f"({metrics.RESAMPLES} resamples, fixed seed) and the Wilcoxon signed-rank p (none under "
        f'{metrics.MIN_PAIRS} pairs or when every difference is 0); verdict "ahead"/"behind" '
        'when the interval excludes 0, else "tie" ("too few" under '
        f"{metrics.MIN_PAIRS} pairs).",
        "",
        "| summary (worst task) | value | target |",
        "| --- | --- | --- |",
    ]
    summary = result["summary"]
    for key, verdict in verdicts(summary).items():
        lines.append(f"| `{key}` | {_fmt(summary.get(key))} | {verdict} |")
    for key, text in summary.get("notes", {}).items():
        lines.append(f"\n`{key}`: {text}.")
    lines += _verdict_lines(result)
    checkpoints = result["checkpoints"]
    for task, table in result["tasks"].items():
        kind = result["task_kinds"][task]
        lines += _heading(result, task)
        lines += [
            "",
            "| tool | "
            + " | ".join(f"best @ {c:g} FRE" for c in checkpoints)
            + " | FRE to target, median (reached) | test | exported epochs | diverged compute "
            "| fits | wall s |",
            "| --- | "
            + " | ".join("---" for _ in checkpoints)
            + " | --- | --- | --- | --- | --- | --- |",
        ]
        for tool, row in table.items():
            cells = [_cell(row["incumbent"][str(c)], kind) for c in checkpoints]
            lines.append(
                f"| {tool} | "
                + " | ".join(cells)
                + f" | {_time_cell(row['fre_to_target'], cap)} | {_cell(row['test_score'], kind)} "
                f"| {_fmt(row.get('exported_epochs_mean'), 1)} | {row['divergent_fraction']:.1%} "
                f"| {row['fits_mean']:.0f} | {row['wall_seconds_mean']:.0f} |"
            )
        lines += _start_search_lines(result.get("paired", {}).get(task, []))
    return "\n".join(lines) + "\n"


# One colour per tool, the same in every task's plot (matplotlib's tab10 without its blue, which
# marks adamtune); adamtune itself is drawn thick and dark.
_TOOL_COLORS = (
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
_NUDGE = 0.02  # the survival plot lifts each peer's line by a little, so equal curves both show
_YSPAN = 0.6  # the plot shows the top 0.6 of the score: far-off starts are cut (said in the plot)


def _colors(result: dict[str, Any]) -> dict[str, str]:
    """The same colour per tool in every plot of a result (adamtune's own is dark blue)."""
    tools = sorted({tool for table in result["tasks"].values() for tool in table})
    others = [t for t in tools if t != "adamtune"]
    return {"adamtune": "#08306b"} | {
        t: _TOOL_COLORS[i % len(_TOOL_COLORS)] for i, t in enumerate(others)
    }


def _draw(
    ax: Any, tool: str, x: list[float], y: list[float], color: str, label: str, step: bool = False
) -> None:
    draw = ax.step if step else ax.plot
    extra = {"where": "post"} if step else {}
    if tool == "adamtune":
        draw(x, y, "-", color=color, linewidth=2.6, label=label, zorder=4, **extra)
    else:
        style = "-" if tool.startswith("adamtune") else "--"
        draw(x, y, style, color=color, linewidth=1.2, label=label, **extra)


def _curve(runs: list[dict[str, Any]], grid: list[float], kind: str) -> list[float]:
    """The incumbent across seeds at each budget: mean for accuracy, median for R^2 (a -inf seed
    ranks last); NaN where some seed has no score yet."""
    curve = []
    for b in grid:
        values = [metrics.incumbent_at(r, b) for r in runs]
        known = [v for v in values if v is not None]
        if len(known) < len(values) or not known:
            curve.append(math.nan)
        elif kind == "regression":
            curve.append(metrics.median_iqr(known)[0])
        else:
            curve.append(sum(known) / len(known))
    return [v if math.isfinite(v) else math.nan for v in curve]


def _legend(ax: Any) -> None:
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8, frameon=False
    )
    ax.grid(True, which="major", alpha=0.3)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _incumbent_plot(
    result: dict[str, Any],
    records: list[dict[str, Any]],
    task: str,
    colors: dict[str, str],
    folder: Path,
) -> Path:
    import matplotlib.pyplot as plt

    kind = result["task_kinds"][task]
    grid = [result["budget_fre"] * i / 100 for i in range(1, 101)]
    fig, ax = plt.subplots(figsize=(9, 4.8))
    curves = {
        tool: _curve([r for r in records if r["task"] == task and r["tool"] == tool], grid, kind)
        for tool in result["tasks"][task]
    }
    targets = [t for t in _targets(result["oracle"].get(task, {}), kind).values() if t is not None]
    mean = sum(targets) / len(targets) if targets else None
    seen = [v for c in curves.values() for v in c if math.isfinite(v)]
    seen += [] if mean is None else [mean]
    bottom = max(seen) - _YSPAN if seen and min(seen) < max(seen) - _YSPAN else None
    for tool, curve in curves.items():
        finite = [v for v in curve if math.isfinite(v)]
        label = tool
        if not finite:
            label += " (no score in some seed)"
        elif bottom is not None and max(finite) < bottom:
            label += f" (all below {bottom:.2f})"
        _draw(ax, tool, grid, curve, colors[tool], label)
    if mean is not None:
        ax.axhline(
            mean,
            color="black",
            linestyle=":",
            linewidth=1,
            label=f"target (oracle top-{metrics.TOP_K} mean)",
        )
    score = "R^2" if kind == "regression" else "accuracy"
    if bottom is not None:  # keep the top readable: far-off starts cut
        ax.set_ylim(bottom=bottom, top=max(seen) + 0.02)
        ax.text(
            0.99,
            0.02,
            f"scores below {bottom:.2f} are off the bottom edge",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=7,
            color="#555555",
        )
    ax.set_xlabel("budget spent (full-run equivalents: 1 = one full training run)")
    ax.set_ylabel(f"best validation {score} so far")
    center = "median" if kind == "regression" else "mean"
    ax.set_title(
        f"{task}: best validation {score} found so far against budget\n"
        f"{center} of {len(result['seeds'])} seeds",
        fontsize=10,
    )
    _legend(ax)
    return _save(fig, folder / f"{task}.png")


def _survival_plot(result: dict[str, Any], task: str, colors: dict[str, str], folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.8))
    others = [t for t in result["tasks"][task] if t != "adamtune"]
    for tool, row in result["tasks"][task].items():
        ftt = row["fre_to_target"]
        median = "> cap" if ftt["median"] is None else f"{ftt['median']:.2f}"
        label = f"{tool} (median {median}, {ftt['reached']}/{ftt['n']})"
        curve = ftt["survival"]
        # Equal curves would hide each other: the peers' are lifted by up to _NUDGE (said below).
        lift = 0.0 if tool == "adamtune" else _NUDGE * (others.index(tool) + 1) / len(others)
        fraction = [f + lift for f in curve["fraction"]]
        _draw(ax, tool, curve["grid"], fraction, colors[tool], label, step=True)
    ax.text(
        0.01,
        0.98,
        f"peers' lines lifted by up to {_NUDGE:g} so that equal curves stay visible",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=7,
        color="#555555",
    )
    ax.axhline(0.5, color="black", linestyle=":", linewidth=1, label="half the seeds (median)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(0, result["budget_fre"])
    ax.set_xlabel("budget spent (full-run equivalents: 1 = one full training run)")
    ax.set_ylabel("fraction of seeds at the target")
    ax.set_title(
        f"{task}: share of the {len(result['seeds'])} seeds whose best validation score reached "
        f"the target\n(the mean of the oracle's top {metrics.TOP_K} grid configs) by each budget",
        fontsize=10,
    )
    _legend(ax)
    return _save(fig, folder / f"{task}-survival.png")


def plot(result: dict[str, Any], records: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Two PNGs per task: ``<task>.png``, the incumbent against FRE (mean over seeds; median for
    R^2), and ``<task>-survival.png``, the survival curves to the target; a line per tool, the same
    colour per tool in every plot, adamtune thick and dark."""
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    colors = _colors(result)
    paths = []
    for task in result["tasks"]:
        paths.append(_incumbent_plot(result, records, task, colors, folder))
        paths.append(_survival_plot(result, task, colors, folder))
    return paths
