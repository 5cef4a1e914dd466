"""``adamtune.diagnose``: why does Adam fail on my model? Cheap probes of the present setup.

    diagnosis = adamtune.diagnose(build_model, (x, y), optimizer=keras.optimizers.Adam(1e-2))
    print(diagnosis.table())
    if not diagnosis.ok: ...

The probes, in order, each skipped when an earlier one shows it cannot run:

1. data checks, no training: non-finite values, feature scales, class balance, sample counts,
   labels against the loss and the output layer;
2. the LR range test (:func:`adamtune.lr_range_test`) at the user's batch size, on the data as
   given; when a data finding's fix changes what the model trains on (``unscaled-features``:
   scale the inputs), the test runs again under that fix, and its range is the suggestion (the
   raw-data range is kept beside it, labelled as such: it does not carry over to scaled inputs);
3. ``epochs`` epochs of the user's model, optimizer and batch size on the data as given (no
   scaling), recording the per-epoch curves, the gradients of each kernel layer on one batch
   before the first step, the gradient's norm on that batch after steps 1, 2, 4, 8... and each
   epoch, each step's own loss, and dead ReLU units and the outputs' spread on the validation split
   after the last;
4. the remedy probes, only on a failing run: the same model, seed and data with the learning rate
   warmed up over the first epoch (the run failed early), and with the gradients' global norm
   clipped (the gradients exploded or the loss spiked) (:mod:`adamtune.doctor._remedies` runs
   them, :mod:`adamtune.doctor._stability` calls for them and judges them).

Loss inference, the validation split (seeded with 0) and the chance level are the ones
``adamtune.search`` uses, so the doctor and a search judge the same numbers. A tf.data or
PyDataset stream, ``(train_ds, val_ds)``, is read through the bounded first sample a search reads
(``adamtune.data.SAMPLE_SIZE`` samples of each stream) and diagnosed as those arrays; a
``stream-sample`` note says so, with the numbers.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adamtune._tfquiet import hides_retracing
from adamtune._util import check_positive_int
from adamtune.doctor._findings import CODES, Finding, format_table, jsonable, sort_findings
from adamtune.doctor._optimizer import ProbedOptimizer, resolve_optimizer
from adamtune.training import check_loss

__all__ = ["CODES", "LR_RANGE_STEPS", "Diagnosis", "Finding", "diagnose", "load_study"]

# Steps of the LR range test: one per batch, the learning rate rising from 1e-7 to 10, so ~12 steps
# per decade: enough to place the loss minimum within a factor ~1.2, and ~1 s on a small model.
LR_RANGE_STEPS = 100


DIAGNOSIS_KEY = "adamtune_diagnosis"

# A data finding whose fix changes the learning rates that work, and the input scaling that fix
# recommends: the LR range test runs again with it, so the suggested range is one that trains
# once the fix is applied (raw breast-cancer features: 0.33..3.3 on the raw inputs, which
# diverges once they are standardized; 0.014..0.14 on the standardized ones).
RANGE_FIXES = {"unscaled-features": "standard"}
SCALER_NAMES = {
    "standard": "StandardScaler",
    "minmax": "MinMaxScaler",
    "robust": "RobustScaler",
}


def load_study(storage: str, study_name: str) -> Any:
    """An existing study (checked before the probes run, so nothing is stored on a typo), as its
    view, which takes the diagnosis (:meth:`Diagnosis.attach`)."""
    from adamtune.engine import NoStudy, check_storage, open_existing

    check_storage(storage)  # a storage URL: a diagnosis is stored with an Optuna study
    try:
        return open_existing(storage, study_name, readonly=False).view()
    except NoStudy:
        raise ValueError(
            f"no study {study_name!r} in this storage to attach the diagnosis to; run "
            "`adamtune search` first, or drop --storage/--study"
        ) from None


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found.

    Attributes:
        findings: the problems, worst first (errors, warnings, then notes).
        lr_range: the LR range test's suggested ``(low, high)`` at the probed batch size, or
            ``None`` when it did not run. Measured under the fix a data finding recommends
            (``lr_range_scaling``), when there is one.
        lr_range_scaling: the input scaling ``lr_range`` was measured with: ``"none"`` (the data
            as given) or the scaler the ``unscaled-features`` fix recommends (``"standard"``).
        curves: per-epoch values of the training probe (``loss``, ``val_loss``, ``data_loss``,
            ``val_data_loss`` and the metrics, as Keras logged them); empty when it did not run.
        setup: what was probed: optimizer and its learning rate, batch size, epochs, loss, data.
        probes: each probe (``data``, ``labels``, ``lr_range``, ``training``) and whether it
            ``ran`` or why it was skipped.
        lr_range_raw: the range test's ``(low, high)`` on the data as given, when the
            suggestion was measured on scaled inputs (``None`` otherwise): measured on raw data,
            not a range to use once the inputs are scaled.
        lr_range_test: the full result (``LRRange.to_dict()``) behind ``lr_range``, or ``None``.
        lr_range_test_raw: the full result behind ``lr_range_raw``, or ``None``.
        seconds: wall time of the whole diagnosis.
    """

    findings: tuple[Finding, ...]
    lr_range: tuple[float, float] | None
    curves: dict[str, list[float]]
    setup: dict[str, Any]
    probes: dict[str, str] = field(default_factory=dict)
    lr_range_test: dict[str, Any] | None = None
    seconds: float = 0.0
    lr_range_scaling: str = "none"
    lr_range_raw: tuple[float, float] | None = None
    lr_range_test_raw: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """No error and no warning (notes may remain)."""
        return not any(f.severity in ("error", "warning") for f in self.findings)

    @property
    def codes(self) -> list[str]:
        """The findings' codes, worst first."""
        return [f.code for f in self.findings]

    def __getitem__(self, code: str) -> Finding:
        """The finding with ``code``; KeyError when there is none."""
        for finding in self.findings:
            if finding.code == code:
                return finding
        raise KeyError(f"no {code!r} finding; found: {', '.join(self.codes) or 'none'}")

    def __contains__(self, code: object) -> bool:
        return any(f.code == code for f in self.findings)

    def attach(self, storage: str, study_name: str) -> None:
        """Store this diagnosis with an existing Optuna study, where ``adamtune report`` shows it
        (study attribute ``adamtune_diagnosis``)."""
        study = load_study(storage, study_name)
        study.set_user_attr(DIAGNOSIS_KEY, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON values (``json.dumps(..., allow_nan=False)`` works; NaN and infinities are
        the strings ``"nan"``, ``"inf"``), in a fixed key order."""
        return {
            "ok": self.ok,
            "codes": self.codes,
            "findings": [f.to_dict() for f in self.findings],
            "lr_range": None if self.lr_range is None else jsonable(list(self.lr_range)),
            "lr_range_scaling": self.lr_range_scaling,
            "lr_range_raw": None
            if self.lr_range_raw is None
            else jsonable(list(self.lr_range_raw)),
            "setup": jsonable(self.setup),
            "curves": jsonable(dict(sorted(self.curves.items()))),
            "probes": dict(self.probes),
            "lr_range_test": jsonable(self.lr_range_test),
            "lr_range_test_raw": jsonable(self.lr_range_test_raw),
            "seconds": round(self.seconds, 3),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def table(self) -> str:
        """The findings as a plain-text table, worst first, wrapped to 100 columns."""
        s = self.setup
        lr = s.get("learning_rate")
        title = (
            f"adamtune doctor: {s.get('optimizer')} lr={'?' if lr is None else f'{lr:.3g}'}, "
            f"batch size {s.get('batch_size')}, {s.get('epochs')} epoch(s), loss "
            f"{s.get('loss_name') or '?'}, {s.get('n_train', '?')} train / {s.get('n_val', '?')} "
            f"validation samples"
        )
        if s.get("stream_sample"):
            title += " (the first samples of the streams)"
        return format_table(self.findings, title)

    def __str__(self) -> str:
        return self.table()


# --- argument checks ---------------------------------------------------------------------------


def _check_arguments(
    model_fn: Any, data: Any, batch_size: Any, epochs: Any, seed: Any, lr_range: Any
) -> None:
    from adamtune.data import stream_parts, unpack
    from adamtune.training import takes_hp

    takes_hp(model_fn)
    if stream_parts(data) is None:  # a stream form is checked there; its sample is read later
        unpack(data)  # the data's form; its contents are checked as a search checks them
    check_positive_int(batch_size, "batch_size")
    check_positive_int(epochs, "epochs")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"`seed` must be an int. Received: seed={seed!r} of type {type(seed).__name__}"
        )
    if not isinstance(lr_range, bool):
        raise TypeError(
            f"`lr_range` must be True or False. Received: lr_range={lr_range!r} "
            f"of type {type(lr_range).__name__}"
        )


# --- the probes --------------------------------------------------------------------------------


def _probe_hp(opt: ProbedOptimizer, batch_size: int) -> Any:
    """The ``hp`` of the user's model as it is: ``model_fn(hp)`` sees the probed lr and batch
    size, the middle of each of its own ``hp.*`` ranges (as the pre-flight builds it), no
    regularizer (``hp.regularizer()`` is None) and no BatchNorm added by adamtune."""
    from adamtune.params import HP, AdamParams, DefaultSource

    adam = AdamParams(learning_rate=opt.lr, batch_size=batch_size, base_learning_rate=opt.lr)
    return HP(adam, DefaultSource())


def _build(model_fn: Callable[..., Any], opt: ProbedOptimizer, batch_size: int, seed: int) -> Any:
    """The user's model as it is (:func:`_probe_hp`), its weights seeded with ``seed``."""
    import keras

    from adamtune.training import build_user_model

    keras.utils.set_random_seed(seed)
    return build_user_model(model_fn, _probe_hp(opt, batch_size))


def _chance(prepared: Any, spec: Any) -> float | None:
    """The search's chance level (cross-entropy: entropy of the label frequencies); for a mean
    squared error, the loss of predicting the mean (the targets' variance)."""
    import numpy as np

    from adamtune.training import chance_loss

    found = chance_loss(prepared.target, prepared.y_train, spec.loss)
    if found is not None:
        return found
    name = str(spec.loss).lower().replace("_", "")
    if not prepared.target.is_classification and "meansquarederror" in name:
        variance = float(np.mean(np.var(prepared.y_train, axis=0)))
        return variance if variance > 0 else None
    return None


def _loss_name(spec: Any) -> str | None:
    if spec is None:
        return None
    loss = spec.loss
    if isinstance(loss, dict):
        return str(loss.get("class_name") or loss.get("config", {}).get("name") or "loss")
    return str(loss)


def _suggested(result: Any) -> tuple[float, float] | None:
    if result is None:
        return None
    low, high = result.suggested
    return float(low), float(high)


def _run_lr_range(
    model_fn: Callable[..., Any],
    prepared: Any,
    spec: Any,
    batch_size: int,
    space: Any,
    seed: int,
    scaling: str = "none",
) -> tuple[Any, str]:
    """The LR range test on the doctor's prepared data, with the loss its label check settled
    (``spec``): the data is not prepared, nor the labels checked, again."""
    from adamtune.doctor._lr_range import lr_range_test

    try:
        result = lr_range_test(
            model_fn,
            prepared,
            batch_size=batch_size,
            steps=LR_RANGE_STEPS,
            scaling=scaling,
            space=space,
            seed=seed,
            checked=spec,
        )
    except Exception as exc:  # the doctor reports a failed probe; the other probes still run
        return None, f"failed: {type(exc).__name__}: {str(exc).strip()[:300]}"
    low, high = result.suggested
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        return None, f"failed: no usable suggestion ({result.reason})"
    return result, "ran"


@hides_retracing  # a model a trial or probe: traced anew by design
def diagnose(
    model_fn: Callable[..., Any],
    data: Any,
    *,
    optimizer: Any = None,
    batch_size: int = 32,
    epochs: int = 5,
    loss: Any = None,
    space: Any = "default",
    seed: int = 0,
    lr_range: bool = True,
) -> Diagnosis:
    """Why does Adam fail on this model? Probe the present setup cheaply and report findings.

    Args:
        model_fn: returns an uncompiled Keras model; takes no argument or one ``hp`` (it then
            sees the probed lr and batch size, no regularizer, and the middle of each of its own
            ``hp.*`` ranges).
        data: ``(x, y)``, ``((x_train, y_train), (x_val, y_val))`` or :class:`adamtune.Data`, as
            for :func:`adamtune.search`; used as given, unscaled. Streams, ``(train_ds,
            val_ds)`` (tf.data or PyDataset): the first ``adamtune.data.SAMPLE_SIZE`` samples of
            each, as a search reads them (said in a ``stream-sample`` note).
        optimizer: the optimizer to probe: ``None`` for Keras ``Adam(1e-3)``, an instance, a name,
            a serialized optimizer, or Adam keyword arguments. A fresh copy trains each probe.
        batch_size: the batch size to probe.
        epochs: epochs of the training probe (3 or more to see overfitting).
        loss: a Keras loss; by default inferred from the labels as a search infers it.
        space: the space the LR range test builds ``model_fn(hp)`` with (as the pre-flight
            does), and whose learning-rate range is the reference when the range test does not
            run.
        seed: seeds the weights, the batch order and the range test.
        lr_range: run the LR range test (LR_RANGE_STEPS steps of Adam). Its verdicts compare the
            probed lr with the sweep only for Adam-family optimizers (Adam, AdamW, Nadam,
            Adamax); another optimizer's learning rates are on another scale.

    Returns:
        a :class:`Diagnosis`; ``diagnosis.ok`` is True when nothing is an error or a warning.

    Raises:
        TypeError, ValueError: an argument is malformed (checked before any work).
        PreflightError: ``model_fn`` raised, or returned something that is not a Keras model.
    """
    from adamtune._tfquiet import start_quietly
    from adamtune.spaces import load_space

    _check_arguments(model_fn, data, batch_size, epochs, seed, lr_range)
    the_space = load_space(space)
    start_quietly()  # TensorFlow's start-up notices kept off the terminal ($ADAMTUNE_TF_LOGS=1)
    opt = resolve_optimizer(optimizer)
    check_loss(loss)
    arrays, streamed = _arrays(data)
    doctor = _Doctor(
        model_fn, arrays, opt, batch_size, epochs, loss, space, the_space, seed, lr_range
    )
    if streamed is not None:
        doctor.from_stream(streamed)
    return doctor.run()


def _arrays(data: Any) -> tuple[Any, Any]:
    """``data`` in array form (a stream: its first samples) and the ``Streamed`` they came from
    (None for arrays); several inputs or outputs are refused."""
    from adamtune.data import refuse_multi, stream_sample

    sampled = stream_sample(data)  # a stream: its first samples, as arrays
    streamed = None
    if sampled is not None:
        data, streamed = sampled
    refuse_multi(data, "adamtune.diagnose")
    return data, streamed


@dataclass(frozen=True)
class _Ranges:
    """The LR range tests that ran: ``suggestion`` (the range to use, under ``scaling``) and
    ``raw`` (on the data as given, only when ``scaling`` is not ``"none"``)."""

    suggestion: Any = None
    raw: Any = None
    scaling: str = "none"


class _Doctor:
    """One diagnosis: the probes in order, each adding findings and what it measured."""

    def __init__(
        self,
        model_fn: Callable[..., Any],
        data: Any,
        opt: ProbedOptimizer,
        batch_size: int,
        epochs: int,
        loss: Any,
        space: Any,
        the_space: Any,
        seed: int,
        lr_range: bool,
    ) -> None:
        self.model_fn, self.data, self.opt = model_fn, data, opt
        self.batch_size, self.epochs, self.loss = batch_size, epochs, loss
        self.space, self.the_space, self.seed, self.lr_range = space, the_space, seed, lr_range
        self.findings: list[Finding] = []
        self.probes = {
            "data": "skipped",
            "labels": "skipped",
            "lr_range": "skipped",
            "training": "skipped",
            "remedies": "skipped",
        }
        self.setup: dict[str, Any] = {
            "optimizer": opt.name,
            "learning_rate": opt.lr,
            "weight_decay": opt.weight_decay,
            "optimizer_config": opt.config,
            "batch_size": batch_size,
            "epochs": epochs,
            "loss": None,
            "loss_name": None,
            "target": None,
            "n_classes": None,
            "n_train": None,
            "n_val": None,
            "params": None,
            "token_ids": [],  # the Embedding layers that read x as token ids
            "chance_loss": None,
            "seed": seed,
            "stream_sample": None,
        }

    def from_stream(self, streamed: Any) -> None:
        """The data came from streams: say that only their first samples were diagnosed."""
        from adamtune.data import SAMPLE_SIZE

        n_train, n_val = len(streamed.x_train), len(streamed.x_val)
        self.setup["stream_sample"] = {
            "stream": streamed.kind,
            "val_stream": streamed.val_kind,
            "n_train": n_train,
            "n_val": n_val,
            "sample_size": SAMPLE_SIZE,
        }
        whole = {n: " (all of it)" if n < SAMPLE_SIZE else "" for n in (n_train, n_val)}
        self._add(
            Finding(
                "stream-sample",
                "info",
                f"The data is a {streamed.kind} stream: this diagnosis used the first {n_train} "
                f"samples of the training stream{whole[n_train]} and the first {n_val} of the "
                f"validation stream{whole[n_val]}, as arrays: the sample adamtune.search reads "
                f"(at most {SAMPLE_SIZE} samples of each stream; nothing past it is read).",
                "to diagnose other samples, shuffle the stream before batching (ds.shuffle(n)) "
                "or pass arrays; adamtune.search trains on the whole stream",
                dict(self.setup["stream_sample"]),
            )
        )

    def _add(self, *found: Finding | None) -> None:
        self.findings.extend(f for f in found if f is not None)

    def run(self) -> Diagnosis:
        import keras

        from adamtune.training import custom_gradients, forget_custom_gradients

        start = time.perf_counter()
        gradients = custom_gradients()
        try:
            curves, ranges = self._probe()
        finally:
            # each probe's train step registered one, holding its graph (training/_state.py)
            forget_custom_gradients(gradients)
            keras.backend.clear_session()
        range_result, raw_result = ranges.suggestion, ranges.raw
        return Diagnosis(
            findings=sort_findings(self.findings),
            lr_range=_suggested(range_result),
            curves=curves,
            setup=self.setup,
            probes=self.probes,
            lr_range_test=None if range_result is None else range_result.to_dict(),
            seconds=time.perf_counter() - start,
            lr_range_scaling=ranges.scaling,
            lr_range_raw=_suggested(raw_result),
            lr_range_test_raw=None if raw_result is None else raw_result.to_dict(),
        )

    def _probe(self) -> tuple[dict[str, list[float]], _Ranges]:
        from adamtune.data import prepare_data
        from adamtune.doctor import _data_checks as checks

        nonfinite, clean = checks.check_nonfinite(self.data)
        self._add(nonfinite)
        if clean is None:
            self.probes["data"] = "skipped: no row without NaN/inf is left"
            return {}, _Ranges()
        prepared = prepare_data(clean, seed=0)  # the split adamtune.search makes
        self.setup.update(
            target=prepared.target.kind,
            n_classes=prepared.target.n_classes,
            n_train=len(prepared.x_train),
            n_val=len(prepared.x_val),
        )
        self._add(checks.check_class_balance(prepared))
        self._add(checks.check_target_scale(prepared))
        self.probes["data"] = "ran" if nonfinite is None else "ran on the rows without NaN/inf"

        spec, params = self._labels(prepared)
        if self.setup["token_ids"]:
            # scaling token ids would change which token each id names: no scale finding and
            # no range test on scaled ids (search() drops scaling from its space likewise)
            names = ", ".join(self.setup["token_ids"])
            self._add(
                Finding(
                    "token-ids",
                    "info",
                    f"x holds token ids read by Embedding {names}: their scale was not "
                    "checked and no probe scaled them (scaling would change which token each "
                    "id names; adamtune.search drops input scaling for this model too).",
                    "none needed; scale other inputs of the model yourself if it has any",
                    {"embeddings": list(self.setup["token_ids"])},
                )
            )
        else:
            self._add(checks.check_scales(prepared))
        self._add(checks.check_size(prepared, params, self.batch_size))
        if nonfinite is not None or spec is None:
            why = "non-finite data" if nonfinite is not None else "label-loss-mismatch"
            self.probes["lr_range"] = self.probes["training"] = f"skipped: {why}"
            return {}, _Ranges()

        ranges = self._ranges(prepared, spec) if self.lr_range else _Ranges()
        probe = self._train(prepared, spec)
        self.probes["training"] = "ran"
        self._judge(probe, ranges)
        self._remedies(prepared, spec, probe)
        return dict(probe.history), ranges

    def _ranges(self, prepared: Any, spec: Any) -> _Ranges:
        """The LR range test on the data as given, and again under the scaling a data finding's
        fix recommends (RANGE_FIXES): the suggestion is then the second one's range."""
        raw, status = _run_lr_range(
            self.model_fn, prepared, spec, self.batch_size, self.space, self.seed
        )
        self.probes["lr_range"] = status
        if raw is None:
            self._range_failed(status, "adamtune.lr_range_test(model_fn, data)")
        fix = next((RANGE_FIXES[f.code] for f in self.findings if f.code in RANGE_FIXES), None)
        if fix is None:
            return _Ranges(suggestion=raw)
        fixed, fixed_status = _run_lr_range(
            self.model_fn, prepared, spec, self.batch_size, self.space, self.seed, fix
        )
        if fixed is None:
            self.probes["lr_range"] = f"{status}; with scaling={fix!r}: {fixed_status}"
            self._range_failed(
                f"with scaling={fix!r} {fixed_status}",
                f"adamtune.lr_range_test(model_fn, data, scaling={fix!r})",
            )
            return _Ranges(suggestion=raw)
        self.probes["lr_range"] = (
            f"ran on the inputs scaled with {SCALER_NAMES[fix]} (the unscaled-features fix); "
            f"on the data as given: {status}"
        )
        return _Ranges(suggestion=fixed, raw=raw, scaling=fix)

    def _range_failed(self, status: str, call: str) -> None:
        self._add(
            Finding(
                "probe-failed",
                "info",
                f"The LR range test {status}; the learning-rate verdicts fall back to the "
                "space's range and the training probe.",
                f"run {call} to see the error in full",
                {"probe": "lr_range", "status": status},
            )
        )

    def _labels(self, prepared: Any) -> tuple[Any, int]:
        """Build the model once (:func:`adamtune.training.check_model`, labels left to the
        doctor): its parameter count, and the loss checked against the labels."""
        import keras

        from adamtune.doctor._labels import check_labels
        from adamtune.training import check_model, token_embeddings

        keras.utils.set_random_seed(self.seed)
        built = check_model(
            self.model_fn,
            self.the_space,
            prepared,
            hp=_probe_hp(self.opt, self.batch_size),
            probe=True,
            labels=False,
        )
        assert built.out_shape is not None  # a probe's model has one output
        params = built.params
        self.setup["token_ids"] = list(token_embeddings(built.model, prepared.x_train))
        check = check_labels(prepared, built.model, built.out_shape, self.loss)
        keras.backend.clear_session()
        self._add(check.finding)
        self.probes["labels"] = "ran"
        self.setup["params"] = params
        if check.spec is not None:
            self.setup.update(
                loss=check.spec.loss,
                loss_name=_loss_name(check.spec),
                chance_loss=_chance(prepared, check.spec),
            )
        return check.spec, params

    def _train(self, prepared: Any, spec: Any, optimizer: Any = None) -> Any:
        """The training probe of the user's model, with their optimizer or ``optimizer``."""
        import keras

        from adamtune.doctor._probes import run_probe

        model = _build(self.model_fn, self.opt, self.batch_size, self.seed)
        model(prepared.x_train[:2])
        try:
            return run_probe(
                model,
                spec,
                self.opt.build() if optimizer is None else optimizer,
                prepared,
                batch_size=self.batch_size,
                epochs=self.epochs,
            )
        finally:
            keras.backend.clear_session()

    def _remedies(self, prepared: Any, spec: Any, probe: Any) -> None:
        """The remedy probes the training probe calls for (:mod:`adamtune.doctor._remedies`)."""
        from adamtune.doctor._remedies import run_remedies

        done = run_remedies(
            probe,
            self.findings,
            self.opt,
            chance=self.setup["chance_loss"],
            steps_per_epoch=math.ceil(len(prepared.x_train) / self.batch_size),
            epochs=self.epochs,
            train=lambda optimizer: self._train(prepared, spec, optimizer),
        )
        self.findings, self.probes["remedies"] = done.findings, done.ran

    def _judge(self, probe: Any, ranges: _Ranges) -> None:
        from adamtune.doctor._verdicts import Context, judge

        lr_space = self.the_space.learning_rate
        range_result, raw_result = ranges.suggestion, ranges.raw
        if range_result is not None and "adam" not in self.opt.name.lower():
            self.probes["lr_range"] = f"ran (an Adam sweep: not compared with {self.opt.name}'s lr)"
            range_result = raw_result = None
        ctx = Context(
            lr=self.opt.lr,
            weight_decay=self.opt.weight_decay,
            optimizer=self.opt.name,
            batch_size=self.batch_size,
            epochs=self.epochs,
            chance=self.setup["chance_loss"],
            reference_batch=lr_space.reference_batch_size,
            space_lr=(lr_space.low, lr_space.high),
            space_rule=lr_space.rule,
            suggested=_suggested(range_result),
            min_loss_lr=None if range_result is None else float(range_result.min_loss_lr),
            unscaled=any(f.code == "unscaled-features" for f in self.findings),
            suggested_scaling=ranges.scaling if range_result is not None else "none",
            raw_suggested=_suggested(raw_result),
            raw_min_loss_lr=None if raw_result is None else float(raw_result.min_loss_lr),
        )
        self._add(*judge(ctx, probe))
