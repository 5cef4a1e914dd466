"""Strategies whose sampler unpickles what it reads from the study, refused on shared storage.

Optuna's ``CmaEsSampler`` stores its optimizer as a pickle in every trial's system attributes and
unpickles the latest one when it samples the next trial. Anyone who can write to the storage can
therefore run code in every worker that uses it. A local ``sqlite:///`` or ``journal:///`` file is
as safe as its file permissions; on any other storage (``postgresql://``, ``mysql://``, a storage
object other than a local file or memory) such a strategy needs an explicit opt-in. Which
strategies unpickle is known here; whether a storage is shared is the engine's to say
(``adamtune.engine.check_trusted`` puts the two together).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["TRUST_ENV", "UNPICKLING", "storage_trusted", "unpickles"]

TRUST_ENV = "ADAMTUNE_TRUST_STORAGE"
UNPICKLING = ("cmaes",)  # registered names whose sampler reads pickled state from the study


def unpickles(strategy: Any) -> bool:
    """Whether ``strategy`` (a name or an engine object) unpickles state read from the study."""
    if isinstance(strategy, str):
        return strategy in UNPICKLING
    import optuna

    return isinstance(strategy, optuna.samplers.CmaEsSampler)


def storage_trusted() -> bool:
    """Whether the user said the study storage is trusted (``$ADAMTUNE_TRUST_STORAGE=1``, which
    the CLI's ``--trust-storage`` sets for its command)."""
    value = os.environ.get(TRUST_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(
            f"${TRUST_ENV} must be 1 (trust the study storage) or 0. Received: "
            f"{TRUST_ENV}={value!r}"
        )
    return value == "1"
