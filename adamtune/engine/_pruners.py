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
"""

from __future__ import annotations

import copy

import optuna

__all__ = ["EpochsDoneHalving"]


class EpochsDoneHalving(optuna.pruners.SuccessiveHalvingPruner):
    """Optuna's asynchronous successive halving with the step read as epochs done (Keras's epoch
    index + 1): with ``min_resource=1, reduction_factor=3`` the rungs fall after epochs 1, 3, 9."""

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        shifted = copy.copy(trial)
        shifted.intermediate_values = {k + 1: v for k, v in trial.intermediate_values.items()}
        return bool(super().prune(study, shifted))
