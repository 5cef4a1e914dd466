"""The learning-rate range test (Smith 2017; fastai's ``lr_find``) for Adam.

One short training run whose learning rate grows geometrically from ``min_lr`` to ``max_lr``, one
step per batch; the loss against the learning rate shows where Adam starts to learn, where it learns
fastest and where it blows up. :func:`lr_range_test` runs it and suggests a learning-rate range.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adamtune._tfquiet import hides_retracing
from adamtune._util import _default_mode, check_choice, check_positive_int

if TYPE_CHECKING:
    from adamtune.training import LossSpec

__all__ = ["LRRange", "centered_average", "lr_range_test", "suggest_range"]

# The suggestion rule's constants; see suggest_range.
_BELOW_MIN = 3.0  # high = lr at the minimum of the centered average / 3
_DECADE = 10.0  # low = high / 10
_MIN_STEPS = 10


def _finite_or_text(value: float) -> float | str:
    """A float JSON can hold, or ``"nan"``/``"inf"``/``"-inf"`` as text."""
    return value if math.isfinite(value) else str(value)


@dataclass(frozen=True)
class LRRange:
    """The result of :func:`lr_range_test`: the loss at each learning rate, and a suggested range.

    Attributes:
        lrs: the learning rate of each training step, rising geometrically.
        losses: the raw training loss of each step's batch (NaN or inf where training blew up).
        smoothed: the bias-corrected exponential moving average of ``losses`` (as fastai's).
        suggested: ``(low, high)``, the learning rates to search between: ``high`` is
            ``min_loss_lr / 3`` and ``low`` is ``high / 10`` (see :func:`suggest_range`).
        min_loss_lr: the learning rate at which the loss, averaged over a centered window (no
            lag, unlike ``smoothed``), was lowest.
        stopped_early: whether the sweep stopped before ``max_lr``.
        reason: why the sweep ended, in words.
        batch_size, loss, model: what ran: the batch size, the loss's name and the model's name
            (shown in the plot's title).
        stream_sample: for a stream, how many of its first samples the test trained on (None
            for arrays).
        scaling: the input scaler the test applied (``"none"``: the data as given).
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    smoothed: tuple[float, ...]
    suggested: tuple[float, float]
    min_loss_lr: float
    stopped_early: bool
    reason: str
    batch_size: int = 32
    loss: str = "loss"
    model: str = "model"
    stream_sample: int | None = None
    scaling: str = "none"

    @property
    def steps(self) -> int:
        """How many training steps ran."""
        return len(self.lrs)

    def to_dict(self) -> dict[str, Any]:
        """Strict-JSON-safe values: NaN and infinities become the strings ``"nan"``, ``"inf"``."""
        return {
            "lrs": [_finite_or_text(v) for v in self.lrs],
            "losses": [_finite_or_text(v) for v in self.losses],
            "smoothed": [_finite_or_text(v) for v in self.smoothed],
            "suggested": [_finite_or_text(v) for v in self.suggested],
            "min_loss_lr": _finite_or_text(self.min_loss_lr),
            "stopped_early": self.stopped_early,
            "reason": self.reason,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "loss": self.loss,
            "model": self.model,
            "stream_sample": self.stream_sample,
            "scaling": self.scaling,
        }

    @property
    def data_note(self) -> str | None:
        """What a stream's test ran on, in words (None for arrays)."""
        if self.stream_sample is None:
            return None
        from adamtune.data import SAMPLE_SIZE

        if self.stream_sample < SAMPLE_SIZE:
            return (
                f"ran on the first {self.stream_sample} samples of the training stream (all of "
                f"it: at most {SAMPLE_SIZE} are read)"
            )
        return (
            f"ran on the first {self.stream_sample} samples of the training stream (at most "
            f"{SAMPLE_SIZE} are read), not the whole stream"
        )

    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Write a PNG of the loss against the learning rate (log axis), with the suggested range
        shaded and the minimum marked. The centered average, which the suggestion is read from,
        is the thick dark curve; the raw losses and the (lagging) exponential average are thin
        and light. The legend sits below the axes, off the data. The file is replaced atomically;
        returns its path."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        target = Path(path)
        fig = self.figure()
        FigureCanvasAgg(fig)  # Agg, without touching pyplot's global backend
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else _default_mode())
            fig.savefig(tmp, format="png")
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def figure(self) -> Any:
        """The plot as a ``matplotlib.figure.Figure`` (no canvas, no pyplot): what :meth:`plot`
        saves."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 5.6), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        smooth = np.asarray(self.smoothed, dtype=float)
        centered = centered_average(self.losses)
        self._draw_range(ax)
        self._draw_curves(ax, smooth, centered)
        self._draw_minimum(ax)
        ax.set_xscale("log")
        _limit_y(ax, smooth, centered)
        self._label(ax)
        return fig

    def _draw_range(self, ax: Any) -> None:
        """The suggested range, shaded."""
        low, high = self.suggested
        ax.axvspan(
            low,
            high,
            color="tab:green",
            alpha=0.15,
            label=f"suggested range {low:.2g} .. {high:.2g}",
        )

    def _draw_curves(self, ax: Any, smooth: np.ndarray, centered: np.ndarray) -> None:
        """The raw losses and the exponential average, thin and light; the centered average (the
        one the suggestion is read from), thick and dark."""
        lrs = np.asarray(self.lrs, dtype=float)
        raw = np.asarray(self.losses, dtype=float)
        ax.plot(
            lrs, raw, color="#9e9e9e", alpha=0.6, linewidth=0.8, label="loss of each batch (raw)"
        )
        ax.plot(
            lrs,
            smooth,
            color="#6baed6",
            linewidth=1.0,
            label="exponential average (fastai's; lags behind)",
        )
        ax.plot(
            lrs[: centered.size],
            centered,
            color="#08306b",
            linewidth=2.8,
            label="centered average: the suggestion is read from this curve",
            zorder=3,
        )

    def _draw_minimum(self, ax: Any) -> None:
        """The learning rate of the lowest centered average, marked (when finite)."""
        if math.isfinite(self.min_loss_lr):
            ax.axvline(
                self.min_loss_lr,
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"lowest centered average at lr {self.min_loss_lr:.2g} (range top = it / 3)",
            )

    def _title(self) -> str:
        """What ran, in three lines: the model, loss, batch size, inputs and steps."""
        ending = f", stopped early at lr {self.lrs[-1]:.3g}" if self.stopped_early else ""
        if self.stream_sample is not None:
            ending += f", on the stream's first {self.stream_sample} samples"
        inputs = "inputs as given" if self.scaling == "none" else f"inputs scaled: {self.scaling}"
        return (
            f"Adam LR range test: training loss vs learning rate\n{self.model}, {self.loss}, "
            f"batch size {self.batch_size}, {inputs}\n{self.steps} steps{ending}"
        )

    def _label(self, ax: Any) -> None:
        """Axis labels, the title, the grid, and the legend below the axes, off the data."""
        ax.set_xlabel("learning rate (log scale; one training batch per step)")
        ax.set_ylabel(f"training loss ({self.loss})")
        ax.set_title(self._title(), fontsize=10)
        ax.grid(True, which="major", color="#dddddd", linewidth=0.8)
        ax.grid(False, which="minor")
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.14),
            ncol=2,
            fontsize=8,
            frameon=False,
        )


def _limit_y(ax: Any, smooth: np.ndarray, centered: np.ndarray) -> None:
    """The loss axis from the lowest average to a little above where it starts: the blow-up at
    the end would squash the interesting part."""
    finite = np.concatenate([smooth[np.isfinite(smooth)], centered])
    if finite.size:
        bottom, start = float(finite.min()), float(np.nanmax(finite[:3]))
        span = max(start - bottom, 1e-6 * max(abs(bottom), 1.0))
        ax.set_ylim(bottom - 0.05 * span, start + 0.3 * span)


def _window(n: int) -> int:
    """The centered average's width: a tenth of the steps, odd, at least 5."""
    return max(5, (n // 10) | 1)


def centered_average(losses: Sequence[float] | np.ndarray) -> np.ndarray:
    """The losses averaged over a centered window (:func:`_window` steps, narrower at the ends),
    up to the first non-finite loss: smoothing without the exponential average's lag."""
    raw = np.asarray(losses, dtype=float)
    bad = ~np.isfinite(raw)
    if bad.any():
        raw = raw[: int(np.argmax(bad))]
    half = _window(len(losses)) // 2
    sums = np.concatenate([[0.0], np.cumsum(raw)])
    index = np.arange(raw.size)
    lo, hi = np.maximum(index - half, 0), np.minimum(index + half + 1, raw.size)
    return np.asarray((sums[hi] - sums[lo]) / (hi - lo), dtype=float)


def suggest_range(
    lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray
) -> tuple[tuple[float, float], float]:
    """The suggested ``(low, high)`` range and the learning rate at the minimum loss.

    The rule: smooth the raw losses with a centered moving average over a tenth of the steps
    (:func:`centered_average`, cut at the first NaN/inf), and find its minimum, ignoring the first
    5% of the steps (at least 3). ``high`` is the learning rate at that minimum divided by 3: at
    the minimum the loss has stopped falling, so training there is already on the edge of
    instability. ``low`` is ``high / 10``: a decade below, where Adam still learns steadily. Both
    are clipped to the swept learning rates.

    The minimum is not taken from the exponential moving average (``LRRange.smoothed``): with the
    usual weight of 0.98 it trails the raw loss by up to ~50 steps, half of a 100-step sweep, so
    its minimum lands up to several decades too late (or at ``max_lr`` when the loss falls to a
    plateau instead of blowing up, as with unscaled inputs). A centered average has no lag.

    When the loss flattens into a plateau rather than a clear minimum, the minimum's place on the
    plateau is down to noise and the range can sit up to half a decade high; the plot shows it.
    """
    lr = np.asarray(lrs, dtype=float)
    if lr.size == 0:
        raise ValueError("suggest_range needs at least one step")
    curve = centered_average(losses)
    if curve.size == 0:  # the very first loss was NaN/inf: the start is all there is
        index = 0
    else:
        skip = min(max(3, lr.size // 20), curve.size - 1)
        index = skip + int(np.argmin(curve[skip:]))
    min_loss_lr = float(lr[index])
    high = min(max(min_loss_lr / _BELOW_MIN, float(lr[0])), float(lr[-1]))
    low = max(high / _DECADE, float(lr[0]))
    return (low, high), min_loss_lr


# --- argument checks ---------------------------------------------------------------------------


def _check_real(value: Any, name: str, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(
            f"`{name}` must be a number ({allowed}). Received: {name}={value!r} "
            f"of type {type(value).__name__}"
        )
    return float(value)


def _check_lr(value: Any, name: str) -> float:
    allowed = "a positive, finite learning rate"
    number = _check_real(value, name, allowed)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"`{name}` must be {allowed}. Received: {name}={value!r}")
    return number


@dataclass(frozen=True)
class _Settings:
    """A sweep's checked settings: the learning rate of each step, the batch size, the
    smoothing weight, the divergence factor and the seed."""

    lrs: np.ndarray
    batch_size: int
    beta: float
    factor: float
    seed: int


def _check_arguments(
    *,
    batch_size: Any,
    min_lr: Any,
    max_lr: Any,
    steps: Any,
    scaling: Any,
    smoothing: Any,
    diverge_factor: Any,
    seed: Any,
    model_fn: Callable[..., Any],
    loss: Any,
    checked: LossSpec | None,
) -> _Settings:
    """The sweep's settings, once every argument is checked (before any work)."""
    from adamtune.training import takes_hp

    takes_hp(model_fn)
    check_positive_int(batch_size, "batch_size")
    low, high = _check_lr(min_lr, "min_lr"), _check_lr(max_lr, "max_lr")
    if not low < high:
        raise ValueError(
            f"`min_lr` must be below `max_lr`. Received: min_lr={min_lr!r}, max_lr={max_lr!r}"
        )
    check_positive_int(steps, "steps")
    if steps < _MIN_STEPS:
        raise ValueError(
            f"`steps` must be an integer >= {_MIN_STEPS} (100 is usual). Received: steps={steps!r}"
        )
    from adamtune.spaces import SCALERS

    check_choice(scaling, "scaling", SCALERS)
    beta = _check_real(smoothing, "smoothing", "in [0, 1)")
    if not 0.0 <= beta < 1.0:
        raise ValueError(
            f"`smoothing` must be in [0, 1) (0 = no smoothing; 0.98 is usual). "
            f"Received: smoothing={smoothing!r}"
        )
    factor = _check_real(diverge_factor, "diverge_factor", "> 1")
    if not factor > 1.0:
        raise ValueError(
            f"`diverge_factor` must be > 1 (4 is usual; inf never stops on a rising loss). "
            f"Received: diverge_factor={diverge_factor!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"`seed` must be an int. Received: seed={seed!r}")
    if checked is not None and loss is not None:
        raise ValueError(
            "`loss` and `checked` both say which loss to train with; pass one. Received: "
            f"loss={loss!r}, checked={checked!r}"
        )
    return _Settings(np.geomspace(low, high, steps), batch_size, beta, factor, seed)


# --- the sweep ---------------------------------------------------------------------------------


def _loss_name(spec_loss: Any) -> str:
    if isinstance(spec_loss, dict):
        return str(spec_loss.get("class_name", "loss"))
    return str(getattr(spec_loss, "__name__", spec_loss))


def _batches(n: int, batch_size: int, seed: int) -> Any:
    """Index arrays of full batches, reshuffled every pass, forever (one batch if n is smaller)."""
    rng = np.random.default_rng(seed)
    size = min(batch_size, n)
    while True:
        order = rng.permutation(n)
        for begin in range(0, n - size + 1, size):
            yield order[begin : begin + size]


def _sweep(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    lrs: np.ndarray,
    *,
    batch_size: int,
    beta: float,
    factor: float,
    seed: int,
) -> tuple[list[float], list[float], str, bool]:
    """Train one batch per learning rate; stop on a non-finite loss or once the smoothed loss
    exceeds ``factor`` times its best (only while the best is positive). Returns the losses, the
    smoothed losses, why the sweep ended and whether it stopped early."""
    losses: list[float] = []
    smoothed: list[float] = []
    average, best = 0.0, math.inf
    batches = _batches(len(x), batch_size, seed)
    for step, lr in enumerate(lrs):
        model.optimizer.learning_rate = float(lr)
        index = next(batches)
        logs = model.train_on_batch(x[index], y[index], return_dict=True)
        loss = float(logs["loss"])
        losses.append(loss)
        average = beta * average + (1.0 - beta) * loss
        smooth = average / (1.0 - beta ** (step + 1))
        smoothed.append(smooth)
        if not math.isfinite(loss):
            return losses, smoothed, f"the loss became {loss} at lr={lr:.3g}", True
        best = min(best, smooth)
        if best > 0 and smooth > factor * best:
            return (
                losses,
                smoothed,
                f"the loss diverged at lr={lr:.3g}: the smoothed loss {smooth:.4g} exceeds "
                f"{factor:g} x its best {best:.4g}",
                True,
            )
    return losses, smoothed, f"reached max_lr={float(lrs[-1]):.3g} after {len(lrs)} steps", False


def _model_name(model_fn: Callable[..., Any], model: Any) -> str:
    """``model_fn``'s name, or the model's own for a lambda or a callable object."""
    name = getattr(model_fn, "__name__", None)
    if isinstance(name, str) and name.isidentifier():
        return name
    return str(getattr(model, "name", None) or "model")


def _prepared(data: Any) -> tuple[Any, Any]:
    """``data`` as :class:`adamtune.data.Prepared` (as given when it is one already), and the
    :class:`adamtune.data.Streamed` its sample came from (None for arrays)."""
    from adamtune.data import Prepared, prepare_data, refuse_multi, stream_sample

    if isinstance(data, Prepared):
        return data, None
    sampled = stream_sample(data)  # a stream: its first samples, as arrays
    streamed = None
    if sampled is not None:
        data, streamed = sampled
    refuse_multi(data, "adamtune.lr_range_test")
    return prepare_data(data, seed=0), streamed


def _model_and_loss(
    model_fn: Callable[..., Any],
    space: Any,
    prepared: Any,
    loss: Any,
    checked: LossSpec | None,
) -> tuple[Any, LossSpec]:
    """A fresh model to sweep (the caller has seeded Keras), built and called once by
    :func:`adamtune.training.check_model`, and the loss spec to train it with: ``checked``, when
    a check settled it already (the labels are then not checked again), else the check's."""
    from adamtune.training import check_model

    check = check_model(model_fn, space, prepared, loss, probe=True, labels=checked is None)
    spec = checked if checked is not None else check.loss
    assert spec is not None  # check_model(labels=True) settles it
    return check.model, spec


def _compiled_sweep(
    model: Any,
    spec: LossSpec,
    x: np.ndarray,
    y: np.ndarray,
    settings: _Settings,
) -> tuple[list[float], list[float], str, bool]:
    """:func:`_sweep` on ``model`` compiled with Adam and ``spec``'s loss; a failure to train is a
    :class:`~adamtune.PreflightError`."""
    import keras

    from adamtune._errors import PreflightError

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=float(settings.lrs[0])),
        loss=spec.build_loss(),
        jit_compile=False,  # XLA's compile time would dwarf a 100-step run
    )
    try:
        return _sweep(
            model,
            x,
            y,
            settings.lrs,
            batch_size=settings.batch_size,
            beta=settings.beta,
            factor=settings.factor,
            seed=settings.seed,
        )
    except Exception as exc:
        raise PreflightError(
            f"training failed ({type(exc).__name__}: {str(exc).strip()[:500]}); check that "
            "the model's input shape matches x and its output matches y"
        ) from exc


def _space_and_data(
    space: Any, data: Any, loss: Any, scaling: str
) -> tuple[Any, Any, Any, np.ndarray]:
    """The space; the data prepared (as given when it is prepared already); the stream its
    sample came from (None for arrays); the training inputs scaled with ``scaling``. TensorFlow
    is started quietly and ``loss`` checked on the way."""
    from adamtune._tfquiet import start_quietly
    from adamtune.spaces import load_space
    from adamtune.training import check_loss

    the_space = load_space(space)
    start_quietly()  # TensorFlow's start-up notices kept off the terminal ($ADAMTUNE_TF_LOGS=1)
    check_loss(loss)
    prepared, streamed = _prepared(data)
    from adamtune.data import scale_split

    x, _ = scale_split(scaling, prepared.x_train, prepared.x_val)
    return the_space, prepared, streamed, x


@dataclass(frozen=True)
class _Run:
    """One sweep: its losses, why it ended, the loss it trained with and the model's name."""

    losses: list[float]
    smoothed: list[float]
    reason: str
    stopped: bool
    spec: LossSpec
    model: str


def _seeded_run(
    model_fn: Callable[..., Any],
    space: Any,
    prepared: Any,
    x: np.ndarray,
    settings: _Settings,
    loss: Any,
    checked: LossSpec | None,
) -> _Run:
    """Keras seeded, the model built and checked once (:func:`_model_and_loss`) and swept on the
    (scaled) training inputs ``x``; the Keras session cleared after."""
    import keras

    from adamtune.training import custom_gradients, forget_custom_gradients

    gradients = custom_gradients()
    try:
        keras.utils.set_random_seed(settings.seed)
        model, spec = _model_and_loss(model_fn, space, prepared, loss, checked)
        losses, smoothed, reason, stopped = _compiled_sweep(
            model, spec, x, prepared.y_train, settings
        )
        name = _model_name(model_fn, model)
    finally:
        forget_custom_gradients(gradients)  # the sweep's train step (training/_state.py)
        keras.backend.clear_session()
    return _Run(losses, smoothed, reason, stopped, spec, name)


def _result(run: _Run, settings: _Settings, n: int, scaling: str, streamed: Any) -> LRRange:
    """The :class:`LRRange` of ``run`` on ``n`` training samples: the learning rates it reached
    and the suggested range."""
    ran = tuple(float(v) for v in settings.lrs[: len(run.losses)])
    suggested, min_loss_lr = suggest_range(ran, run.losses)
    return LRRange(
        lrs=ran,
        losses=tuple(run.losses),
        smoothed=tuple(run.smoothed),
        suggested=suggested,
        min_loss_lr=min_loss_lr,
        stopped_early=run.stopped,
        reason=run.reason,
        batch_size=min(settings.batch_size, n),
        loss=_loss_name(run.spec.loss),
        model=run.model,
        stream_sample=None if streamed is None else len(streamed.x_train),
        scaling=scaling,
    )


@hides_retracing  # a model a trial or probe: traced anew by design
def lr_range_test(
    model_fn: Callable[..., Any],
    data: Any,
    *,
    batch_size: int = 32,
    min_lr: float = 1e-7,
    max_lr: float = 10.0,
    steps: int = 100,
    scaling: str = "none",
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
    loss: Any = None,
    seed: int = 0,
    space: Any = "default",
    checked: LossSpec | None = None,
) -> LRRange:
    """Sweep Adam's learning rate from ``min_lr`` to ``max_lr`` over one short run; see where the
    model learns and where it diverges (Smith 2017, fastai's ``lr_find``).

    The model is built once as the pre-flight builds it (``model_fn(hp)`` with the middle values
    of ``space``, or ``model_fn()``) and checked against the labels
    (:func:`adamtune.training.check_model`), compiled with Adam (Keras' default betas and
    epsilon) and the loss inferred from the labels (or ``loss``), then trained for up to ``steps``
    batches of ``batch_size`` from the training split (cycled, reshuffled, if it holds fewer), the
    learning rate rising geometrically from ``min_lr`` to ``max_lr``. Each step's loss is recorded
    with its bias-corrected exponential moving average (weight ``smoothing``). The sweep stops
    early on a NaN/inf loss, or once the smoothed loss exceeds ``diverge_factor`` times its best.

    Suggested range: ``high`` is the learning rate at the minimum of the loss averaged over a
    centered window of a tenth of the steps (the first 5% of the steps ignored) divided by 3;
    ``low`` is ``high / 10`` (see :func:`suggest_range`). The range is meant as the learning rates
    to search or to pick from: on small MLPs it brackets the best learning rate of a few epochs.

    Args:
        model_fn: returns an uncompiled Keras model; takes no argument or one ``hp``.
        data: ``(x, y)``, ``((x_train, y_train), (x_val, y_val))`` or :class:`adamtune.Data`; only
            the training split is used (the validation split as ``adamtune.search`` makes it).
            Streams, ``(train_ds, val_ds)`` (tf.data or PyDataset): the first
            ``adamtune.data.SAMPLE_SIZE`` samples of the training stream, as a search reads them
            (``stream_sample`` in the result says how many). An :class:`adamtune.data.Prepared`
            (the data a search or the doctor prepared) is used as it is.
        scaling: ``none``, ``standard``, ``minmax`` or ``robust``: the input scaler a search
            would apply, fitted on the training split.
        loss: a Keras loss overriding the inferred one.
        seed: seeds the weights and the batch order.
        space: the space whose middle values build the model (a name, file or Space).
        checked: the :class:`adamtune.training.LossSpec` a check of this model_fn and data
            settled already (the pre-flight's ``PreflightReport.loss``, the doctor's label check):
            the model is trained with it and not checked again. Not with ``loss``.
    """
    settings = _check_arguments(
        batch_size=batch_size, min_lr=min_lr, max_lr=max_lr, steps=steps, scaling=scaling,
        smoothing=smoothing, diverge_factor=diverge_factor, seed=seed, model_fn=model_fn,
        loss=loss, checked=checked,
    )  # fmt: skip
    the_space, prepared, streamed, x = _space_and_data(space, data, loss, scaling)
    run = _seeded_run(model_fn, the_space, prepared, x, settings, loss, checked)
    return _result(run, settings, len(x), scaling, streamed)
