"""``search(..., lr_range="auto")`` (the default): narrow the space's learning rate with the LR
range test.

The test runs once, when the study is created; the narrowed space is stored with the study (in its
settings, with what the test suggested), so resuming reuses it instead of testing again, and a
resume never differs from the first call because the test is noisy. It runs on the data the search
prepared, with the loss its pre-flight settled: nothing is prepared or checked a second time (the
test builds its own model, seeded, since its numbers must not depend on the pre-flight's batch).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from adamtune._errors import PreflightError

if TYPE_CHECKING:
    from adamtune.data import Prepared
    from adamtune.spaces import Space
    from adamtune.training import LossSpec

__all__ = ["Narrowed", "narrow_space"]


def narrow_space(
    mode: Any,
    space: Space,
    model_fn: Callable[..., Any],
    data: Prepared,
    loss: LossSpec,
    stored: dict[str, Any] | None,
    name: str,
    refusal: str | None,
) -> Narrowed:
    """The space with its learning rate narrowed, what was done, and what to say.

    ``data``: the data the search prepared (``adamtune.data.prepare_input``); ``loss``: the loss its
    pre-flight settled (``PreflightReport.loss``), which the test trains with; ``stored``: the
    settings the study ``name`` was stored with, or None for a new study (the engine's
    ``stored_settings``, which keeps the storage it opened for the study); ``refusal``: why the
    engine cannot narrow a stored space (``Engine.lr_range_refusal``), or None.

    The option applies when a study is created: a resumed study keeps the space it was made with,
    narrowed or not, whatever ``mode`` is now (a note says so where they differ). On a new study,
    ``"auto"`` steps aside, with a note, where the test cannot run or has nothing to narrow: an
    engine that cannot narrow, a space that fixes the learning rate, a stream, several inputs or
    outputs, a test whose training failed. A suggestion that misses the space's range leaves the
    space as it is (its bounds are the caller's), said with the numbers.
    """
    from adamtune.engine import check_same, diff
    from adamtune.spaces import Space

    lr = space.learning_rate
    why = _why_not(space, data, refusal)
    if stored is not None:
        if "lr_range" in stored:
            # The space as first given (or the study's own, as `adamtune worker` passes it); a
            # changed one is refused as the study refuses one, read before the narrowing.
            given = space.to_dict()
            if diff(stored["space"], given):
                check_same(
                    name, {**stored, "space": _unnarrowed(stored)}, {**stored, "space": given}
                )
            kept = Space.from_dict(stored["space"], f"study {name!r}")
            note = None if mode is not None else _kept_note(name, kept)
            return Narrowed(kept, stored["lr_range"], note)
        said = mode is not None and why is None  # nothing to say where it could never run
        note = f"study {name!r} was made without the LR range test; it resumes without it"
        return Narrowed(space, None, note if said else None)
    if mode is None:  # search() has checked it is None or "auto"
        return Narrowed(space, None, None)
    if why is None:
        try:
            return _tested(space, model_fn, data, loss)
        except PreflightError as exc:
            why = f"its training failed ({exc})"
    return Narrowed(
        space,
        None,
        f"the LR range test (lr_range='auto') did not run: {why}; the learning rate is searched "
        f"over the space's {lr.low:.2g}..{lr.high:.2g}",
    )


@dataclasses.dataclass(frozen=True)
class Narrowed:
    """:func:`narrow_space`'s answer: the space to search, the record stored with the study
    (``meta["lr_range"]``; None where the test did not run) and a note to say once (what the
    test found, or why it did not run), or None."""

    space: Space
    record: dict[str, Any] | None
    note: str | None
    tested: bool = False  # the test ran now, on a new study


def _unnarrowed(stored: dict[str, Any]) -> Any:
    """The space a narrowed study was made with, before the test narrowed it: what the caller's
    space must equal for the stored, narrowed one to be resumed."""
    space = json.loads(json.dumps(stored["space"]))
    space["learning_rate"]["low"], space["learning_rate"]["high"] = stored["lr_range"]["before"]
    return space


def _kept_note(name: str, kept: Space) -> str:
    lr = kept.learning_rate
    return (
        f"study {name!r} was made with the LR range test: it keeps the learning rate range the "
        f"test narrowed it to, {lr.low:.2g}..{lr.high:.2g}, with lr_range=None too"
    )


def _why_not(space: Space, data: Any, refusal: str | None) -> str | None:
    """Why the test cannot run or has nothing to narrow, before it is tried: the engine's
    ``refusal``, a space that fixes the learning rate, the data's form; or None."""
    lr = space.learning_rate
    pinned = f"the space fixes the learning rate at {lr.low:g}" if lr.low == lr.high else None
    return refusal or pinned or _data_refusal(data)


def _data_refusal(data: Any) -> str | None:
    """Why the test cannot run on ``data``, or None."""
    from adamtune.data import Multi, Streamed

    if isinstance(data, Streamed):
        return (
            f"the data is a {data.kind} stream, and the test trains on arrays (run "
            "adamtune.lr_range_test(model_fn, (train_ds, val_ds)) on its first samples and pass "
            "a space with the range it suggests)"
        )
    if isinstance(data, Multi):
        return (
            f"the model has {len(data.inputs_train)} input(s) and {data.n_outputs} output(s), "
            "and the test takes one of each"
        )
    return None


def _tested(space: Space, model_fn: Callable[..., Any], data: Prepared, loss: LossSpec) -> Narrowed:
    """The test run on ``data`` at the space's reference batch size, and the space narrowed."""
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
    outside = not new_low < new_high
    if outside:  # the space's bounds are the caller's: searched as they are, and said
        new_low, new_high = lr.low, lr.high
    record = {
        "suggested": [low, high],
        "before": [lr.low, lr.high],
        "after": [new_low, new_high],
        "batch_size": lr.reference_batch_size,
        "scaling": scaling,
        "outside": outside,
    }
    narrowed = dataclasses.replace(
        space, learning_rate=dataclasses.replace(lr, low=new_low, high=new_high)
    )
    test = (
        f"LR range test (batch {lr.reference_batch_size}, scaling {scaling}, "
        f"{len(found.lrs)} steps): suggests {low:.2g}..{high:.2g}"
    )
    said = (
        f"{test}, outside the space's {lr.low:.2g}..{lr.high:.2g}: the space is searched as it "
        "is; widen its learning rate to follow the test"
        if outside
        else f"{test}; the learning rate is searched in {new_low:.2g}..{new_high:.2g} instead of "
        f"{lr.low:.2g}..{lr.high:.2g} (lr_range=None: no test)"
    )
    return Narrowed(narrowed, record, said, tested=True)
