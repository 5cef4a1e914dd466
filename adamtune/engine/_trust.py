"""Refusing a strategy whose sampler unpickles what it reads from the study on a shared storage
(see ``adamtune.strategies.unpickles``): the strategy's side is known to ``strategies``, whether a
storage is shared to the engine."""

from __future__ import annotations

from typing import Any

from adamtune.engine._storage import is_shared, mask_url
from adamtune.strategies import (
    OPTUNA_BUILTINS,
    TRUST_ENV,
    UNPICKLING,
    storage_trusted,
    unpickles,
)

__all__ = ["check_trusted"]


def _shown(storage: Any) -> str:
    return mask_url(storage) if isinstance(storage, str) else f"a {type(storage).__name__} object"


def check_trusted(strategy: Any, storage: Any, trust_storage: bool = False) -> None:
    """Refuse a pickle-reading ``strategy`` on a shared ``storage`` unless the user opted in
    (``trust_storage=True`` or ``$ADAMTUNE_TRUST_STORAGE=1``). Opens nothing, connects nowhere."""
    if not isinstance(trust_storage, bool):
        raise TypeError(
            f"`trust_storage` must be True or False. Received: trust_storage={trust_storage!r}"
        )
    if not unpickles(strategy) or not is_shared(storage) or trust_storage or storage_trusted():
        return
    name = strategy if isinstance(strategy, str) else type(strategy).__name__
    safe = ", ".join(n for n in OPTUNA_BUILTINS if n not in UNPICKLING)
    raise ValueError(
        f"`strategy`={name!r} keeps the CMA-ES optimizer pickled in the study storage and "
        "unpickles it for every trial, so anyone who can write to a shared storage could run "
        "code in every worker; only local sqlite:/// and journal:/// files count as unshared. "
        f"Use one of {safe} (or kt-*), or, if you trust everyone who can write to this storage, "
        f"opt in with trust_storage=True (CLI: --trust-storage, or {TRUST_ENV}=1). "
        f"Received: strategy={name!r}, storage={_shown(storage)}"
    )
