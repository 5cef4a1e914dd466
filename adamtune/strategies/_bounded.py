"""TPE whose cost per trial stops growing with the study: it models a bounded part of the history.

Optuna's TPE reads every finished trial each time it samples (once per parameter group, and once
more to find the groups), so each trial's sampling costs in proportion to the trials before it:
11.8 ms per ask at 100 trials, 119 at 2000, 256 at 4000 on copies of a real adamtune study
(``benchmarks/sampler_cost.py``, NOTES.md section 11). Here, once a study is past
:data:`KEEP_BEST` + :data:`KEEP_RECENT` finished trials, it sees the latest :data:`KEEP_RECENT`
and the best :data:`KEEP_BEST` complete trials before those (31.5 ms at 2000, 54.7 at 4000).
Below that size it sees every trial and samples exactly as ``TPESampler`` does. What is dropped
is what TPE weighs least: its "good" group never holds more than 25 trials (``default_gamma``),
all kept here; of the rest, its default weights give old trials a weight that ramps down to
``1/n``.
"""

from __future__ import annotations

import heapq
from collections.abc import Container
from typing import Any

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

__all__ = ["KEEP_BEST", "KEEP_RECENT", "BoundedTPESampler", "bounded_history"]

KEEP_BEST = 25  # TPE's "good" group holds at most 25 trials (optuna's default_gamma)
KEEP_RECENT = 200


def bounded_history(
    trials: list[FrozenTrial],
    direction: StudyDirection,
    keep_best: int = KEEP_BEST,
    keep_recent: int = KEEP_RECENT,
) -> list[FrozenTrial]:
    """The trials a bounded sampler models, from ``trials`` in trial order (as Optuna gives
    them): all of them when they are at most ``keep_best + keep_recent``; else the latest
    ``keep_recent`` and the ``keep_best`` best complete trials before those, in trial order.
    (Every trial TPE would rank among its best 25 is either recent or one of those.)"""
    if len(trials) <= keep_best + keep_recent:
        return trials
    older, recent = trials[:-keep_recent], trials[-keep_recent:]
    sign = 1.0 if direction == StudyDirection.MINIMIZE else -1.0
    complete = [t for t in older if t.state == TrialState.COMPLETE and t.value is not None]
    best = heapq.nsmallest(keep_best, complete, key=lambda t: sign * t.value)  # type: ignore[operator]
    kept = {id(t) for t in best}
    return [t for t in older if id(t) in kept] + recent


class _BoundedStudy:
    """A study as the sampler sees it: every attribute is the study's, but its trials are
    :func:`bounded_history`'s. Optuna's Hyperband pruner hands samplers a per-bracket study
    that allows only some attributes; this reads only what is asked for, so it works on both."""

    def __init__(self, study: Any) -> None:
        self._inner = study
        # One sampler call reads the same trials several times (once per parameter group): the
        # selection is kept while the trials read are the same ones (same count, same last).
        self._kept: dict[Any, tuple[tuple[int, int], list[FrozenTrial]]] = {}

    def __getattr__(self, name: str) -> Any:
        if name == "_inner":  # not set yet (a copy being made): no recursion through here
            raise AttributeError(name)
        return getattr(self._inner, name)

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        trials = self._inner._get_trials(deepcopy=deepcopy, states=states, use_cache=use_cache)
        if self._inner._is_multi_objective() or deepcopy:
            return list(trials)
        key = None if states is None else frozenset(states)  # type: ignore[call-overload]
        seen = (len(trials), trials[-1].number if trials else -1)
        found = self._kept.get(key)
        if found is None or found[0] != seen:
            found = (seen, bounded_history(list(trials), self._inner.direction))
            self._kept[key] = found
        return found[1]

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        return self._get_trials(deepcopy=deepcopy, states=states)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()


def _bounded(study: Any) -> Any:
    """``study`` as :class:`_BoundedStudy` shows it (typed as the study Optuna's methods take)."""
    return _BoundedStudy(study)


class BoundedTPESampler(optuna.samplers.TPESampler):
    """``TPESampler`` that models at most :data:`KEEP_BEST` + :data:`KEEP_RECENT` trials (the
    module's docstring says which and why); the same as ``TPESampler`` below that size."""

    def infer_relative_search_space(self, study: Any, trial: FrozenTrial) -> Any:
        return super().infer_relative_search_space(_bounded(study), trial)

    def sample_relative(self, study: Any, trial: FrozenTrial, search_space: Any) -> dict[str, Any]:
        return super().sample_relative(_bounded(study), trial, search_space)

    def sample_independent(
        self, study: Any, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return super().sample_independent(_bounded(study), trial, param_name, param_distribution)
