"""The report page: plain HTML with its CSS inline, no script, every stored text escaped.

Each ``*_section`` function takes values already read from the study and returns one
``<section>``; :func:`page` puts them together. Nothing here reads a study or draws a figure.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adamtune.report._data import (
    EVALUATOR,
    OUTCOME_TEXT,
    Diagnosis,
    Importances,
    TrialRow,
    color,
    export_name,
    importance_label,
)

__all__ = [
    "Best",
    "Header",
    "best_section",
    "curves_section",
    "diagnosis_section",
    "history_section",
    "importances_section",
    "map_section",
    "outcomes_section",
    "page",
]

SECTIONS = (
    ("best", "Best config"),
    ("history", "Optimization history"),
    ("importances", "Parameter importances"),
    ("lr-batch", "Learning rate x batch size"),
    ("curves", "Learning curves"),
    ("outcomes", "Outcomes"),
    ("diagnosis", "Diagnosis"),
)
_SEVERITY = {"critical": "error", "error": "error", "warning": "warning", "warn": "warning"}
_MAX_REASONS = 30
# Outcomes that are no failure of the trial: not listed under "What went wrong". An interrupted
# trial was stopped from outside (Ctrl-C, SIGTERM) and is queued again, not a crash.
_NOT_WRONG = ("ok", "pruned", "interrupted")
_MAX_REASON_CHARS = 600

_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 28px 48px; background: #fff;
  box-shadow: 0 0 0 1px #e3e6eb; }
h1 { font-size: 24px; margin: 0 0 12px; overflow-wrap: anywhere; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e6eb; }
h3 { font-size: 16px; margin: 20px 0 8px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e8eaee;
  vertical-align: top; }
td { overflow-wrap: anywhere; }
th, td.num, td.tag { white-space: nowrap; }
th { background: #f2f4f7; font-weight: 600; }
table.facts th { width: 130px; background: none; color: #5a6272; font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f4f5f7; border: 1px solid #e3e6eb; border-radius: 4px; padding: 10px 12px;
  overflow: auto; max-height: 28em; font-size: 12.5px; line-height: 1.4; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
img { display: block; max-width: 100%; height: auto; margin: 8px 0; }
nav ol { margin: 8px 0 0; padding-left: 22px; columns: 2; font-size: 14px; }
a { color: #2957a4; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 10px; margin: 8px 0; }
.empty { background: #eef2f8; border-left: 4px solid #8aa1c7; padding: 6px 10px; margin: 8px 0; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; }
.sev { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px;
  font-weight: 600; background: #dfe6f3; color: #23395d; }
.sev.error { background: #fbe0e0; color: #8a1010; }
.sev.warning { background: #fdefd4; color: #7a4b00; }
.value { font-size: 20px; font-weight: 600; }
footer { margin-top: 40px; color: #6b7280; font-size: 13px; }
""".strip()


def e(value: Any) -> str:
    """``value`` as HTML text: every character that could start markup is escaped."""
    return html.escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A stored value as short text: floats to 6 significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def _note(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{e(text)}</p>'


def _img(uri: str | None, alt: str) -> str:
    return "" if uri is None else f'<img src="{e(uri)}" alt="{e(alt)}">'


def _swatch(outcome: str) -> str:
    return f'<span class="swatch" style="background:{e(color(outcome))}"></span>'


def _table(
    head: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[int] = (),
    tags: Sequence[int] = (),
) -> str:
    """A table from cells that are already HTML: ``numeric`` columns align right, ``tags``
    columns (short labels) do not wrap."""

    def cell(i: int, html_text: str) -> str:
        kind = ' class="num"' if i in numeric else ' class="tag"' if i in tags else ""
        return f"<td{kind}>{html_text}</td>"

    top = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _section(key: str, body: str) -> str:
    number = next(i for i, (k, _) in enumerate(SECTIONS, 1) if k == key)
    title = dict(SECTIONS)[key]
    return f'<section id="{key}"><h2>{number}. {e(title)}</h2>\n{body}\n</section>'


@dataclass
class Header:
    """The page's facts. ``storage`` is already masked; None when it is not known."""

    study: str
    storage: str | None
    objective: str
    direction: str
    states: Mapping[str, int]
    generated: str
    version: str


def _header(h: Header) -> str:
    total = sum(h.states.values())
    states = ", ".join(f"{k.lower()} {n}" for k, n in h.states.items()) or "none"
    facts = [
        ("study", e(h.study)),
        ("storage", "not recorded" if h.storage is None else f"<code>{e(h.storage)}</code>"),
        ("objective", f"<code>{e(h.objective)}</code> ({e(h.direction)})"),
        ("trials", f"{total} in all: {e(states)}"),
        ("generated", f"{e(h.generated)} by adamtune {e(h.version)}"),
    ]
    rows = "".join(f"<tr><th>{name}</th><td>{cell}</td></tr>" for name, cell in facts)
    links = "".join(f'<li><a href="#{k}">{e(t)}</a></li>' for k, t in SECTIONS)
    return (
        f'<header><h1>adamtune report: <span class="study">{e(h.study)}</span></h1>'
        f'<table class="facts">{rows}</table><nav><ol>{links}</ol></nav></header>'
    )


@dataclass
class Best:
    """The best trial: its number and value, the parameters of its config, and the ``.py``
    export snippet (``snippet`` is None when the config could not be built: ``problem`` says why)."""

    number: int
    value: float
    params: dict[str, Any] = field(default_factory=dict)
    snippet: str | None = None
    problem: str | None = None
    changes: list[str] = field(default_factory=list)  # what adamtune changed in the user's model
    # The learning rate over the trial's steps, a figure; None for a constant rate.
    schedule: str | None = None
    # search(confirm=N): every run the best was judged by (number, value); value is their mean
    runs: tuple[tuple[int, float], ...] = ()


def _runs(runs: Sequence[tuple[int, float]]) -> str:
    """``; the mean of trial 3: 0.95, trial 7: 0.93`` for a best judged over repeated runs."""
    if len(runs) < 2:
        return ""
    return "; the mean of " + ", ".join(f"trial {n}: {e(fmt(v))}" for n, v in runs)


def _changes(changes: Sequence[str]) -> str:
    """What adamtune changed in the user's model for the best trial, or that it changed nothing."""
    if not changes:
        return "<p>adamtune changed nothing in the model_fn's model for this trial.</p>"
    items = "".join(f"<li>{e(text)}</li>" for text in changes)
    return f'<h3>What adamtune changed in the model</h3><ul class="changes">{items}</ul>'


def best_section(best: Best | None, h: Header, outcomes: Sequence[tuple[str, int]]) -> str:
    if best is None:
        seen = ", ".join(f"{k} {n}" for k, n in outcomes if n) or "no trials yet"
        return _section(
            "best",
            _note(
                f"No trial has completed, so there is no best config yet. Outcomes: {seen}.",
                "empty",
            ),
        )
    params = _table(
        ("parameter", "value"),
        [(f"<code>{e(k)}</code>", e(fmt(v))) for k, v in best.params.items()],
    )
    parts = [
        f'<p><span class="value">{e(h.objective)} = {e(fmt(best.value))}</span> '
        f"({e(h.direction)}), trial {best.number}{_runs(best.runs)}</p>",
        params,
        _changes(best.changes),
    ]
    if best.schedule is not None:
        parts.append(
            "<h3>Learning rate over the trial's steps</h3>"
            + _img(best.schedule, "the best trial's learning rate against its training steps")
        )
    if best.snippet is None:
        parts.append(_note(f"The export snippet could not be made: {best.problem}"))
    else:
        parts.append(
            "<h3>Export snippet (<code>tuned.py</code>)</h3>"
            "<p>What <code>result.export(&quot;tuned.py&quot;)</code> or <code>adamtune export "
            f"{e(_study_args(h))} -o tuned.py</code> writes:</p>"
            f"<pre><code>{e(best.snippet)}</code></pre>"
        )
    return _section("best", "\n".join(parts))


def _study_args(h: Header) -> str:
    """``--storage URL --study NAME`` for a command line, quoted for a shell."""
    import shlex

    storage = "URL" if h.storage is None else shlex.quote(h.storage)
    return f"--storage {storage} --study {shlex.quote(h.study)}"


def history_section(rows: Sequence[TrialRow], figure: str | None) -> str:
    if not rows:
        return _section("history", _note("The study has no trials yet.", "empty"))
    finite = sum(r.value is not None for r in rows)
    bad = sum(r.nonfinite_value for r in rows)
    if figure is None:
        ended = f", {bad} of them ended on a non-finite one" if bad else ""
        text = (
            f"No trial has a finite objective value ({len(rows)} trials{ended}): nothing to plot."
        )
        return _section("history", _note(text, "empty"))
    text = (
        f"{len(rows)} trials; {finite} with a finite objective value"
        + (f", {bad} that ended on a non-finite one (drawn on the top edge)" if bad else "")
        + ". Points are coloured by outcome; the line is the best complete trial so far."
    )
    return _section("history", f"<p>{e(text)}</p>" + _img(figure, "optimization history"))


def importances_section(imp: Importances, figure: str | None) -> str:
    parts = [_note(n) for n in imp.notes]
    if imp.values:
        parts.append(_img(figure, "parameter importances"))
        parts.append(
            _table(
                ("parameter (export name)", "importance", "how the search draws it"),
                [
                    (
                        f"<code>{e(importance_label(k))}</code>",
                        f"{v:.1%}",
                        e(export_name(k)[1] or "as exported"),
                    )
                    for k, v in imp.values.items()
                ],
                numeric=(1,),
            )
        )
        parts.insert(
            0,
            f"<p>From Optuna's <code>get_param_importances</code> with its {EVALUATOR} evaluator "
            f"over {imp.complete} completed trials: how much each parameter's values among the "
            "best 10% of those trials differ from its values in all of them. Parameters carry "
            "the names of the exported config (<code>result.export</code>); where the search "
            "draws one under another name, that name follows in brackets.</p>",
        )
    return _section("importances", "\n".join(parts))


def map_section(rows: Sequence[TrialRow], figure: str | None) -> str:
    if figure is None:
        return _section(
            "lr-batch", _note("No trial recorded a learning rate and a batch size.", "empty")
        )
    text = (
        "Each trial at its learning rate (as trained, after batch-size scaling) and batch size, "
        "coloured by outcome; the ring marks the best trial."
    )
    return _section("lr-batch", f"<p>{e(text)}</p>" + _img(figure, "learning rate x batch size"))


def _curve_rows(rows: Sequence[TrialRow]) -> str:
    return _table(
        (
            "trial",
            "outcome",
            "value",
            "learning rate",
            "batch size",
            "epochs",
            "best epoch",
            "reason",
        ),
        [
            (
                str(r.number),
                _swatch(r.outcome) + e(r.outcome),
                e(fmt(r.value)),
                e("n/a" if r.learning_rate is None else f"{r.learning_rate:.3g}"),
                e(fmt(r.batch_size)),
                str(max((len(c) for c in r.curves.values()), default=0)),
                e(fmt(r.best_epoch)),
                e(_clip(r.reason or "")),
            )
            for r in rows
        ],
        numeric=(0, 2, 3, 4, 5, 6),
        tags=(1,),
    )


def _curve_group(rows: Sequence[TrialRow], figure: str | None, which: str, none: str) -> list[str]:
    """One group of learning curves: the figure (or why there is none) and the trials' table."""
    if not rows:
        return [_note(none, "empty")]
    parts = [_img(figure, f"learning curves of {which}")]
    if figure is None:
        parts.append(_note("These trials stored no per-epoch values.", "empty"))
    return [*parts, _curve_rows(rows)]


def curves_section(
    best: Sequence[TrialRow],
    diverged: Sequence[TrialRow],
    diverged_total: int,
    figures: tuple[str | None, str | None],
) -> str:
    parts: list[str] = []
    parts.append(
        f"<h3>The {len(best)} best complete trials</h3>" if best else "<h3>Best trials</h3>"
    )
    parts += _curve_group(best, figures[0], "the best trials", "No trial completed yet.")
    shown = f" ({len(diverged)} of {diverged_total})" if diverged_total > len(diverged) else ""
    parts.append(f"<h3>Diverged trials{e(shown)}</h3>")
    parts += _curve_group(diverged, figures[1], "the diverged trials", "No trial diverged.")
    if any(r.best_epoch is not None for r in (*best, *diverged)):
        parts.append(
            "<p>Epochs count from 1, as Keras prints them (<code>Epoch 1/N</code>); a star marks "
            "each trial's best epoch, the one its value comes from.</p>"
        )
    if any(r.curves_source == "intermediate" for r in (*best, *diverged)):
        parts.append(
            _note(
                "Some trials have no stored per-epoch curves (studies from before adamtune kept "
                "them): their curve is the objective reported to Optuna after each epoch."
            )
        )
    return _section("curves", "\n".join(parts))


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_REASON_CHARS else text[:_MAX_REASON_CHARS] + " [...]"


def outcomes_section(
    counts: Sequence[tuple[str, int]], rows: Sequence[TrialRow], figure: str | None
) -> str:
    total = sum(n for _, n in counts)
    if total == 0:
        return _section("outcomes", _note("The study has no trials yet.", "empty"))
    table = _table(
        ("outcome", "trials", "share", "meaning"),
        [
            (
                _swatch(k) + f"<code>{e(k)}</code>",
                str(n),
                f"{n / total:.0%}",
                e(OUTCOME_TEXT.get(k, "an outcome this version of the report does not know")),
            )
            for k, n in counts
        ],
        numeric=(1, 2),
        tags=(0,),
    )
    failed = [r for r in rows if r.outcome not in _NOT_WRONG and (r.reason or r.state == "FAIL")]
    parts = [table, _img(figure, "outcome counts")]
    if failed:
        shown = failed[:_MAX_REASONS]
        more = f" (the first {len(shown)} of {len(failed)})" if len(failed) > len(shown) else ""
        parts.append(f"<h3>What went wrong, trial by trial{e(more)}</h3>")
        parts.append(
            _table(
                ("trial", "outcome", "reason"),
                [
                    (
                        str(r.number),
                        _swatch(r.outcome) + e(r.outcome),
                        f"<code>{e(_clip(r.reason or 'no reason stored'))}</code>",
                    )
                    for r in shown
                ],
                numeric=(0,),
                tags=(1,),
            )
        )
    return _section("outcomes", "\n".join(parts))


def diagnosis_section(diag: Diagnosis, h: Header) -> str:
    if not diag.present:
        how = f"adamtune doctor MODEL --data DATA {_study_args(h)}"
        return _section(
            "diagnosis",
            _note(
                "No diagnosis was run for this study. To run one and store its findings "
                "with the study:",
                "empty",
            )
            + f"<pre><code>{e(how)}</code></pre>",
        )
    if diag.note is not None:
        return _section("diagnosis", _note(diag.note))
    if not diag.findings:
        return _section("diagnosis", _note("The doctor ran and found nothing to report.", "empty"))
    rows = [
        (
            f'<span class="sev {_SEVERITY.get(f["severity"].lower(), "info")}">'
            f"{e(f['severity'] or 'info')}</span>",
            f"<code>{e(f['code'])}</code>",
            e(f["evidence"]),
            e(f["advice"]),
        )
        for f in diag.findings
    ]
    intro = f"<p>The doctor's {len(rows)} finding{'s' if len(rows) != 1 else ''}:</p>"
    return _section("diagnosis", intro + _table(("severity", "code", "evidence", "advice"), rows))


def page(h: Header, sections: Sequence[str]) -> str:
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>adamtune report: {e(h.study)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
        f"<body>\n<main>\n{_header(h)}\n{body}\n"
        "<footer>Self-contained: the figures are PNG images inside this file, and nothing is "
        "loaded from the network.</footer>\n</main>\n</body>\n</html>\n"
    )
