"""``TunedConfig``: the tuned settings, loadable in training code with one line."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adamtune.params import AdamParams, needs_steps
from adamtune.result._losses import copy_metrics
from adamtune.result._validate import FORMAT_VERSION

# The three modules of a config stack one way: _validate (a mapping's fields) and _export (text
# and files) import nothing of this module at run time; this one calls them.
__all__ = ["FORMAT_VERSION", "TunedConfig", "load_config", "read_config"]


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
    # The loss weights model_fn compiled (a model with several outputs), or None.
    loss_weights: Any = None

    # -- what training code uses ----------------------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        """Every tuned value: the Adam choices, the epochs and the model_fn's own."""
        return {**self.adam.to_dict(), "epochs": self.epochs, **self.user_params}

    def compile_kwargs(self, total_steps: int | None = None) -> dict[str, Any]:
        """``optimizer`` (a fresh Keras Adam, AdamW or Nadam), ``loss`` and ``metrics`` for ``model.compile``
        (per output, by output name, for a model with several), and ``loss_weights`` when the
        search trained with them.

        ``total_steps``: the steps your run will take (epochs x steps per epoch), when it differs
        from the trial's: a learning-rate schedule is spread over them (its warmup keeps its share,
        its end its fraction of the peak) instead of over the trial's ``adam.decay_steps``. A
        constant rate does not change. ``None``: the optimizer exactly as the trial ran it."""
        import keras

        from adamtune._util import check_positive_int
        from adamtune.result._losses import compile_loss

        check_positive_int(total_steps, "total_steps", allow_none=True)
        if total_steps is not None and needs_steps(self.adam):
            from adamtune.training import make_optimizer

            optimizer = make_optimizer(dataclasses.replace(self.adam, decay_steps=total_steps))
        else:
            # A copy: Keras builds a schedule inside the config it is given, in place.
            optimizer = keras.optimizers.deserialize(copy.deepcopy(self.optimizer))
        out = {
            "optimizer": optimizer,
            "loss": compile_loss(self.loss),
            "metrics": copy_metrics(self.metrics),
        }
        if self.loss_weights is not None:
            out["loss_weights"] = self.loss_weights
        return out

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

    def preprocessing_layer(self, sample: Any) -> Any:
        """The tuned input scaling as a Keras layer, for ``ds.map`` or inside the model.

        ``sample`` is the training ``x`` the scaler is fitted on: a NumPy array, samples first,
        used whole; or a ``tf.data.Dataset`` yielding ``x`` or ``(x, y[, sample_weight])``, of
        which only the first :data:`adamtune.data.SAMPLE_SIZE` (2048) samples are read, as the
        search reads a stream. A dataset is batched when every component has a leading dimension
        of None, as in the search. The :meth:`scaler` is fitted on that sample and returned as a
        ``keras.layers.Normalization`` whose output is ``scaler.transform(x)`` (as float32), per
        feature on 2-D ``x``, per channel (the last axis) on images and sequences; its numbers are
        in its config, so a model holding it saves and loads with them. ``keras.layers.Identity()``
        when the tuned scaling is ``"none"`` (``sample`` is checked all the same).
        """
        import keras

        x = _layer_sample(sample)
        if self.adam.scaling == "none":
            return keras.layers.Identity()
        mean, variance = _normalization_numbers(self.scaler().fit(x), x.shape[-1])
        return keras.layers.Normalization(mean=mean, variance=variance)

    # -- printing ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        """One short line: where it came from, its value, and the settings that were tuned."""
        from adamtune.result._text import adam_words, bare, number

        where = [] if self.study_name is None else [f"study={bare(self.study_name, 40)!r}"]
        if self.trial_number is not None:
            where.append(f"trial={self.trial_number}")
        if self.value is not None:
            where.append(f"{bare(self.objective, 30)}={number(self.value)}")
        adam = self.adam.to_dict()
        settings = [
            f"learning_rate={number(adam['learning_rate'])}",
            f"batch_size={bare(adam['batch_size'], 12)}",
            f"epochs={bare(self.epochs, 12)}",
            *adam_words(adam),
        ]
        return f"TunedConfig({', '.join(where + settings)})"

    def __str__(self) -> str:
        """Several lines of plain text, each under 100 characters: what ``print(cfg)`` shows."""
        from adamtune.result._text import config_lines

        return "\n".join(config_lines(self))

    # -- files --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": FORMAT_VERSION,
            "study": self.study_name,
            "trial": self.trial_number,
            "objective": self.objective,
            "value": self.value,
            "adam": self.adam.to_dict(),
            "fit": self._fit_dict(),
            "optimizer": self.optimizer,
            "loss": self.loss,
            "metrics": copy_metrics(self.metrics),
            "user_params": dict(self.user_params),
            "changes": list(self.changes),
        }
        if self.loss_weights is not None:
            out["loss_weights"] = self.loss_weights
        return out

    def to_python(self) -> str:
        """The runnable ``.py`` snippet :meth:`export` writes to a ``.py`` path; a NaN or infinity
        is refused, naming its field."""
        from adamtune.result._export import render_python

        return render_python(self)

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
        from adamtune.result._validate import config_fields

        return cls(**config_fields(data, source))

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON, YAML or a runnable ``.py`` snippet, chosen by the suffix; atomic."""
        from adamtune.result._export import export_config

        return export_config(self, path)


def _layer_sample(sample: Any) -> Any:
    """``sample`` of :meth:`TunedConfig.preprocessing_layer` as a checked float64 array."""
    import numpy as np

    from adamtune.data import stream_kind

    if stream_kind(sample) == "tf.data":
        x = _dataset_x(sample)
    elif isinstance(sample, np.ndarray):
        x = sample
    else:
        raise TypeError(
            "`sample` must be a NumPy array (samples first) or a tf.data.Dataset yielding x or "
            f"(x, y[, sample_weight]). Received: sample of type {type(sample).__name__}; convert "
            "it with np.asarray(x)"
        )
    if x.size == 0:
        raise ValueError(
            f"`sample` must hold at least one sample and one feature. Received: shape {x.shape}"
        )
    from adamtune.data import check_x  # numbers, a feature axis, finite: as for x

    return check_x(x, "sample").astype(np.float64)


def _dataset_x(ds: Any) -> Any:
    """``x`` of the first :data:`~adamtune.data.SAMPLE_SIZE` samples of a tf.data dataset."""
    import tensorflow as tf

    from adamtune.data import tf_sample

    spec = ds.element_spec
    parts = spec if isinstance(spec, tuple) else (spec,)
    if not 1 <= len(parts) <= 3 or not all(isinstance(s, tf.TensorSpec) for s in parts):
        raise TypeError(
            "`sample` must yield x or (x, y[, sample_weight]), each a single tensor. Received: "
            f"a dataset with element_spec={spec!r}; map it to that form first"
        )
    batched = all(s.shape.rank and s.shape[0] is None for s in parts)
    return tf_sample(ds.map(lambda *element: (element[0],)), batched, "`sample`")[0]


def _normalization_numbers(scaler: Any, channels: int) -> tuple[list[float], list[float]]:
    """``mean`` and ``variance`` for ``keras.layers.Normalization`` from a fitted scaler.

    Each tuned scaler is ``x * a + b`` per channel with ``a > 0``, read off at 0 and 1; the layer
    computes ``(x - mean) / sqrt(variance)``, so ``mean = -b / a`` and ``variance = 1 / a**2``.
    """
    import keras
    import numpy as np

    b = scaler.transform(np.zeros((1, channels)))[0]
    a = scaler.transform(np.ones((1, channels)))[0] - b
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(a > 0)):
        raise RuntimeError(
            f"internal error: the {scaler.method} scaler is not x * a + b with a > 0 per channel. "
            f"Received: a={a.tolist()}, b={b.tolist()}"
        )
    small = np.flatnonzero(1.0 / a < keras.config.epsilon())
    if small.size:
        raise ValueError(
            f"the {scaler.method} scaler divides channel(s) {small.tolist()} of `sample` by less "
            f"than keras.config.epsilon() ({keras.config.epsilon():g}), where "
            "keras.layers.Normalization stops dividing: their values hardly vary. Received: "
            f"divisor(s) {(1.0 / a[small]).tolist()}; drop those features or rescale them"
        )
    return (-b / a).tolist(), (1.0 / a**2).tolist()


def read_config(path: str | os.PathLike[str]) -> TunedConfig:
    """Read a JSON or YAML config written by :func:`~adamtune.result.export_config`."""
    from adamtune.result._export import read_mapping

    data, source = read_mapping(path)
    return TunedConfig.from_dict(data, source)


def load_config(path: str | os.PathLike[str]) -> TunedConfig:
    """Read a config written by :meth:`TunedConfig.export` (JSON or YAML)."""
    return read_config(path)
