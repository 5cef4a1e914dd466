"""Strategies whose sampler unpickles what it reads from the study, refused on shared storage.

Optuna's ``CmaEsSampler`` stores its optimizer as a pickle in every trial's system attributes and
unpickles the latest one when it samples the next trial. Anyone who can write to the storage can
therefore run code in every worker that uses it. A local ``sqlite:///`` or ``journal:///`` file is
as safe as its file permissions; on any other storage (``postgresql://``, ``mysql://``, a storage
object other than a local file or memory) such a strategy needs an explicit opt-in.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["TRUST_ENV", "check_trusted", "storage_trusted", "unpickles"]

TRUST_ENV = "ADAMTUNE_TRUST_STORAGE"
_UNPICKLING = ("cmaes",)  # registered names whose sampler reads pickled state from the study


def unpickles(strategy: Any) -> bool:
    """Whether ``strategy`` (a name or an engine object) unpickles state read from the study."""
    if isinstance(strategy, str):
        return strategy in _UNPICKLING
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


def _shown(storage: Any) -> str:
    from adamtune.engine._storage import mask_url

    return mask_url(storage) if isinstance(storage, str) else f"a {type(storage).__name__} object"


def check_trusted(strategy: Any, storage: Any, trust_storage: bool = False) -> None:
    """Refuse a pickle-reading ``strategy`` on a shared ``storage`` unless the user opted in
    (``trust_storage=True`` or ``$ADAMTUNE_TRUST_STORAGE=1``). Opens nothing, connects nowhere."""
    from adamtune.engine._storage import is_shared
    from adamtune.strategies._optuna import BUILTINS

    if not isinstance(trust_storage, bool):
        raise TypeError(
            f"`trust_storage` must be True or False. Received: trust_storage={trust_storage!r}"
        )
    if not unpickles(strategy) or not is_shared(storage) or trust_storage or storage_trusted():
        return
    name = strategy if isinstance(strategy, str) else type(strategy).__name__
    safe = ", ".join(n for n in BUILTINS if n not in _UNPICKLING)
    raise ValueError(
        f"`strategy`={name!r} keeps the CMA-ES optimizer pickled in the study storage and "
        "unpickles it for every trial, so anyone who can write to a shared storage could run "
        "code in every worker; only local sqlite:/// and journal:/// files count as unshared. "
        f"Use one of {safe} (or kt-*), or, if you trust everyone who can write to this storage, "
        f"opt in with trust_storage=True (CLI: --trust-storage, or {TRUST_ENV}=1). "
        f"Received: strategy={name!r}, storage={_shown(storage)}"
    )
