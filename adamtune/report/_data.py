"""What the report shows, read from a study: one plain record per trial, outcome counts,
parameter importances and the doctor's findings. No matplotlib and no HTML here."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adamtune._record import TrialRecord
from adamtune.training import DIVERGED, OUTCOMES

__all__ = [
    "DIAGNOSIS_ATTR",
    "DIVERGED",
    "OUTCOMES",
    "OUTCOME_COLORS",
    "OUTCOME_TEXT",
    "Diagnosis",
    "Importances",
    "TrialRow",
    "best_rows",
    "curve_keys",
    "diagnosis",
    "diverged_rows",
    "export_name",
    "importance_label",
    "importances",
    "outcome_counts",
    "parse_curve",
    "trial_rows",
]

# The failure taxonomy, in the order the report lists it, is the training package's own.
OUTCOME_TEXT = {
    "ok": "trained to the end and scored",
    "pruned": "stopped early by the pruner: worse than other trials at the same epoch",
    "diverged-nan": "the loss became NaN or infinite",
    "diverged-blowup": "the loss rose far above its start",
    "collapsed-to-chance": "the loss stuck at chance level: the model learned nothing",
    "too-slow": "the training loss barely fell: over all its epochs, or (stopped by the guard "
    "at chance level) it never left where it started",
    "overfit": "the validation loss rose while the training loss kept falling",
    "crashed-oom": "ran out of memory",
    "crashed-error": "an exception stopped it (also failed trials with no recorded outcome)",
    "interrupted": "stopped by Ctrl-C or SIGTERM, not a crash; an Optuna study queues its "
    "parameters to run first when the search resumes (up to 3 times for the same parameters)",
    "running": "not finished yet (running)",
    "waiting": "not started yet (waiting)",
}
OUTCOME_COLORS = {
    "ok": "#2ca02c",
    "pruned": "#a0a0a0",
    "diverged-nan": "#d62728",
    "diverged-blowup": "#ff7f0e",
    "collapsed-to-chance": "#9467bd",
    "too-slow": "#bcbd22",
    "overfit": "#17becf",
    "crashed-oom": "#8c564b",
    "crashed-error": "#333333",
    "interrupted": "#78909c",  # neutral blue-grey: not a failure, and apart from pruned's grey
    "running": "#1f77b4",
    "waiting": "#aec7e8",
}
OTHER_COLOR = "#e377c2"  # an outcome label this version does not know
DIAGNOSIS_ATTR = "adamtune_diagnosis"
_STATE_OUTCOME = {
    "COMPLETE": "ok",
    "PRUNED": "pruned",
    "FAIL": "crashed-error",
    "RUNNING": "running",
    "WAITING": "waiting",
}


@dataclass(frozen=True)
class TrialRow:
    """One trial as the report needs it. ``value`` is None unless finite; ``curves`` maps a
    metric name to its per-epoch values (NaN where an epoch has none or it was not finite)."""

    number: int
    state: str
    outcome: str
    value: float | None
    nonfinite_value: bool
    learning_rate: float | None
    batch_size: int | None
    params: dict[str, Any]
    reason: str | None
    curves: dict[str, list[float]]
    curves_source: str  # "curves" (the per-epoch attribute), "intermediate" or "none"
    best_epoch: int | None = None  # 1-based (epoch 1 is Keras's "Epoch 1/N"); None if unknown


def color(outcome: str) -> str:
    return OUTCOME_COLORS.get(outcome, OTHER_COLOR)


def _number(value: Any) -> float:
    """A stored curve value as a float: numbers, and the strings "nan", "inf", "-inf"."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return math.nan
    try:
        return float(value)
    except ValueError:
        return math.nan


def parse_curve(values: Any) -> list[float]:
    """Per-epoch values as floats; non-finite ones stored as text become float NaN/inf."""
    if not isinstance(values, list | tuple):
        return []
    return [_number(v) for v in values]


def _intermediate(values: Mapping[int, float]) -> list[float]:
    if not values:
        return []
    steps = [int(s) for s in values if int(s) >= 0]
    curve = [math.nan] * (max(steps, default=-1) + 1)
    for step in steps:
        curve[step] = _number(values[step])
    return curve


def _curves(trial: Any, record: TrialRecord, objective: str) -> tuple[dict[str, list[float]], str]:
    if record.curves is not None:
        parsed = {str(k): parse_curve(v) for k, v in record.curves.items()}
        parsed = {k: v for k, v in parsed.items() if v}
        if parsed:
            return parsed, "curves"
    curve = _intermediate(trial.intermediate_values)
    return ({objective: curve}, "intermediate") if curve else ({}, "none")


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _outcome(trial: Any, record: TrialRecord) -> str:
    if record.outcome:
        return record.outcome
    return _STATE_OUTCOME.get(trial.state.name, trial.state.name.lower())


def _row(trial: Any, objective: str) -> TrialRow:
    record = TrialRecord.from_attrs(trial.user_attrs)
    adam = record.adam
    source: Mapping[str, Any] = adam if adam is not None else trial.params
    lr = _positive(source.get("learning_rate", source.get("base_learning_rate")))
    batch = _positive(source.get("batch_size"))
    user = record.user_params or {}
    params = {**adam, **user} if adam is not None else dict(trial.params)
    value = trial.value if isinstance(trial.value, int | float) else None
    finite = value is not None and math.isfinite(value)
    reason = record.reason_or_error
    curves, curves_source = _curves(trial, record, objective)
    return TrialRow(
        number=int(trial.number),
        state=trial.state.name,
        outcome=_outcome(trial, record),
        value=float(value) if finite and value is not None else None,
        nonfinite_value=value is not None and not finite,
        learning_rate=lr,
        batch_size=int(batch) if batch is not None else None,
        params=params,
        reason=reason,
        curves=curves,
        curves_source=curves_source,
        best_epoch=record.best_epoch_1based,
    )


def trial_rows(study: Any, objective: str) -> list[TrialRow]:
    return [_row(t, objective) for t in study.get_trials(deepcopy=False)]


def outcome_counts(rows: Iterable[TrialRow]) -> list[tuple[str, int]]:
    """Every outcome of the taxonomy (zero or not), then any other label seen, with counts."""
    counts = Counter(r.outcome for r in rows)
    extra = sorted(k for k in counts if k not in OUTCOMES)
    return [(k, counts.get(k, 0)) for k in (*OUTCOMES, *extra)]


def best_rows(rows: Sequence[TrialRow], direction: str, n: int) -> list[TrialRow]:
    """The ``n`` best complete trials, best first."""
    done = [r for r in rows if r.state == "COMPLETE" and r.value is not None]
    ordered = sorted(done, key=lambda r: r.value if r.value is not None else math.inf)
    return (ordered[::-1] if direction == "maximize" else ordered)[:n]


def diverged_rows(rows: Sequence[TrialRow], n: int) -> list[TrialRow]:
    """Up to ``n`` diverged trials, taking each kind of divergence in turn so every kind seen
    is shown; in trial order within a kind."""
    groups = [[r for r in rows if r.outcome == kind] for kind in DIVERGED]
    picked: list[TrialRow] = []
    while len(picked) < n and any(groups):
        for group in groups:
            if group and len(picked) < n:
                picked.append(group.pop(0))
    return sorted(picked, key=lambda r: r.number)


def curve_keys(curves: Mapping[str, list[float]], objective: str) -> tuple[str | None, str | None]:
    """The monitored curve and its training counterpart, among a trial's curves."""
    monitored = {"loss": "data_loss", "val_loss": "val_data_loss"}.get(objective, objective)
    main = next((k for k in (objective, monitored) if k in curves), None)
    if main is None:
        return None, None
    train = main[4:] if main.startswith("val_") and main[4:] in curves else None
    return main, train


# --- one vocabulary: the search's parameter names against the export's -------------------------

# A trial's Optuna parameter names are the search's: the learning rate is drawn as
# base_learning_rate (at the space's reference batch size) and each regularizer's strength under
# its own name (l2_strength, ...). The exported config (TunedConfig.to_dict()["adam"], AdamParams'
# fields) names them learning_rate and regularizer_strength. This is the one place the report
# maps the first to the second (and a schedule's cosine_warmup, linear_decay_to... to warmup and
# decay_to); every other name is its own export key (a model_fn's own hp.*
# names are the export's user_params keys).
_REGULARIZER_KINDS = ("l1", "l2", "l1_l2", "adamw")
_BATCH_SCALED = ("beta_1", "beta_2", "epsilon")


def export_name(param: str) -> tuple[str, str | None]:
    """The export key of a search parameter, and how the search relates to it (None: the same
    value under the same name)."""
    if param == "base_learning_rate":
        return "learning_rate", (
            "searched as base_learning_rate at the space's reference batch size, then scaled to "
            "each trial's batch size by the space's rule"
        )
    kind = param.removesuffix("_strength")
    if param.endswith("_strength") and kind in _REGULARIZER_KINDS:
        return (
            "regularizer_strength",
            f"searched as {param}: the strength when regularizer = {kind}",
        )
    for key, kinds in (("warmup", ("constant", "cosine")), ("decay_to", ("cosine", "linear"))):
        kind = param.removesuffix(f"_{key}")
        if param.endswith(f"_{key}") and kind in kinds:
            return key, f"searched as {param}: the {key} when schedule = {kind}"
    if param == "clipping":
        return "global_clipnorm", (
            "searched as clipping: off (global_clipnorm None), on (clipped to global_clipnorm) "
            "or, where the space offers it, per_variable (each variable clipped to clipnorm)"
        )
    if param in _BATCH_SCALED:
        return param, (
            "searched at the space's reference batch size, then scaled to each trial's batch size "
            "(square-root rule)"
        )
    return param, None


def importance_label(param: str) -> str:
    """The label the report shows for a search parameter: its export key, with the search's own
    name beside it where they differ (``learning_rate (as base_learning_rate)``,
    ``regularizer_strength (as l2_strength)``)."""
    key, _ = export_name(param)
    return key if key == param else f"{key} (as {param})"


@dataclass
class Importances:
    """Parameter importances (largest first, keyed by the search's parameter names) and the notes
    that say what they rest on. :func:`importance_label` gives each name's label in the report."""

    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    complete: int = 0

    @property
    def labelled(self) -> dict[str, float]:
        """``values`` keyed by the labels the report shows (export names)."""
        return {importance_label(k): v for k, v in self.values.items()}


MIN_TRIALS = 2  # Optuna's evaluators need two completed trials
FEW_TRIALS = 10  # below this the numbers are rough


def _single_valued(trials: Sequence[Any]) -> dict[str, Any]:
    """Parameters that took one value in every completed trial that has them."""
    seen: dict[str, set[str]] = {}
    first: dict[str, Any] = {}
    for trial in trials:
        for name, value in trial.params.items():
            seen.setdefault(name, set()).add(repr(value))
            first.setdefault(name, value)
    return {name: first[name] for name, values in seen.items() if len(values) == 1}


EVALUATOR = "PED-ANOVA"  # the evaluator importances() asks for, by name in the report


def importances(study: Any) -> Importances:
    """The engine's parameter importances (:func:`adamtune.engine.param_importances`: Optuna's
    PED-ANOVA evaluator, :data:`EVALUATOR`), with notes instead of errors."""
    from adamtune.engine import complete_trials, param_importances

    complete = [t for t in complete_trials(study) if t.value is not None and math.isfinite(t.value)]
    out = Importances(complete=len(complete))
    if len(complete) < MIN_TRIALS:
        out.notes.append(
            f"Parameter importances need at least {MIN_TRIALS} completed trials with a finite "
            f"value; this study has {len(complete)}. Run more trials, then write the report again."
        )
        return out
    constant = _single_valued(complete)
    for name, value in sorted(constant.items()):
        out.notes.append(
            f"{importance_label(name)} took a single value ({value!r}) in every completed trial, "
            "so its importance cannot be measured; it is left out."
        )
    names = sorted({n for t in complete for n in t.params} - set(constant))
    if not names:
        out.notes.append("No parameter varied across the completed trials: nothing to rank.")
        return out
    try:
        out.values, said = param_importances(study, names)
    except Exception as exc:  # the evaluator's own limits: say so, do not fail the report
        out.notes.append(f"Optuna could not compute importances: {type(exc).__name__}: {exc}")
        return out
    out.notes += [f"Optuna: {message}" for message in said]
    if out.values and not any(v > 0 for v in out.values.values()):
        out.notes.append(
            "Every importance came out 0: the evaluator found no parameter whose values separate "
            "the best trials from the rest (too few or too similar trials, or parameters stored "
            "without their ranges)."
        )
    if len(complete) < FEW_TRIALS:
        out.notes.append(
            f"Based on only {len(complete)} completed trials: treat these numbers as rough."
        )
    return out


@dataclass
class Diagnosis:
    """The doctor's stored findings: ``present`` is False when no diagnosis was run."""

    present: bool
    findings: list[dict[str, str]] = field(default_factory=list)
    note: str | None = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def diagnosis(study: Any) -> Diagnosis:
    """The study's ``adamtune_diagnosis`` user attribute, read defensively."""
    stored = study.user_attrs.get(DIAGNOSIS_ATTR)
    if stored is None:
        return Diagnosis(present=False)
    raw = stored.get("findings") if isinstance(stored, Mapping) else None
    if not isinstance(raw, list):
        return Diagnosis(
            present=True,
            note=f"The stored diagnosis has no list of findings; it holds: {_text(stored)[:500]}",
        )
    findings = [
        {key: _text(item.get(key)) for key in ("severity", "code", "evidence", "advice")}
        if isinstance(item, Mapping)
        else {"severity": "", "code": "", "evidence": _text(item), "advice": ""}
        for item in raw
    ]
    return Diagnosis(present=True, findings=findings)
