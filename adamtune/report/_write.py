"""Read a study, draw the figures, put the page together and write it atomically."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from collections import Counter
from pathlib import Path
from typing import Any

from adamtune._record import TrialRecord
from adamtune.report import _data, _figures, _html
from adamtune.report._source import ReportSource

__all__ = [
    "BEST_CURVES",
    "DIVERGED_CURVES",
    "MISSING_MATPLOTLIB",
    "check_matplotlib",
    "render_report",
    "write_report",
]

BEST_CURVES = 3  # learning curves of this many best trials
DIVERGED_CURVES = 5  # and of at most this many diverged ones
MISSING_MATPLOTLIB = (
    "writing a report needs matplotlib, which draws its figures: pip install matplotlib"
)
_STATES = ("COMPLETE", "PRUNED", "FAIL", "INTERRUPTED", "RUNNING", "WAITING")


def _state(trial: Any) -> str:
    """The trial's Optuna state, except that a trial a Ctrl-C or SIGTERM closed (Optuna's FAIL,
    outcome ``interrupted``) counts as INTERRUPTED, not as a failure."""
    if trial.state.name == "FAIL" and TrialRecord.from_attrs(trial.user_attrs).interrupted:
        return "INTERRUPTED"
    return str(trial.state.name)


def _storage_url(study: Any) -> str | None:
    """The URL of an Optuna RDB storage behind ``study`` (unwrapping Optuna's cache), if any."""
    storage = getattr(study, "_storage", None)
    storage = getattr(storage, "_backend", storage)
    url = getattr(storage, "url", None)
    return url if isinstance(url, str) else None


def _header(result: ReportSource, storage: str | None) -> _html.Header:
    from adamtune import __version__
    from adamtune.engine import mask_url

    study = result.study
    url = storage if storage is not None else _storage_url(study)
    states = Counter(_state(t) for t in study.get_trials(deepcopy=False))
    ordered = {s: states[s] for s in (*_STATES, *sorted(set(states) - set(_STATES))) if states[s]}
    return _html.Header(
        study=str(study.study_name),
        storage=None if url is None else mask_url(url),
        objective=str(result.meta.get("objective", "value")),
        direction=str(result.meta.get("direction", study.direction.name.lower())),
        states=ordered,
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def _best(result: ReportSource) -> _html.Best | None:
    """The best complete trial with its config and ``.py`` snippet; None without one."""
    from adamtune.engine import complete_trials

    study = result.study
    if not complete_trials(study):
        return None
    judged = result.judged
    assert judged is not None  # a trial is complete
    trial, value = judged.trial, judged.value
    params = {**trial.params}
    changes = list(TrialRecord.from_attrs(trial.user_attrs).changes or ())
    try:
        config = result.best
        params = dict(config.params)
        snippet = config.to_python()  # refuses a NaN or infinity, naming its field
    except Exception as exc:  # an odd stored trial must not cost the rest of the report
        problem = f"{type(exc).__name__}: {exc}"
        return _html.Best(trial.number, value, params, problem=problem, changes=changes)
    figure = _schedule_figure(config, result.meta.get("epochs"))
    return _html.Best(
        trial.number, value, params, snippet=snippet, changes=changes, schedule=figure,
        runs=judged.runs,
    )  # fmt: skip


def _schedule_figure(config: Any, study_epochs: Any) -> str | None:
    """The best trial's learning rate at each of its steps (None for a constant rate)."""
    from adamtune.params import needs_steps, schedule_values

    adam = config.adam
    if not needs_steps(adam) or not adam.decay_steps:
        return None
    values = schedule_values(adam, range(adam.decay_steps + 1))
    best_step = None
    if isinstance(study_epochs, int) and study_epochs > 0:
        best_step = adam.decay_steps // study_epochs * config.epochs
    end = "" if adam.schedule == "constant" else f" to {adam.decay_to:.3g}x"
    title = (
        f"Learning rate over the trial's {adam.decay_steps} steps: {adam.schedule}{end}, "
        f"warmup {adam.warmup:.1%}"
    )
    return _figures.lr_schedule(values, title, best_step)


def render_report(result: ReportSource, *, storage: str | None = None) -> str:
    """The report of ``result`` as one self-contained HTML page."""
    study = result.study
    header = _header(result, storage)
    rows = _data.trial_rows(study, header.objective)
    counts = _data.outcome_counts(rows)
    best = _best(result)
    imp = _data.importances(study)
    top = _data.best_rows(rows, header.direction, BEST_CURVES)
    diverged_total = sum(r.outcome in _data.DIVERGED for r in rows)
    diverged = _data.diverged_rows(rows, DIVERGED_CURVES)
    curve_figures = (
        _figures.curves(top, header.objective, f"Best trials: {header.objective} per epoch")
        if top
        else None,
        _figures.curves(
            diverged, header.objective, f"Diverged trials: {header.objective} per epoch"
        )
        if diverged
        else None,
    )
    sections = [
        _html.best_section(best, header, counts),
        _html.history_section(rows, _figures.history(rows, header.objective, header.direction)),
        _html.importances_section(imp, _figures.importances(imp.labelled, _data.EVALUATOR)),
        _html.map_section(rows, _figures.lr_batch_map(rows, best.number if best else None)),
        _html.curves_section(top, diverged, diverged_total, curve_figures),
        _html.outcomes_section(counts, rows, _figures.outcomes(counts)),
        _html.diagnosis_section(_data.diagnosis(study), header),
    ]
    return _html.page(header, sections)


def check_matplotlib() -> None:
    """Raise an ImportError that says what to install when matplotlib is missing."""
    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):  # ValueError: blocked via sys.modules["matplotlib"]
        found = False
    if not found:
        raise ImportError(MISSING_MATPLOTLIB)


def write_report(
    result: ReportSource, path: str | os.PathLike[str], *, storage: str | None = None
) -> Path:
    """Write the report of ``result`` to ``path`` (an ``.html`` file), atomically."""
    from adamtune._util import atomic_write_text

    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"`path` must be a file path. Received: path={path!r}")
    target = Path(path)
    if target.suffix.lower() != ".html":
        raise ValueError(f"`path` must end in .html. Received: path={str(path)!r}")
    check_matplotlib()
    return atomic_write_text(target, render_report(result, storage=storage))
