"""Keep a long search's per-trial fixed costs and memory flat.

Two measured costs of building a new Keras model for every trial (TensorFlow 2.21, Keras 3.15,
the project's 2-core benchmark machine; ``benchmarks/NOTES.md`` section 7):

* **Memory.** Without a distribution strategy Keras defers creating the optimizer's slot
  variables and the metrics' state to the first trace of the train function. Variables created
  inside a ``tf.function`` get lazily-initialising conditionals, and TensorFlow keeps what they
  cost after ``clear_session()``: resident memory grew 3.5-6 MB per trial. Building that state
  eagerly before ``fit`` (:func:`build_state`) cut the growth to about a third.
* **Time.** ``clear_session()`` ends with a full garbage collection that walks every object
  TensorFlow and Keras created at import: ~0.3-0.5 s per trial on a small MLP. Freezing what
  survives the first trial (:func:`settle`, :func:`gc.freeze`) leaves later collections only the
  objects made since, ~0.09 s. :func:`release` gives the frozen objects back to the collector
  when the search ends.
* **Memory, again.** Each trial's train step traced Keras's gradient all-reduce, a
  ``tf.custom_gradient``: in graph mode that registers a gradient function in TensorFlow's global
  gradient registry (``CustomGradient-<n>``) that is never removed, and its closure holds the
  step's whole ``FuncGraph`` (TensorFlow issue #97697; a fix was merged upstream in 2026, after
  the TensorFlow installed here). RSS grew ~2 MB per trial, 206 MB per 100 trials on the systems
  MLP. :func:`forget_custom_gradients` drops, after a trial, the ones it registered: 2.5 MB per
  100 trials (``benchmarks/NOTES.md`` section 13).
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["build_state", "custom_gradients", "forget_custom_gradients", "release", "settle"]

_CUSTOM = "CustomGradient-"  # the names tf.custom_gradient registers its gradients under

_frozen = False


def build_state(model: Any, x: Any, y: Any) -> None:
    """Create the model's, loss's, metrics' and optimizer's variables now, outside any trace.

    ``x``/``y`` are a sample batch (only their shapes and dtypes are used). Keras builds the same
    state on its own inside the first trace when this cannot (an unusual model): nothing is lost
    but memory, so any failure here is left to ``fit`` to report.
    """
    symbolic_build = getattr(model, "_symbolic_build", None)
    try:
        if symbolic_build is not None:
            symbolic_build(data_batch=(x, y))
        elif model.built and model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    except Exception:  # fit() builds it again, and reports what is wrong
        return


def _gradient_registry() -> dict[str, Any] | None:
    """TensorFlow's registry of gradient functions by op name (private: None if it moved)."""
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


def custom_gradients() -> frozenset[str]:
    """The custom gradients registered so far (before a trial: what it must leave alone)."""
    registry = _gradient_registry()
    return frozenset() if registry is None else frozenset(k for k in registry if _CUSTOM in k)


def forget_custom_gradients(before: frozenset[str]) -> int:
    """Drop the custom gradients registered since ``before`` (:func:`custom_gradients`): those a
    finished trial's traces made, each holding that trial's graph. Called once the trial's model
    is done with; the next trial traces its own. Returns how many were dropped.

    A gradient registered earlier (before the search, by the user's code) is kept."""
    registry = _gradient_registry()
    if registry is None:
        return 0
    stale = [k for k in registry if _CUSTOM in k and k not in before]
    for key in stale:
        del registry[key]
    return len(stale)


def settle() -> None:
    """After a trial's ``clear_session()``: freeze the survivors of the first trial, once."""
    global _frozen
    if not _frozen:  # clear_session() has just collected: what is left is long-lived
        gc.freeze()
        _frozen = True


def release() -> None:
    """Give the objects :func:`settle` froze back to the garbage collector."""
    global _frozen
    if _frozen:
        gc.unfreeze()
        _frozen = False
