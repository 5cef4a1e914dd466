"""The benchmark's markdown: the summary with its verdicts, adamtune against the best peer per task
and metric, and per task the tools' rows and the good-start / good-search comparisons."""

from __future__ import annotations

import math
from typing import Any

import machine
import metrics
import summary

__all__ = ["INF_RULE", "TARGET_RULE", "markdown"]

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
    trial alone (good search), an adamtune ablation against adamtune (ablation), adamtune against
    quasi-random search given twice its budget (twice the budget)."""
    other = [r for r in rows if r["comparison"] != "best peer"]
    if not other:
        return []
    lines = [
        "",
        "| good start / good search / ablation | metric | tool (value) | against (name, value) "
        "| difference [95% CI] | Wilcoxon p | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r['comparison']} | {_metric_name(r['metric'])} | {r['tool']}, "
        f"{_fmt(r['tool_value'])} | {_against(r)}, {_fmt(r['against_value'])} "
        f"| {_diff_cell(r)} | {_p_cell(r)} | {r['verdict']} |"
        for r in other
    ]
    return lines


def _against(row: dict[str, Any]) -> str:
    """The row's other tool, with its own metric where it differs (a "twice the budget" row)."""
    other = row.get("against_metric")
    return row["against"] if other is None else f"{row['against']} {_metric_name(other)}"


def _heading(result: dict[str, Any], task: str) -> list[str]:
    kind = result["task_kinds"][task]
    score_name = "R^2" if kind == "regression" else "accuracy"
    mean = summary.target_mean(result["oracle"].get(task, {}), kind)
    design = result.get("task_design", {}).get(task, "")
    title = f"### {task}: validation {score_name}; target mean {_fmt(mean)}"
    if design:
        title += f" (design task: {design})"
    lines = ["", title]
    about = result.get("task_about", {}).get(task, "")
    if about:
        lines += ["", about]
    return lines


def _runs(runs: list[dict[str, Any]]) -> list[str]:
    """When more than one run wrote the file (``run.py --redo``): each run, its time and jobs."""
    if len(runs) < 2:
        return []
    parts = []
    for run in runs:
        what = (
            f"{run['jobs']} jobs"
            + (f" of {', '.join(run['redo'])}, run again" if run.get("redo") else "")
            + (", resumed after a stop" if run.get("resumed") else "")
        )
        wall = run.get("wall_minutes")
        took = "" if wall is None else f"{wall:.1f} min, "
        parts.append(f"`{run['command']}` ({took}{what})")
    return [
        "",
        f"Written by {len(runs)} runs (the last one's time above): " + "; ".join(parts) + ".",
    ]


def _machine(runs: list[dict[str, Any]]) -> list[str]:
    """The machine of the last run that timed it (runs before the harness did: nothing)."""
    timed = [run["machine"] for run in runs if run.get("machine")]
    return ["", machine.line(timed[-1])] if timed else []


def markdown(result: dict[str, Any]) -> str:
    """The tables for ``benchmarks/README.md``: the summary, the verdict table (adamtune against
    the best peer per task and metric), then per task the tools' rows and the good-start /
    good-search comparisons (``result["paired"]``: task -> :func:`paired` rows, when present)."""
    cap = result["budget_fre"]
    lines = [
        f"Suite `{result['suite']}`: seeds {result['seeds']}, budget {cap} full-run "
        f"equivalents (FRE), {result['jobs']} worker processes, {result['wall_minutes']:.1f} min.",
        *_runs(result.get("runs", [])),
        *_machine(result.get("runs", [])),
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
    fields = result["summary"]
    for key, verdict in summary.verdicts(fields).items():
        lines.append(f"| `{key}` | {_fmt(fields.get(key))} | {verdict} |")
    for key, text in fields.get("notes", {}).items():
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
