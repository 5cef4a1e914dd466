"""Pruners whose rungs count epochs done.

adamtune reports a trial's objective to Optuna at Keras's epoch index (0 for the first epoch),
as Optuna's own Keras callback does, so a pruner's resource 1 is the second epoch: Optuna's
``SuccessiveHalvingPruner(min_resource=1)`` compares trials after epochs 2, 4, 10. ``asha`` is
that pruner reading the steps as epochs done, so its rungs fall after epochs 1, 3, 9 (a third of
the trials that reach a rung go on; ASHA, Li et al. 2020). The stored intermediate values keep
the epoch index; only the pruner's view of them moves.

Measured against Hyperband (the default until then) on the benchmark's four held-out tasks,
alone and after the LR range test: ``benchmarks/NOTES.md`` sections 14 and 15; the default for a
new study since (``engine._optuna.DEFAULT_PRUNER``).

``asha-third`` adds a rung a third of the way into the first epoch, below ``asha``'s: its steps
are thirds of an epoch done, so with ``min_resource=1, reduction_factor=3`` its rungs fall after a
third of epoch 1, then after epochs 1, 3, 9, as ``asha``'s. The trial measures the objective there
with a validation pass (``training/_midepoch.py``) and the engine stores it as the trial's
:data:`FIRST_PART_ATTR`; the epochs' intermediate values keep the epoch index as ever. Why a third:
``benchmarks/NOTES.md`` section 22 (on the six tasks' grids a rung there kept a config as good as
the best in every case, and the first rung spends 15-22% of the budget).

Failed trials are no rung's competitors (:class:`Halving`, :class:`Hyperband`). Optuna's halving
counts the rung value of every trial that reached the rung, failed ones too. A trial interrupted
or lost with its worker is failed and its parameters queued again, so its retry was judged
against its own first attempt: a retry that scored a little below it was cut, and every trial
after the interrupted first trial (the strongest config, from the first-trial list) could be cut
in turn, so a resumed study ended with no completed trial. A crashed trial's values are of a run
that did not finish either.
"""

from __future__ import annotations

import copy
from collections.abc import Container
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

__all__ = ["FIRST_PART_ATTR", "EpochsDoneHalving", "Halving", "Hyperband", "ThirdsDoneHalving"]

# The trial's objective inside its first epoch, ``[part, value]`` (a user attribute the pruner
# reads back; a trial cut there says so in its reason, which status and report show).
FIRST_PART_ATTR = "first_epoch_part_value"


# The trial states whose rung values a halving pruner compares: every state but FAIL.
_COMPETING = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)


class _WithoutFailed:
    """A study as a halving pruner reads it: its trials without the failed ones; the rest (its
    direction, its storage, where the pruner writes the rung value) is the study's own."""

    def __init__(self, study: optuna.Study) -> None:
        self._study = study

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        kept = tuple(s for s in _COMPETING if states is None or s in states)
        return list(self._study.get_trials(deepcopy=deepcopy, states=kept))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)


def _without_failed(study: optuna.Study) -> optuna.Study:
    view: Any = _WithoutFailed(study)
    return view  # typed as the study it stands for: the pruner reads it as one


class Halving(optuna.pruners.SuccessiveHalvingPruner):
    """Optuna's asynchronous successive halving (``sha``), its failed trials no competitors."""

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        return bool(super().prune(_without_failed(study), trial))


class Hyperband(optuna.pruners.HyperbandPruner):
    """Optuna's Hyperband (``hyperband``), its failed trials no competitors in any bracket.

    Optuna's ``prune``, with the bracket's study read without its failed trials; samplers still
    get Optuna's own bracket study (``optuna.pruners._filter_study``)."""

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        if not self._pruners:
            self._try_initialization(study)
            if not self._pruners:
                return False
        bracket = self._get_bracket_id(study, trial)
        view = _without_failed(self._create_bracket_study(study, bracket))
        return bool(self._pruners[bracket].prune(view, trial))


class EpochsDoneHalving(Halving):
    """Optuna's asynchronous successive halving with the step read as epochs done (Keras's epoch
    index + 1): with ``min_resource=1, reduction_factor=3`` the rungs fall after epochs 1, 3, 9."""

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        shifted = copy.copy(trial)
        shifted.intermediate_values = {k + 1: v for k, v in trial.intermediate_values.items()}
        return bool(super().prune(study, shifted))


class ThirdsDoneHalving(Halving):
    """Asynchronous successive halving with the step read as thirds of an epoch done: the value
    a third into the first epoch (the trial's :data:`FIRST_PART_ATTR`) is step 1 and the end of
    epoch ``e`` (Keras's index) is step ``3 * (e + 1)``. With ``min_resource=1,
    reduction_factor=3`` the rungs fall after a third of epoch 1, then after epochs 1, 3, 9. A
    trial with no value inside its first epoch (an epoch of unknown length, or of under three
    batches) meets its first two rungs together at the end of epoch 1."""

    first_epoch_parts = (1.0 / 3.0,)

    def __init__(self) -> None:
        super().__init__(min_resource=1, reduction_factor=3)

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        shifted = copy.copy(trial)
        view = {3 * (k + 1): v for k, v in trial.intermediate_values.items()}
        stored = trial.user_attrs.get(FIRST_PART_ATTR)
        if stored is not None and not view:  # judged there only while no epoch has ended
            view[1] = float(stored[1])
        shifted.intermediate_values = view
        return bool(super().prune(study, shifted))
