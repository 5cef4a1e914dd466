"""From job records to the benchmark's tables, its ``summary`` object and its plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import metrics

__all__ = ["TARGETS", "markdown", "plot", "summarize"]

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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def per_task(
    records: list[dict[str, Any]],
    oracle: dict[str, dict[str, Any]],
    kind: str,
    tools: list[str],
    checkpoints: list[float],
    cap: float,
) -> dict[str, Any]:
    """Per tool: the incumbent at each checkpoint, the budget to the oracle target, test score."""

    def target_of(record: dict[str, Any]) -> float:
        return metrics.target_for(kind, oracle[str(record["seed"])]["score"])

    out: dict[str, Any] = {}
    for tool in tools:
        runs = sorted((r for r in records if r["tool"] == tool), key=lambda r: r["seed"])
        if not runs:
            continue
        at = {}
        for b in checkpoints:
            values = [metrics.incumbent_at(r, b) for r in runs]
            mean, se = metrics.mean_se([v if v is not None else math.nan for v in values])
            at[str(b)] = {"mean": _finite(mean), "se": _finite(se)}
        to_target = metrics.mean_se(metrics.reached(runs, target_of, cap))
        hits = [metrics.budget_to_target(r, target_of(r)) for r in runs]
        test = metrics.mean_se([r["test_score"] for r in runs])
        out[tool] = {
            "seeds": [r["seed"] for r in runs],
            "incumbent": at,
            "fre_to_target": {
                "mean": to_target[0],
                "se": to_target[1],
                "reached": sum(h is not None for h in hits),
                "seconds_mean": _finite(
                    metrics.mean_se([h[1] if h else math.nan for h in hits])[0]
                ),
            },
            "test_score": {"mean": _finite(test[0]), "se": _finite(test[1])},
            "divergent_fraction": metrics.mean_se([metrics.divergent_fraction(r) for r in runs])[0],
            "detection_batches": sorted(b for r in runs for b in metrics.detection_batches(r)),
            "fits_mean": metrics.mean_se([len(r["fits"]) for r in runs])[0],
            "wall_seconds_mean": metrics.mean_se([r["wall_seconds"] for r in runs])[0],
            "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
            "errors": [r["error"] for r in runs if r["error"]],
        }
    return out


def summarize(
    tables: dict[str, dict[str, Any]], peers: list[str], systems: dict[str, Any]
) -> dict[str, Any]:
    """The worst case over tasks of adamtune (default strategy) against the best peer per task."""
    ratios, gaps, divergent, fre = [], [], [], []
    for table in tables.values():
        mine = table.get("adamtune")
        present = [p for p in peers if p in table]
        if mine is None or not present:
            continue
        best_time = min(table[p]["fre_to_target"]["mean"] for p in present)
        ratios.append(mine["fre_to_target"]["mean"] / best_time)
        best_test = max(table[p]["test_score"]["mean"] or -math.inf for p in present)
        gaps.append((mine["test_score"]["mean"] or -math.inf) - best_test)
        divergent.append(mine["divergent_fraction"])
        fre.append(mine["fre_to_target"]["mean"])
    return {
        "time_to_target_ratio_vs_best_peer": max(ratios) if ratios else None,
        "test_acc_gap_vs_best_peer": min(gaps) if gaps else None,
        "overhead_ratio_vs_bare_fit": systems.get("overhead_ratio_vs_bare_fit"),
        "rss_growth_mb_per_100_trials": systems.get("rss_growth_mb_per_100_trials"),
        "divergent_compute_fraction": max(divergent) if divergent else None,
        "parallel_speedup_2_workers": systems.get("parallel_speedup_2_workers"),
        "full_run_equivalents_to_99pct_oracle": max(fre) if fre else None,
    }


def verdicts(summary: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, (op, limit) in TARGETS.items():
        value = summary.get(key)
        if value is None:
            out[key] = "not measured"
        elif math.isinf(limit):
            out[key] = "reported"
        else:
            ok = value <= limit if op == "<=" else value >= limit
            out[key] = f"{'met' if ok else 'MISSED'} ({op} {limit:g})"
    return out


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    """The tables for ``benchmarks/README.md``."""
    lines = [
        f"Suite `{result['suite']}`: seeds {result['seeds']}, budget {result['budget_fre']} full-run "
        f"equivalents (FRE), {result['jobs']} worker processes, {result['wall_minutes']:.1f} min.",
        "",
        "| summary (worst task) | value | target |",
        "| --- | --- | --- |",
    ]
    for key, verdict in verdicts(result["summary"]).items():
        lines.append(f"| `{key}` | {_fmt(result['summary'].get(key))} | {verdict} |")
    checkpoints = result["checkpoints"]
    for task, table in result["tasks"].items():
        oracle = result["oracle"].get(task, {})
        scores = [v["score"] for v in oracle.values() if v.get("score") is not None]
        score_name = "R^2" if result["task_kinds"][task] == "regression" else "accuracy"
        lines += [
            "",
            f"### {task}: validation {score_name}; oracle mean "
            f"{_fmt(sum(scores) / len(scores) if scores else None)}",
            "",
            "| tool | "
            + " | ".join(f"best @ {c:g} FRE" for c in checkpoints)
            + " | FRE to target (reached) | test | diverged compute | fits | wall s |",
            "| --- | "
            + " | ".join("---" for _ in checkpoints)
            + " | --- | --- | --- | --- | --- |",
        ]
        for tool, row in table.items():
            cells = [
                f"{_fmt(row['incumbent'][str(c)]['mean'])} ± {_fmt(row['incumbent'][str(c)]['se'])}"
                for c in checkpoints
            ]
            ftt = row["fre_to_target"]
            lines.append(
                f"| {tool} | "
                + " | ".join(cells)
                + f" | {_fmt(ftt['mean'], 1)} ({ftt['reached']}/{len(row['seeds'])}) "
                f"| {_fmt(row['test_score']['mean'])} | {row['divergent_fraction']:.1%} "
                f"| {row['fits_mean']:.0f} | {row['wall_seconds_mean']:.0f} |"
            )
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
_YSPAN = 0.6  # the plot shows the top 0.6 of the score: far-off starts are cut (said in the plot)


def plot(result: dict[str, Any], records: list[dict[str, Any]], folder: Path) -> list[Path]:
    """One PNG per task: the mean incumbent against FRE, a line per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    grid = [result["budget_fre"] * i / 100 for i in range(1, 101)]
    tools = sorted({tool for table in result["tasks"].values() for tool in table})
    others = [t for t in tools if t != "adamtune"]
    colors = {t: _TOOL_COLORS[i % len(_TOOL_COLORS)] for i, t in enumerate(others)}
    paths = []
    for task, table in result["tasks"].items():
        fig, ax = plt.subplots(figsize=(9, 4.8))
        curves: dict[str, list[float]] = {}
        for tool in table:
            runs = [r for r in records if r["task"] == task and r["tool"] == tool]
            curve = []
            for b in grid:
                values = [metrics.incumbent_at(r, b) for r in runs]
                known = [v for v in values if v is not None]
                curve.append(sum(known) / len(known) if len(known) == len(values) else math.nan)
            curves[tool] = curve
        oracle = [v["score"] for v in result["oracle"][task].values() if v.get("score") is not None]
        mean = sum(oracle) / len(oracle) if oracle else None
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
            if tool == "adamtune":
                ax.plot(grid, curve, "-", color="#08306b", linewidth=2.6, label=label, zorder=4)
            else:
                style = "-" if tool.startswith("adamtune") else "--"
                ax.plot(grid, curve, style, color=colors[tool], linewidth=1.2, label=label)
        if mean is not None:
            ax.axhline(
                mean, color="black", linestyle=":", linewidth=1, label="oracle (best of a grid)"
            )
        kind = result["task_kinds"][task]
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
        ax.set_title(
            f"{task}: best validation {score} found so far against budget\n"
            f"mean of {len(result['seeds'])} seeds",
            fontsize=10,
        )
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize=8,
            frameon=False,
        )
        ax.grid(True, which="major", alpha=0.3)
        path = folder / f"{task}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths
