"""What a report is written from: the few parts of a result it reads, as Protocols.

The report sits below :mod:`adamtune.result`: ``Result.report`` hands itself to
:func:`adamtune.report.write_report`, which reads it through :class:`ReportSource` and never
imports ``adamtune.result`` (``Result`` and ``TunedConfig`` fill these in by their shape).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["ReportConfig", "ReportSource"]


class ReportConfig(Protocol):
    """The best trial's config, as the report shows it (a :class:`~adamtune.TunedConfig`)."""

    @property
    def params(self) -> Mapping[str, Any]:
        """Every tuned value, by its export name."""
        ...

    def to_python(self) -> str:
        """The runnable ``.py`` snippet holding the config (its ``.py`` export)."""
        ...


class ReportSource(Protocol):
    """A study to report on (a :class:`~adamtune.Result`): ``study``, its read-only view (see
    :meth:`adamtune.engine.Study.view`); ``meta``, adamtune's settings of the study; ``best``, the
    best complete trial's config (raising when it cannot be read); ``judged``, that trial and the
    value it was chosen by (the mean over its runs when the search repeated its bests)."""

    @property
    def study(self) -> Any: ...

    @property
    def meta(self) -> Mapping[str, Any]: ...

    @property
    def best(self) -> ReportConfig: ...

    @property
    def judged(self) -> Any: ...
