"""The report's figures: matplotlib on the Agg canvas, each returned as a ``data:`` PNG URI.

matplotlib is imported when a figure is drawn, never at ``import adamtune``. Figures are built
on ``matplotlib.figure.Figure`` with an Agg canvas of their own, so pyplot's global backend and
state are left alone (a notebook's inline backend keeps working).
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adamtune.report._data import TrialRow, color, curve_keys

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["collect", "curves", "history", "importances", "lr_batch_map", "outcomes"]

DPI = 100
WIDTH = 7.6  # inches: 760 pixels at DPI, inside the page's 960-pixel column
_STYLE: dict[Any, Any] = {  # rc keys are typed as literals: Any lets a plain dict in
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "axes.grid.which": "major",  # no minor grid: on a log axis it crowds the data
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
# Distinct line colours for per-trial curves (matplotlib's tab10, without the outcome greens).
_LINES = ("#1f77b4", "#d62728", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f")


_COLLECTED: list[list[Figure]] = []


@contextlib.contextmanager
def collect() -> Iterator[list[Figure]]:
    """Within the block, every figure drawn is also appended to the yielded list, as a matplotlib
    ``Figure`` (drawn, on its Agg canvas): to check or restyle what the report embeds."""
    found: list[Figure] = []
    _COLLECTED.append(found)
    try:
        yield found
    finally:
        _COLLECTED.remove(found)


def _draw(height: float, paint: Callable[[Axes], None]) -> str:
    """Draw one figure under the report's style; return it as a PNG ``data:`` URI."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(WIDTH, height), dpi=DPI)
        FigureCanvasAgg(fig)
        paint(fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    for found in _COLLECTED:
        found.append(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _spread(values: Sequence[float]) -> bool:
    """Whether positive values span enough decades to want a log axis."""
    return bool(values) and min(values) > 0 and max(values) / min(values) > 100


def _legend_outside(ax: Axes, **kwargs: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def _by_outcome(rows: Sequence[TrialRow]) -> dict[str, list[TrialRow]]:
    groups: dict[str, list[TrialRow]] = {}
    for row in rows:
        groups.setdefault(row.outcome, []).append(row)
    return groups


def history(rows: Sequence[TrialRow], objective: str, direction: str) -> str | None:
    """Objective per trial, coloured by outcome, with the best-so-far line of complete trials."""
    finite = [r for r in rows if r.value is not None]
    if not finite:
        return None

    def paint(ax: Axes) -> None:
        for outcome, group in _by_outcome(finite).items():
            ax.scatter(
                [r.number for r in group],
                [r.value for r in group if r.value is not None],
                s=30,
                color=color(outcome),
                edgecolors="white",
                linewidths=0.5,
                zorder=3,
                label=f"{outcome} ({len(group)})",
            )
        bad = [r for r in rows if r.nonfinite_value]
        if bad:  # no finite value to place: a marker on the top edge at the trial's number
            ax.scatter(
                [r.number for r in bad],
                [1.0] * len(bad),
                transform=ax.get_xaxis_transform(),
                marker="^",
                s=40,
                color=[color(r.outcome) for r in bad],
                edgecolors="black",
                linewidths=0.5,
                clip_on=False,
                zorder=4,
                label=f"non-finite value ({len(bad)}), on the top edge",
            )
        from matplotlib.ticker import MaxNLocator

        _best_line(ax, rows, direction)
        scale = ""
        if _spread([r.value for r in finite if r.value is not None]):
            ax.set_yscale("log")
            scale = ", log scale"
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("trial number")
        better = "lower is better" if direction == "minimize" else "higher is better"
        ax.set_ylabel(f"{objective} ({better}{scale})")
        ax.set_title(f"{objective} of each trial, coloured by outcome, and the best so far")
        _legend_outside(ax)

    return _draw(3.4, paint)


def _best_line(ax: Axes, rows: Sequence[TrialRow], direction: str) -> None:
    done = sorted(
        (r for r in rows if r.state == "COMPLETE" and r.value is not None), key=lambda r: r.number
    )
    if not done:
        return
    pick = max if direction == "maximize" else min
    xs: list[int] = []
    ys: list[float] = []
    for row in done:
        assert row.value is not None
        xs.append(row.number)
        ys.append(row.value if not ys else pick(ys[-1], row.value))
    last = max(r.number for r in rows)
    if last > xs[-1]:
        xs.append(last)
        ys.append(ys[-1])
    ax.step(xs, ys, where="post", color="#222222", linewidth=1.4, zorder=2, label="best so far")


def importances(values: Mapping[str, float], evaluator: str = "PED-ANOVA") -> str | None:
    """Horizontal bars, the most important parameter on top. ``values`` is keyed by the labels
    to show (the export's names: ``Importances.labelled``)."""
    if not values:
        return None
    names = list(values)[::-1]

    def paint(ax: Axes) -> None:
        from matplotlib.ticker import PercentFormatter

        shares = [values[n] for n in names]
        ax.barh(names, shares, color="#4c78a8", height=0.6)
        for y, share in enumerate(shares):
            ax.text(share, y, f" {share:.1%}", va="center", fontsize=8)
        ax.set_xlim(0, max(max(shares), 1e-9) * 1.18)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("importance (share of the total, all parameters add up to 100%)")
        ax.set_title(f"Parameter importances (Optuna {evaluator}), by exported parameter name")
        ax.grid(axis="y", visible=False)

    return _draw(0.5 + 0.32 * len(names), paint)


def _lr_batch(rows: Sequence[TrialRow]) -> tuple[list[float], list[float]]:
    xs: list[float] = []
    ys: list[float] = []
    for row in rows:
        if row.learning_rate is not None and row.batch_size is not None:
            xs.append(row.learning_rate)
            ys.append(float(row.batch_size))
    return xs, ys


def _plain_log_labels(ax: Axes, xs: Sequence[float]) -> None:
    """Tick labels such as 0.001 and 3e-05 instead of 10^-3; minor ticks labelled only when
    the values span less than a decade (else they crowd)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda v, _pos: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    narrow = bool(xs) and max(xs) / min(xs) < 10
    ax.xaxis.set_minor_formatter(plain if narrow else NullFormatter())


def lr_batch_map(rows: Sequence[TrialRow], best: int | None) -> str | None:
    """Learning rate (log) against batch size, one point per trial, coloured by outcome."""
    placed = [r for r in rows if r.learning_rate is not None and r.batch_size is not None]
    if not placed:
        return None

    def paint(ax: Axes) -> None:
        from matplotlib.ticker import FixedLocator, NullLocator

        for outcome, group in _by_outcome(placed).items():
            ax.scatter(
                *_lr_batch(group),
                s=36,
                color=color(outcome),
                edgecolors="white",
                linewidths=0.5,
                alpha=0.9,
                zorder=3,
                label=f"{outcome} ({len(group)})",
            )
        top = [r for r in placed if r.number == best]
        if top:
            ax.scatter(
                *_lr_batch(top),
                s=200,
                facecolors="none",
                edgecolors="black",
                linewidths=1.5,
                zorder=4,
                label=f"best (trial {top[0].number})",
            )
        sizes = sorted({r.batch_size for r in placed if r.batch_size is not None})
        ax.set_xscale("log")
        _plain_log_labels(ax, xs=[r.learning_rate for r in placed if r.learning_rate])
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_locator(FixedLocator(sizes))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_yticklabels([str(s) for s in sizes])
        ax.set_ylim(sizes[0] / 1.5, sizes[-1] * 1.5)
        ax.set_xlabel("learning rate as trained, after batch-size scaling (log scale)")
        ax.set_ylabel("batch size (log scale)")
        ax.set_title("Learning rate x batch size of each trial, coloured by outcome")
        _legend_outside(ax)

    return _draw(3.4, paint)


def _finite_or_nan(values: Sequence[float]) -> list[float]:
    return [v if math.isfinite(v) else math.nan for v in values]


def _plot_trial(ax: Axes, row: TrialRow, main: str, train: str | None, line: str) -> list[float]:
    """One trial's monitored curve (solid) and training counterpart (dashed, hollow markers);
    a non-finite value is an x on the top edge. Returns the finite values drawn."""
    values = row.curves[main]
    epochs = list(range(1, len(values) + 1))
    label = f"trial {row.number}: {row.outcome} ({main})"
    ax.plot(epochs, _finite_or_nan(values), "-o", color=line, markersize=3, label=label)
    bad = [epoch for epoch, v in zip(epochs, values, strict=True) if not math.isfinite(v)]
    if bad:
        ax.scatter(
            bad,
            [1.0] * len(bad),
            transform=ax.get_xaxis_transform(),
            marker="x",
            s=40,
            color=line,
            clip_on=False,
            zorder=4,
        )
    drawn = [v for v in values if math.isfinite(v)]
    epoch = row.best_epoch  # 1-based, as the x axis
    if epoch is not None and 1 <= epoch <= len(values) and math.isfinite(values[epoch - 1]):
        ax.scatter(
            [epoch],
            [values[epoch - 1]],
            marker="*",
            s=140,
            color=line,
            edgecolors="black",
            linewidths=0.6,
            zorder=5,
        )
    if train is not None:
        other = row.curves[train]
        ax.plot(
            range(1, len(other) + 1),
            _finite_or_nan(other),
            "--o",
            color=line,
            markersize=3,
            markerfacecolor="white",
            alpha=0.8,
        )
        drawn += [v for v in other if math.isfinite(v)]
    return drawn


def curves(rows: Sequence[TrialRow], objective: str, title: str) -> str | None:
    """Per-epoch curves of ``rows``: the monitored value solid, its training counterpart dashed."""
    drawn: list[tuple[TrialRow, str, str | None]] = []
    for row in rows:
        main, train = curve_keys(row.curves, objective)
        if main is not None:
            drawn.append((row, main, train))
    if not drawn:
        return None

    def paint(ax: Axes) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        seen: list[float] = []
        for i, (row, main, train) in enumerate(drawn):
            seen += _plot_trial(ax, row, main, train, _LINES[i % len(_LINES)])
        handles, labels = ax.get_legend_handles_labels()
        if any(train is not None for _, _, train in drawn):
            handles.append(
                Line2D([], [], color="#555555", linestyle="--", marker="o", markerfacecolor="white")
            )
            labels.append("dashed, hollow: the same on training data")
        if any(row.best_epoch is not None for row, _, _ in drawn):
            handles.append(
                Line2D(
                    [],
                    [],
                    color="#555555",
                    marker="*",
                    markersize=10,
                    markeredgecolor="black",
                    linestyle="none",
                )
            )
            labels.append("star: the trial's best epoch")
        if any(not math.isfinite(v) for row, main, _ in drawn for v in row.curves[main]):
            handles.append(Line2D([], [], color="#555555", marker="x", linestyle="none"))
            labels.append("x on the top edge: a non-finite value")
        if _spread(seen):
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0.5, max(len(row.curves[main]) for row, main, _ in drawn) + 0.5)
        ax.set_xlabel("epoch (1 = Keras's Epoch 1/N)")
        ax.set_ylabel(objective + (" (log scale)" if _spread(seen) else ""))
        ax.set_title(title)
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)

    return _draw(3.2, paint)


def outcomes(counts: Sequence[tuple[str, int]]) -> str | None:
    """One bar per outcome of the taxonomy, in its colour, with its count."""
    if not any(n for _, n in counts):
        return None
    names = [k for k, _ in counts][::-1]
    numbers = [n for _, n in counts][::-1]

    def paint(ax: Axes) -> None:
        from matplotlib.ticker import MaxNLocator

        ax.barh(names, numbers, color=[color(k) for k in names], height=0.6)
        for y, n in enumerate(numbers):
            ax.text(n, y, f" {n}", va="center", fontsize=8)
        ax.set_xlim(0, max(numbers) * 1.15)
        ax.set_xlabel("trials")
        ax.set_title("How the trials ended: trials per outcome")
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    return _draw(0.6 + 0.3 * len(names), paint)


def lr_schedule(values: Sequence[float], title: str, best_step: int | None) -> str | None:
    """The learning rate at each step of the best trial's schedule; a dashed line where the
    exported epochs end (``best_step``), when that is before the schedule's end."""
    if len(values) < 2:
        return None

    def paint(ax: Axes) -> None:
        ax.plot(range(len(values)), values, color="#4c78a8", linewidth=1.5, label="learning rate")
        if best_step is not None and 0 < best_step < len(values) - 1:
            ax.axvline(
                best_step, color="black", linestyle="--", linewidth=1, label="exported epochs end"
            )
            _legend_outside(ax)
        ax.set_xlim(0, len(values) - 1)
        ax.set_ylim(0, max(values) * 1.08)
        ax.set_xlabel("training step (batch)")
        ax.set_ylabel("learning rate")
        ax.set_title(title)

    return _draw(2.6, paint)
