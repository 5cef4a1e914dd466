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
"""

from __future__ import annotations

import gc
from typing import Any

__all__ = ["build_state", "release", "settle"]

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
