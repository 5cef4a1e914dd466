"""``search(..., lr_range="auto")``: narrow the space's learning rate with the LR range test.

The test runs once, when the study is created; the narrowed space is stored with the study (in its
settings, with what the test suggested), so resuming reuses it instead of testing again, and a
resume never differs from the first call because the test is noisy. It runs on the data the search
prepared, with the loss its pre-flight settled: nothing is prepared or checked a second time (the
test builds its own model, seeded, since its numbers must not depend on the pre-flight's batch).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adamtune.data import Prepared
    from adamtune.spaces import Space
    from adamtune.training import LossSpec

__all__ = ["narrow_space"]


def narrow_space(
    mode: Any,
    space: Space,
    model_fn: Callable[..., Any],
    data: Prepared,
    loss: LossSpec,
    stored: dict[str, Any] | None,
    name: str,
    verbose: int,
) -> tuple[Space, dict[str, Any] | None]:
    """``(space, record)``: the space with its learning rate narrowed, and what was done.

    ``data``: the data the search prepared (``adamtune.data.prepare_input``); ``loss``: the loss its
    pre-flight settled (``PreflightReport.loss``), which the test trains with; ``stored``: the
    settings the study ``name`` was stored with, or None for a new study (the engine's
    ``stored_settings``, which keeps the storage it opened for the study).
    """
    from adamtune.spaces import Space

    if mode is None:  # search() has checked it is None or "auto"
        return space, None
    if stored is not None and "lr_range" in stored:
        return Space.from_dict(stored["space"], f"study {name!r}"), stored["lr_range"]
    from adamtune.doctor import lr_range_test

    lr = space.learning_rate
    scaling = next((s for s in space.scaling if s != "none"), "none")
    found = lr_range_test(
        model_fn,
        data,
        batch_size=lr.reference_batch_size,
        scaling=scaling,
        space=space,
        checked=loss,
    )
    low, high = found.suggested
    new_low, new_high = max(lr.low, low), min(lr.high, high)
    if not new_low < new_high:  # the test points outside the space: trust the measurement
        new_low, new_high = low, high
    record = {
        "suggested": [low, high],
        "before": [lr.low, lr.high],
        "after": [new_low, new_high],
        "batch_size": lr.reference_batch_size,
        "scaling": scaling,
    }
    if verbose:
        print(
            f"[adamtune] LR range test (batch {lr.reference_batch_size}, scaling {scaling}): "
            f"suggests {low:.2g}..{high:.2g}; learning rate searched in {new_low:.2g}..{new_high:.2g} "
            f"instead of {lr.low:.2g}..{lr.high:.2g}",
            file=sys.stderr,
        )
    narrowed = dataclasses.replace(
        space, learning_rate=dataclasses.replace(lr, low=new_low, high=new_high)
    )
    return narrowed, record
