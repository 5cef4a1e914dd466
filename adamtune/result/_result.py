"""``Result``: the study after a search, its best config and a table of its trials."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from adamtune.params import AdamParams
from adamtune.result._config import TunedConfig
from adamtune.result._losses import copy_metrics

__all__ = ["Result", "config_from_trial"]


def config_from_trial(trial: Any, meta: dict[str, Any], study_name: str | None) -> TunedConfig:
    """The TunedConfig of a finished trial (an Optuna ``FrozenTrial``) under a study's ``meta``."""
    import keras

    from adamtune.training import make_optimizer

    attrs = trial.user_attrs
    adam = AdamParams(**attrs["adam"])
    best_epoch = attrs.get("best_epoch")
    epochs = int(best_epoch) + 1 if isinstance(best_epoch, int) else int(meta["epochs"])
    return TunedConfig(
        adam=adam,
        epochs=epochs,
        optimizer=keras.optimizers.serialize(make_optimizer(adam)),
        loss=meta["loss"],
        metrics=copy_metrics(meta["metrics"]),
        loss_weights=meta.get("loss_weights"),
        user_params=dict(attrs.get("user_params") or {}),
        objective=meta["objective"],
        value=None if trial.value is None else float(trial.value),
        study_name=study_name,
        trial_number=trial.number,
        changes=[str(c) for c in attrs.get("changes") or []],
        class_weight=_class_weight(adam, meta),
    )


def _class_weight(adam: AdamParams, meta: dict[str, Any]) -> dict[int, float] | None:
    """The numbers of the trial's class weighting, stored with the study (None for "none")."""
    from adamtune.data import class_weight_from_pairs

    stored = meta.get("class_weight")
    if adam.class_weight == "none" or not stored:
        return None
    return class_weight_from_pairs(stored["weights"])


class Result:
    """What :func:`adamtune.search` returns.

    ``best`` is the best trial's :class:`TunedConfig`; ``study`` the Optuna study; ``trials`` a
    pandas table with one row per trial; ``outcomes`` the count of each outcome.
    """

    def __init__(self, study: Any, meta: dict[str, Any]) -> None:
        self.study = study
        self.meta = meta
        self.oracle: Any = None  # the KerasTuner oracle, for KerasTuner strategies

    @property
    def best(self) -> TunedConfig:
        from optuna.trial import TrialState

        complete = self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.outcomes.items())) or "none"
            raise ValueError(
                f"study {self.study.study_name!r} has no completed trial yet (outcomes: {counts}); "
                "see Result.trials for the reasons, widen the space or run more trials"
            )
        return config_from_trial(self.study.best_trial, self.meta, self.study.study_name)

    @property
    def outcomes(self) -> Counter[str]:
        """How many finished trials ended each way: ok, pruned, diverged-nan, diverged-blowup,
        collapsed-to-chance, too-slow, overfit, crashed-oom, crashed-error."""
        from optuna.trial import TrialState

        finished = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
        return Counter(
            t.user_attrs.get("outcome", "crashed-error" if t.state == TrialState.FAIL else "ok")
            for t in self.study.get_trials(deepcopy=False, states=finished)
        )

    @property
    def trials(self) -> Any:
        """A pandas DataFrame, one row per trial, with its state, outcome, reason and parameters."""
        import pandas as pd

        rows = []
        for t in self.study.get_trials(deepcopy=False):
            attrs = t.user_attrs
            rows.append(
                {
                    "number": t.number,
                    "state": t.state.name,
                    "value": t.value,
                    "outcome": attrs.get("outcome"),
                    "reason": attrs.get("reason") or attrs.get("error"),
                    **(attrs.get("adam") or {}),
                    **(attrs.get("user_params") or {}),
                    "changes": "; ".join(attrs.get("changes") or []),
                    "best_epoch": attrs.get("best_epoch"),
                    "epochs_run": attrs.get("epochs_run"),
                    "seconds": attrs.get("seconds"),
                }
            )
        return pd.DataFrame(rows)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the best config to ``path`` (.json, .yaml or .py)."""
        return self.best.export(path)

    def __repr__(self) -> str:
        done = sum(self.outcomes.values())
        return f"Result(study={self.study.study_name!r}, trials={done})"

    def report(self, path: str | os.PathLike[str], *, storage: str | None = None) -> Path:
        """Write the study's self-contained HTML report (see ``adamtune report``)."""
        from adamtune.report import write_report

        return write_report(self, path, storage=storage)
