"""The benchmark's PNGs: per task the incumbent against budget and the survival curves to the
target, a line per tool, the same colour per tool in every plot, adamtune thick and dark."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import metrics
import summary

__all__ = ["plot"]

# One colour per tool, the same in every task's plot (matplotlib's tab10 without its blue, which
# marks adamtune); adamtune itself is drawn thick and dark.
# matplotlib's tab20 without its two blues (adamtune's own colour is dark blue): 18 colours, one
# per tool in every plot of a result (the quick suite draws 15 peers).
_TOOL_COLORS = (
    "#ff7f0e",
    "#ffbb78",
    "#2ca02c",
    "#98df8a",
    "#d62728",
    "#ff9896",
    "#9467bd",
    "#c5b0d5",
    "#8c564b",
    "#c49c94",
    "#e377c2",
    "#f7b6d2",
    "#7f7f7f",
    "#c7c7c7",
    "#bcbd22",
    "#dbdb8d",
    "#17becf",
    "#9edae5",
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
    mean = summary.target_mean(result["oracle"].get(task, {}), kind)
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
