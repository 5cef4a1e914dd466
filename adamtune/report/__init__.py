"""A study as one self-contained HTML report: best config and its export snippet, optimization
history, parameter importances, the learning rate x batch size map, learning curves, the failure
taxonomy and the doctor's findings.

Everything heavy (Optuna, matplotlib, Keras for the export snippet) is imported when a report is
written, so ``import adamtune.report`` stays light.

The report sits below ``adamtune.result``: it reads a :class:`ReportSource` (a ``Result`` is
one) and never imports ``adamtune.result``, so ``Result.report`` importing this package is a
downward import and no import circle joins the two.
"""

from __future__ import annotations

import os
from pathlib import Path

from adamtune.report._source import ReportConfig, ReportSource

__all__ = ["ReportConfig", "ReportSource", "check_matplotlib", "write_report"]


def write_report(
    result: ReportSource, path: str | os.PathLike[str], *, storage: str | None = None
) -> Path:
    """Write ``result``'s report to ``path``, which must end in ``.html``; return the path.

    The file needs nothing else to be viewed: figures are embedded PNG images, the CSS is inline
    and there is no script. ``storage`` is the study's storage URL, shown with any password
    masked; by default the report reads it from the study when it can.
    """
    from adamtune.report._write import write_report as write

    return write(result, path, storage=storage)


def check_matplotlib() -> None:
    """Raise an ImportError that says what to install when matplotlib is missing (the report
    draws its figures with it); checked before a study is read."""
    from adamtune.report._write import check_matplotlib as check

    check()
