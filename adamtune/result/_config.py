"""``TunedConfig``: the tuned settings, loadable in training code with one line."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adamtune.params import AdamParams

__all__ = ["FORMAT_VERSION", "TunedConfig", "load_config"]

FORMAT_VERSION = 1


@dataclass(frozen=True)
class TunedConfig:
    """Tuned Adam settings, as exported by a search.

    ``optimizer`` and ``loss`` are Keras-serialized configs; ``adam`` holds the trial's Adam choices
    (learning rate already scaled to ``batch_size``); ``user_params`` the model_fn's own values;
    ``changes`` what adamtune changed in the user's model, loss or data, in words;
    ``class_weight`` the trial's class weights (``{class: weight}``, computed on the training split
    for ``"balanced"``), or None. Sample weights are data, not settings: never exported.
    """

    adam: AdamParams
    epochs: int
    optimizer: dict[str, Any]
    loss: Any
    metrics: list[str]
    user_params: dict[str, Any] = field(default_factory=dict)
    objective: str = "val_loss"
    value: float | None = None
    study_name: str | None = None
    trial_number: int | None = None
    # What adamtune changed in the model_fn's model, loss or data for this trial, in words
    # ("BatchNorm after dense, dense_1"); cfg.build(model_fn) makes the same changes again.
    changes: list[str] = field(default_factory=list)
    class_weight: dict[int, float] | None = None

    # -- what training code uses ----------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """Every tuned value: the Adam choices, the epochs and the model_fn's own."""
        return {**self.adam.to_dict(), "epochs": self.epochs, **self.user_params}

    def compile_kwargs(self) -> dict[str, Any]:
        """``optimizer`` (a fresh Keras Adam/AdamW), ``loss`` and ``metrics`` for ``model.compile``."""
        import keras

        loss = keras.losses.deserialize(self.loss) if isinstance(self.loss, dict) else self.loss
        return {
            "optimizer": keras.optimizers.deserialize(dict(self.optimizer)),
            "loss": loss,
            "metrics": list(self.metrics),
        }

    def fit_kwargs(self) -> dict[str, Any]:
        """``batch_size`` and ``epochs`` for ``model.fit``, and ``class_weight`` (int keys) when
        the trial weighted classes."""
        out: dict[str, Any] = {"batch_size": self.adam.batch_size, "epochs": self.epochs}
        if self.class_weight is not None:
            out["class_weight"] = dict(self.class_weight)
        return out

    def build(self, model_fn: Callable[..., Any]) -> Any:
        """``model_fn``'s model with the tuned regularizer and BatchNorm applied."""
        from adamtune.params import HP, FixedSource
        from adamtune.training import build_model

        source = FixedSource(self.user_params, what="this tuned config")
        return build_model(model_fn, HP(self.adam, source))

    def scaler(self) -> Any:
        """A fresh, unfitted scikit-learn transformer for the tuned input scaling (identity if none).

        Per feature on 2-D ``x``, per channel (the last axis) on images and sequences, as in the
        search: ``fit``/``transform`` take the training array as it is and keep its shape.
        """
        from adamtune.data import make_scaler

        return make_scaler(self.adam.scaling)

    # -- files --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "study": self.study_name,
            "trial": self.trial_number,
            "objective": self.objective,
            "value": self.value,
            "adam": self.adam.to_dict(),
            "fit": self._fit_dict(),
            "optimizer": self.optimizer,
            "loss": self.loss,
            "metrics": list(self.metrics),
            "user_params": dict(self.user_params),
            "changes": list(self.changes),
        }

    def _fit_dict(self) -> dict[str, Any]:
        """``fit_kwargs()`` as files hold it: JSON keys are strings, so class weights are
        ``[class, weight]`` pairs, which ``dict(pairs)`` turns back into int keys."""
        from adamtune.data import class_weight_pairs

        out: dict[str, Any] = {"batch_size": self.adam.batch_size, "epochs": self.epochs}
        if self.class_weight is not None:
            out["class_weight"] = class_weight_pairs(self.class_weight)
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> TunedConfig:
        """The config in ``data`` (as ``to_dict`` makes it), checked field by field: a ValueError
        names ``source`` and the field, for an unknown key, a wrong type or a NaN/infinity."""
        from adamtune.result._validate import config_from_mapping

        return config_from_mapping(data, source)

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON, YAML or a runnable ``.py`` snippet, chosen by the suffix; atomic."""
        from adamtune.result._export import export_config

        return export_config(self, path)


def load_config(path: str | os.PathLike[str]) -> TunedConfig:
    """Read a config written by :meth:`TunedConfig.export` (JSON or YAML)."""
    from adamtune.result._export import read_config

    return read_config(path)
