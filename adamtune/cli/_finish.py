"""How ``adamtune search`` ends: the config it writes (also when stopped early), and where
everything went."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from pathlib import Path
from typing import Any

from adamtune.cli._where import open_result
from adamtune.result import FORMATS

__all__ = ["FORMATS", "check_output", "config_text", "save_best_so_far", "where_it_went"]


def check_output(output: str | None) -> None:
    """Refuse an ``-o`` whose suffix picks no format, before any work."""
    if output is not None and Path(output).suffix.lower() not in FORMATS:
        raise ValueError(
            f"-o must end in {', '.join(FORMATS)}: the suffix picks the format. "
            f"Received: -o {output!r}"
        )


def config_text(config: Any, fmt: str) -> str:
    """The text ``config.export()`` would write in ``fmt`` (``json``, ``yaml`` or ``py``)."""
    from adamtune.result import config_text as text

    return text(config, fmt)


def _say(message: str) -> None:
    print(f"adamtune search: {message}", file=sys.stderr, flush=True)


def save_best_so_far(output: str, storage: str, study: str | None) -> None:
    """Write the best finished trial of a search that was stopped early (Ctrl-C, a streak of
    failures) to ``output``, and say so; say that nothing was written when no trial finished.
    ``study`` None: stopped before the study had a name (MODEL was still loading)."""
    result = None
    if study is not None:
        with contextlib.suppress(ValueError):  # stopped before the study was made
            result = open_result(storage, study)
    trials = [] if result is None else result.study.get_trials(deepcopy=False)
    if not any(t.state.name == "COMPLETE" for t in trials):
        _say(f"no trial finished, so nothing was written to {output}")
        return
    assert result is not None
    judged = result.judged
    assert judged is not None  # a trial is complete
    finished = sum(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    try:
        path = result.export(output)
    except (OSError, ValueError) as exc:
        _say(f"could not write the best so far to {output}: {exc}")
        return
    _say(
        f"wrote the best so far (trial {judged.trial.number}, {result.meta['objective']} "
        f"{judged.value:.6g}{_runs(judged)}, {finished} trials finished) to {path}; run the same "
        "command to continue"
    )


def where_it_went(args: argparse.Namespace, storage: str, study: str) -> list[str]:
    """A few lines: the study and its storage, its log file, and the commands to look at it."""
    from adamtune._studylog import log_path
    from adamtune.engine import engine_for, mask_url

    shown = mask_url(storage)
    log = log_path(storage, study)
    lines = [f"study {study!r} in {shown}" + (f", log {log}" if log and log.exists() else "")]
    # The storage goes on the command line only when it was given there: the default and
    # $ADAMTUNE_STORAGE are what the other commands read too (a folder they never default to).
    given = engine_for(storage=storage).folder or getattr(args, "storage_from", "") == "option"
    where = f" --storage {shlex.quote(shown)}" if given else ""
    name = shlex.quote(study)
    lines.append(
        f"look at it: adamtune status{where} --study {name}; "
        f"adamtune report{where} --study {name} -o {shlex.quote(study + '.html')}"
    )
    return lines


def _runs(judged: Any) -> str:
    """`` (mean of N runs)`` for a best judged over repeats, else nothing."""
    return f" (mean of {len(judged.runs)} runs)" if judged.repeated else ""
