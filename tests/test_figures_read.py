"""Every figure adamtune draws reads well (issue 15, item 2), checked through matplotlib: the curve
a suggestion comes from stands out, legends stay off the data, no minor grid, labelled axes, a
log axis for learning rates, tick labels that do not overlap. The report's figures come from a
study of hand-made trials (no training); the benchmark's from its stored quick results."""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from adamtune.doctor._lr_range import LRRange, suggest_range
from adamtune.report import _data, _figures

ROOT = Path(__file__).resolve().parents[1]


def _sweep() -> LRRange:
    """A range test's numbers: flat, falling, then blowing up, with noise (no training)."""
    rng = np.random.default_rng(0)
    lrs = np.geomspace(1e-7, 10.0, 100)
    t = np.log10(lrs)
    losses = 2.3 - 1.8 / (1 + np.exp(-3 * (t + 2.5))) + np.exp(3 * (t + 0.8)) * 0.5
    losses = losses + rng.normal(0, 0.08, lrs.size)
    (low, high), at = suggest_range(lrs, losses)
    smoothed, average = [], 0.0
    for i, loss in enumerate(losses):
        average = 0.98 * average + 0.02 * loss
        smoothed.append(average / (1 - 0.98 ** (i + 1)))
    return LRRange(
        lrs=tuple(float(v) for v in lrs),
        losses=tuple(float(v) for v in losses),
        smoothed=tuple(smoothed),
        suggested=(low, high),
        min_loss_lr=at,
        stopped_early=False,
        reason="reached max_lr",
        scaling="standard",
    )


def _drawn(fig: Figure) -> Any:
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _legend_off_the_data(ax: Axes, fig: Figure) -> None:
    legend = ax.get_legend()
    if legend is None:
        return
    renderer = _drawn(fig)
    box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert not box.overlaps(area), (box, area)


def _no_minor_grid(ax: Axes) -> None:
    for axis in (ax.xaxis, ax.yaxis):
        assert not any(t.gridline.get_visible() for t in axis.get_minor_ticks())


def _ticks_apart(ax: Axes, fig: Figure) -> None:
    renderer = _drawn(fig)
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        boxes = [t.get_window_extent(renderer) for t in labels if t.get_text() and t.get_visible()]
        for a, b in itertools.pairwise(boxes):
            assert not a.overlaps(b), (a, b)


def _reads_well(fig: Figure) -> Axes:
    ax = fig.axes[0]
    assert ax.get_title(), "no title"
    assert ax.get_xlabel(), "no x label"
    _no_minor_grid(ax)
    _legend_off_the_data(ax, fig)
    _ticks_apart(ax, fig)
    return ax


# --- lr-find ------------------------------------------------------------------------------------


def test_lr_find_plot_emphasizes_the_suggestion_curve() -> None:
    sweep = _sweep()
    fig = sweep.figure()
    ax = _reads_well(fig)
    assert ax.get_xscale() == "log" and "learning rate" in ax.get_xlabel()
    assert ax.get_ylabel()
    lines = {line.get_label(): line for line in ax.get_lines()}
    main = next(line for label, line in lines.items() if "suggestion is read from" in label)
    others = [line for line in lines.values() if line is not main and len(line.get_xdata()) > 2]
    assert len(others) == 2  # the raw losses and the exponential average
    from matplotlib.colors import to_rgb

    def darkness(line: Any) -> float:
        return 1 - sum(to_rgb(line.get_color())) / 3

    for other in others:
        assert main.get_linewidth() >= 2 * other.get_linewidth()
        assert darkness(main) > darkness(other) + 0.2
        assert (other.get_alpha() or 1.0) <= 1.0
    # the legend sits below the axes
    renderer = _drawn(fig)
    legend = ax.get_legend()
    assert legend.get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
    assert "inputs scaled: standard" in ax.get_title()


def test_lr_find_png_is_the_figure(tmp_path: Path) -> None:
    from matplotlib import image

    path = _sweep().plot(tmp_path / "lr.png")
    pixels = image.imread(path)
    assert pixels.shape[0] >= 500 and pixels.shape[1] >= 700


# --- the report ---------------------------------------------------------------------------------


def _rows() -> list[_data.TrialRow]:
    """Trials of every kind, at learning rates over four decades."""
    study = optuna.create_study(direction="minimize")
    dists = {
        "base_learning_rate": FloatDistribution(1e-5, 1.0, log=True),
        "batch_size": CategoricalDistribution([16, 32, 64, 128]),
        "l2_strength": FloatDistribution(1e-6, 1e-2, log=True),
    }
    rng = np.random.default_rng(1)
    for i in range(24):
        lr = float(10 ** rng.uniform(-5, 0))
        batch = int(rng.choice([16, 32, 64, 128]))
        params = {"base_learning_rate": lr, "batch_size": batch, "l2_strength": 1e-4 * (1 + i)}
        adam = {"learning_rate": lr, "batch_size": batch, "base_learning_rate": lr}
        if lr > 0.1:
            curve: list[Any] = [1.5, 400.0, "nan"]
            attrs = {"outcome": "diverged-nan", "adam": adam, "curves": {"val_loss": curve}}
            study.add_trial(
                create_trial(
                    state=TrialState.PRUNED, params=params, distributions=dists, user_attrs=attrs
                )
            )
            continue
        gap = abs(math.log10(lr) + 2.5)
        val = [0.4 + 0.2 * gap + 0.8 * math.exp(-e) for e in range(6)]
        val[5] = val[4] * 1.05  # best at the fifth epoch: stored 0-based as 4
        attrs = {
            "outcome": "ok",
            "adam": adam,
            "curves": {"val_loss": val, "loss": [v * 0.9 for v in val]},
            "best_epoch": 4,
        }
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                value=min(val),
                params=params,
                distributions=dists,
                user_attrs=attrs,
            )
        )
    return _data.trial_rows(study, "val_loss")


def test_report_figures_read_well() -> None:
    rows = _rows()
    best = _data.best_rows(rows, "minimize", 3)
    diverged = _data.diverged_rows(rows, 5)
    with _figures.collect() as figures:
        _figures.history(rows, "val_loss", "minimize")
        _figures.importances(
            {"learning_rate (as base_learning_rate)": 0.7, "regularizer_strength": 0.2, "x": 0.1}
        )
        _figures.lr_batch_map(rows, best[0].number)
        _figures.curves(best, "val_loss", "Best trials: val_loss per epoch")
        _figures.curves(diverged, "val_loss", "Diverged trials: val_loss per epoch")
        _figures.outcomes(_data.outcome_counts(rows))
    assert len(figures) == 6
    history, importances, lr_map, best_curves, diverged_curves, outcomes = figures
    for fig in figures:
        _reads_well(fig)
    for fig in (history, lr_map, best_curves, diverged_curves):
        assert fig.axes[0].get_ylabel(), fig.axes[0].get_title()
    assert "lower is better" in history.axes[0].get_ylabel()
    ax = lr_map.axes[0]
    assert ax.get_xscale() == "log" and "learning rate" in ax.get_xlabel()
    assert "log" in ax.get_xlabel()
    ax = best_curves.axes[0]
    assert "epoch" in ax.get_xlabel() and "1" in ax.get_xlabel()
    stars = [c for c in ax.collections if c.get_offsets().shape[0] == 1]
    assert [float(c.get_offsets()[0][0]) for c in stars] == [5.0] * len(best)
    assert diverged_curves.axes[0].get_yscale() == "log"  # 1.5 to 400: over two decades
    labels = [t.get_text() for t in importances.axes[0].get_yticklabels()]
    assert labels[-1] == "learning_rate (as base_learning_rate)"  # the largest on top
    assert "%" in importances.axes[0].get_xticklabels()[-1].get_text()
    names = [t.get_text() for t in outcomes.axes[0].get_yticklabels()]
    assert "interrupted" in names


def test_the_schedule_figure_reads_well_and_marks_where_the_exported_epochs_end() -> None:
    from adamtune.params import AdamParams, schedule_values

    adam = AdamParams(1e-2, 32, schedule="cosine", warmup=0.1, decay_to=0.1, decay_steps=200)
    values = schedule_values(adam, range(201))
    with _figures.collect() as figures:
        _figures.lr_schedule(values, "Learning rate over the trial's 200 steps", best_step=160)
        assert _figures.lr_schedule(values[:1], "one step", best_step=None) is None
    (fig,) = figures
    _reads_well(fig)
    ax = fig.axes[0]
    assert "step" in ax.get_xlabel() and ax.get_ylabel() == "learning rate"
    line, marker = ax.get_lines()
    assert list(line.get_ydata()) == pytest.approx(values)
    assert list(marker.get_xdata()) == [160, 160]


# --- the benchmark ------------------------------------------------------------------------------


def test_benchmark_plots_read_well(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = ROOT / "benchmarks" / "results" / "quick.json"
    if not stored.exists():
        pytest.skip("no stored benchmark results")
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    sys.modules.pop("plots", None)
    import plots

    saved: list[Figure] = []
    original = Figure.savefig

    def keep(self: Figure, *args: Any, **kwargs: Any) -> None:
        saved.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    result = json.loads(stored.read_text())
    paths = plots.plot(result, result["records"], tmp_path)
    # Two per task: the incumbent against budget, and the survival curves to the target.
    assert len(paths) == 2 * len(result["tasks"]) == len(saved)
    references = {"half the seeds (median)"}
    for fig in saved:
        ax = _reads_well(fig)
        assert ax.get_ylabel().startswith(("best validation", "fraction of seeds"))
        lines = [
            line
            for line in ax.get_lines()
            if line.get_label() not in references and not line.get_label().startswith("target")
        ]
        main = next(line for line in lines if line.get_label().split(" (")[0] == "adamtune")
        assert all(
            main.get_linewidth() > line.get_linewidth() for line in lines if line is not main
        )
        colours = [line.get_color() for line in lines]
        assert len(set(colours)) == len(colours), colours  # one colour per tool
        assert len(lines) == len(result["tools"])
