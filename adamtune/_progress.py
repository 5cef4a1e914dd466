"""Progress of a search: a bar on a terminal, one line per trial elsewhere, nothing at verbose=0.

A terminal that reports fewer than ``MIN_BAR_COLUMNS`` columns (zero, in some emulators, editors'
shells and CI pseudo-terminals) gets the per-trial lines: a bar would draw nothing there.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from adamtune._record import TrialRecord

__all__ = ["MIN_BAR_COLUMNS", "Progress", "bar_fits"]

MIN_BAR_COLUMNS = 40


def bar_fits(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal wide enough for a progress bar."""
    try:
        if not stream.isatty():
            return False
        return os.get_terminal_size(stream.fileno()).columns >= MIN_BAR_COLUMNS
    except (AttributeError, OSError, ValueError):  # no fileno, closed, or not a terminal after all
        return False


class Progress:
    """An Optuna callback that shows finished trials, the best value so far and an ETA."""

    def __init__(
        self, *, target: int, done: int, objective: str, verbose: int, stream: TextIO | None = None
    ) -> None:
        self.target = target
        self.done = done
        self.start_done = done
        self.objective = objective
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.bar: Any = None
        if verbose == 1 and bar_fits(self.stream):
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=target,
                initial=done,
                desc="adamtune",
                unit="trial",
                file=self.stream,
                dynamic_ncols=True,
            )

    def eta(self) -> float | None:
        ran = self.done - self.start_done
        if ran <= 0:
            return None
        return (time.monotonic() - self.started) / ran * max(self.target - self.done, 0)

    def __call__(self, study: Any, trial: Any) -> None:
        from collections import Counter

        # Counted from the study, so trials finished by other workers show too.
        counts = Counter(t.state.name.lower() for t in study.get_trials(deepcopy=False))
        self.done = counts["complete"] + counts["pruned"]
        states = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
        workers = 1 + counts["running"]  # this process, plus one per other running trial
        best = _best_value(study)
        if self.bar is not None:
            self.bar.n = min(self.done, self.target)
            self.bar.set_postfix_str(
                f"best {self.objective}={best}, {states}, workers {workers}", refresh=True
            )
            return
        if self.verbose >= 1:
            self.stream.write(self.line(trial, best, workers, states) + "\n")
            self.stream.flush()

    def line(self, trial: Any, best: str, workers: int = 1, states: str = "") -> str:
        from adamtune.engine import repeat_of, state_of

        record = TrialRecord.from_attrs(trial.user_attrs)
        outcome = trial.state.name.lower() if record.outcome is None else record.outcome
        detail = record.reason_or_error or ""
        original = repeat_of(trial)
        if original is not None:  # search(confirm=N): a second run of a new best
            detail = f"repeat of trial {original}" + (f"; {detail}" if detail else "")
        value = "" if state_of(trial) != "COMPLETE" else f" {self.objective}={trial.value:.4g}"
        eta = self.eta()
        eta_text = "" if eta is None else f" | eta {time.strftime('%H:%M:%S', time.gmtime(eta))}"
        return (
            f"[adamtune] trial {trial.number} {outcome}{value}"
            f"{f' ({detail})' if detail else ''} | {self.done}/{self.target} finished"
            f"{f' ({states})' if states else ''} | best {self.objective}={best}{eta_text} | workers {workers}"
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _best_value(study: Any) -> str:
    """The best value so far: with ``confirm``, the best mean over a config's runs."""
    from adamtune.engine import best_of

    judged = best_of(study, study.direction.name == "MAXIMIZE")
    return "-" if judged is None else f"{judged.value:.4g}"
