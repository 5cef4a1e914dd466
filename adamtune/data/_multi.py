"""Several inputs or several outputs, as arrays: what ``keras.Model.fit`` takes as ``x``/``y``.

``x`` may be a list or tuple of arrays (one per model input, in order) or a dict of arrays keyed
by input name; ``y`` one array, a list/tuple (one per output) or a dict keyed by output name.
:class:`Multi` plays the role :class:`~adamtune.data.Prepared` plays for one input and one
output. Its arrays are kept in tuples (``inputs_train``, ``outputs_train``, ...) and put back in
the user's structure (:meth:`Multi.pack_x`, :meth:`Multi.pack_y`) for ``fit``, so a model keyed
by names gets its dicts and a model of positional inputs its tuples.

Input scaling applies to each floating-point input, fitted on its own training split; integer
and boolean inputs (token ids, category codes) are passed as given. With one output, ``y_train``
and ``target`` are that output's, as for :class:`~adamtune.data.Prepared`, so class weights and
the chance level work as for one input. With several outputs, each output has its own target
(``targets``) and the split is seeded but not stratified.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adamtune.data._arrays import Data, _check_y, check_x, infer_target, to_array
from adamtune.data._parts import _stratify, _weight, unpack
from adamtune.data._scaling import scale_split

__all__ = ["Multi", "is_structure", "prepare_multi", "refuse_multi"]


def _array_like(value: Any) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith("pandas")


def is_structure(value: Any) -> bool:
    """A list, tuple or dict of arrays (several inputs or outputs), not one array."""
    if isinstance(value, dict):
        return bool(value) and all(_array_like(v) for v in value.values())
    if isinstance(value, tuple | list):
        return bool(value) and all(_array_like(v) for v in value)
    return False


def _names(value: Any, what: str) -> tuple[str, ...] | None:
    if not isinstance(value, dict):
        return None
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise TypeError(
            f"`{what}` as a dict must be keyed by the model's {'input' if what == 'x' else 'output'}"
            f" names (strings). Received keys {bad!r}"
        )
    return tuple(value)


def _parts(value: Any) -> tuple[Any, ...]:
    if isinstance(value, dict):
        return tuple(value.values())
    return tuple(value) if is_structure(value) else (value,)


def _label(names: tuple[str, ...] | None, i: int, what: str, several: bool) -> str:
    if names is not None:
        return f"{what}[{names[i]!r}]"
    return f"{what}[{i}]" if several else what


@dataclass
class Multi:
    """Checked, split arrays of a model with several inputs or outputs.

    ``input_names``/``output_names`` are the dict keys the user gave (None for a list or tuple,
    and for ``y`` given as one array: ``one_output``). ``targets`` holds one target per output.
    ``w_train``/``w_val`` are per-sample weights (applied to every output, as Keras does).
    """

    inputs_train: tuple[np.ndarray, ...]
    inputs_val: tuple[np.ndarray, ...]
    input_names: tuple[str, ...] | None
    outputs_train: tuple[np.ndarray, ...]
    outputs_val: tuple[np.ndarray, ...]
    output_names: tuple[str, ...] | None
    one_output: bool
    targets: list[Any]
    w_train: np.ndarray | None = None
    w_val: np.ndarray | None = None
    notes: tuple[str, ...] = ()  # how an ambiguous tuple was read, said once
    raw_dtypes: tuple[Any, ...] = ()  # the inputs' dtypes as given (scaling skips integers)
    _scaled: dict[str, tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]] = field(
        default_factory=dict, repr=False
    )

    counted_on = "the training split"  # what y_train is, for the class-weight note

    # -- one output: the same fields as Prepared ------------------------------------------------
    @property
    def n_outputs(self) -> int:
        return len(self.outputs_train)

    @property
    def target(self) -> Any:
        if self.n_outputs != 1:
            raise AttributeError("a model with several outputs has one target per output")
        return self.targets[0]

    @target.setter
    def target(self, value: Any) -> None:
        self.targets[0] = value

    @property
    def y_train(self) -> np.ndarray:
        if self.n_outputs != 1:
            raise AttributeError("a model with several outputs has one y per output")
        return self.outputs_train[0]

    @y_train.setter
    def y_train(self, value: np.ndarray) -> None:
        self.outputs_train = (value,)

    @property
    def y_val(self) -> np.ndarray:
        if self.n_outputs != 1:
            raise AttributeError("a model with several outputs has one y per output")
        return self.outputs_val[0]

    @y_val.setter
    def y_val(self, value: np.ndarray) -> None:
        self.outputs_val = (value,)

    @property
    def n_train(self) -> int:
        return len(self.inputs_train[0])

    # -- the user's structure, back ---------------------------------------------------------------
    def pack_x(self, arrays: tuple[Any, ...]) -> Any:
        if self.input_names is not None:
            return dict(zip(self.input_names, arrays, strict=True))
        return tuple(arrays)

    def pack_y(self, arrays: tuple[Any, ...]) -> Any:
        if self.one_output:
            return arrays[0]
        if self.output_names is not None:
            return dict(zip(self.output_names, arrays, strict=True))
        return tuple(arrays)

    def head(self, n: int, part: str = "train") -> tuple[Any, Any]:
        """The first ``n`` samples of the training (or ``"val"``) part, as ``(x, y)``."""
        inputs, outputs = (
            (self.inputs_train, self.outputs_train)
            if part == "train"
            else (self.inputs_val, self.outputs_val)
        )
        return self.pack_x(tuple(a[:n] for a in inputs)), self.pack_y(tuple(a[:n] for a in outputs))

    def input_label(self, i: int) -> str:
        return _label(self.input_names, i, "x", True)

    def output_label(self, i: int) -> str:
        return _label(self.output_names, i, "y", not self.one_output)

    # -- scaling -----------------------------------------------------------------------------------
    def scalable(self) -> list[int]:
        """Indices of the inputs input scaling applies to: those given as floating point."""
        return [i for i, a in enumerate(self.raw_dtypes) if np.issubdtype(a, np.floating)]

    def scaled(self, name: str) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """Training/validation inputs under scaler ``name`` (each float input fitted on its own
        training split), cached."""
        if name not in self._scaled:
            train, val = list(self.inputs_train), list(self.inputs_val)
            for i in self.scalable():
                train[i], val[i] = scale_split(name, train[i], val[i])
            self._scaled[name] = (tuple(train), tuple(val))
        return self._scaled[name]

    def fit_space(self, space: Any) -> tuple[Any, list[str], tuple[str, ...]]:
        """The space for these inputs; what is said once and recorded per trial."""
        notes = list(self.notes)
        changes: tuple[str, ...] = ()
        scaled = [s for s in space.scaling if s != "none"]
        floats = self.scalable()
        kept = [self.input_label(i) for i in range(len(self.inputs_train)) if i not in floats]
        if scaled and not floats:
            notes.append(
                f"input scaling dropped from the space ({', '.join(space.scaling)} -> none): no "
                "input holds floating-point values (integer inputs such as token ids or category "
                "codes are passed as given)"
            )
            changes = ("scaling dropped: no floating-point input",)
            space = dataclasses.replace(space, scaling=("none",))
        elif scaled and kept:
            notes.append(
                f"input scaling ({', '.join(scaled)}) applies to the floating-point inputs "
                f"{', '.join(self.input_label(i) for i in floats)}, each fitted on its own "
                f"training split; {', '.join(kept)} (integer) passed as given"
            )
            changes = (f"scaling only on {', '.join(self.input_label(i) for i in floats)}",)
        if self.n_outputs > 1:
            notes.append(
                "several outputs: a loss objective is the sum of the outputs' losses (times "
                "their loss weights), without the L1/L2 penalty; the stuck-at-chance check of "
                "the divergence guard is off (NaN and blow-up checks stay on)"
            )
        return space, notes, changes

    def fingerprint(self) -> dict[str, Any]:
        """Shapes and kinds per input and output, stored with a study (resumes compare it)."""
        out: dict[str, Any] = {
            "inputs": [
                [self.input_label(i), list(a.shape[1:])] for i, a in enumerate(self.inputs_train)
            ],
            "outputs": [
                [self.output_label(i), list(a.shape[1:]), t.kind, t.n_classes]
                for i, (a, t) in enumerate(zip(self.outputs_train, self.targets, strict=True))
            ],
            "n_train": self.n_train,
            "n_val": len(self.inputs_val[0]),
        }
        if self.w_train is not None:
            out["sample_weight"] = True
        if self.w_val is not None:
            out["val_sample_weight"] = True
        return out


def _checked(parts: Any, what: str, check: Any, convert: Any) -> tuple[tuple[np.ndarray, ...], Any]:
    names = _names(parts, what)
    several = is_structure(parts)
    arrays = []
    for i, part in enumerate(_parts(parts)):
        label = _label(names, i, what, several)
        arrays.append(check(convert(part, label), label))
    return tuple(arrays), names


def _same_samples(arrays: list[tuple[str, np.ndarray]], where: str) -> int:
    counts = {label: len(a) for label, a in arrays}
    if len(set(counts.values())) > 1:
        shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
        raise ValueError(
            f"every input and output of the {where} data must have the same number of samples. "
            f"Received: {shown}"
        )
    n = next(iter(counts.values()))
    if n == 0:
        raise ValueError(f"the {where} data is empty")
    return n


def _labelled(
    arrays: tuple[np.ndarray, ...], names: tuple[str, ...] | None, what: str, several: bool
) -> list[tuple[str, np.ndarray]]:
    """Each array with the label errors call it by (``x[0]``, ``y['out']``...)."""
    return [(_label(names, i, what, several), a) for i, a in enumerate(arrays)]


def _checked_training(
    parts: Any, notes: tuple[str, ...]
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray | None, dict[str, Any]]:
    """The training inputs, outputs and weights, checked, and the fields of :class:`Multi` that
    describe them (names, targets, the inputs' dtypes as given)."""
    raw_x = _parts(parts.x)
    raw_dtypes = tuple(np.asarray(to_array(a, "x")).dtype for a in raw_x)
    inputs, input_names = _checked(parts.x, "x", check_x, to_array)
    outputs, output_names = _checked(parts.y, "y", _check_y, to_array)
    one_output = not is_structure(parts.y)
    x_labels = _labelled(inputs, input_names, "x", True)
    y_labels = _labelled(outputs, output_names, "y", not one_output)
    n = _same_samples([*x_labels, *y_labels], "training")
    w = _weight(parts.w, n, "sample_weight")
    targets = [infer_target(y) for y in outputs]
    make = dict(
        input_names=input_names,
        output_names=output_names,
        one_output=one_output,
        targets=targets,
        notes=notes,
        raw_dtypes=raw_dtypes,
    )
    return inputs, outputs, w, make


def _checked_validation(
    parts: Any,
    inputs: tuple[np.ndarray, ...],
    outputs: tuple[np.ndarray, ...],
    make: dict[str, Any],
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray | None]:
    """The explicit validation inputs, outputs and weights, checked against the training ones."""
    input_names, output_names = make["input_names"], make["output_names"]
    inputs_val, val_in_names = _checked(parts.x_val, "x_val", check_x, to_array)
    outputs_val, val_out_names = _checked(parts.y_val, "y_val", _check_y, to_array)
    if (
        (val_in_names, val_out_names) != (input_names, output_names)
        or len(inputs_val) != len(inputs)
        or len(outputs_val) != len(outputs)
    ):
        raise ValueError(
            "the validation data must have the inputs and outputs of the training data. "
            f"Received: {len(inputs)} input(s) {input_names or ''} and {len(outputs)} "
            f"output(s) {output_names or ''} for training, {len(inputs_val)} "
            f"{val_in_names or ''} and {len(outputs_val)} {val_out_names or ''} for validation"
        )
    x_labels = _labelled(inputs, input_names, "x", True)
    y_labels = _labelled(outputs, output_names, "y", not make["one_output"])
    for (label, a), b in zip(x_labels, inputs_val, strict=True):
        if a.shape[1:] != b.shape[1:]:
            raise ValueError(
                f"the validation {label} must have the sample shape of the training one. "
                f"Received {b.shape[1:]} and {a.shape[1:]}"
            )
    n_val = _same_samples(
        [(f"val {label}", a) for (label, _), a in zip(x_labels + y_labels,
                                                        inputs_val + outputs_val, strict=True)],
        "validation",
    )  # fmt: skip
    return inputs_val, outputs_val, _weight(parts.w_val, n_val, "val_sample_weight")


def _split(
    inputs: tuple[np.ndarray, ...],
    outputs: tuple[np.ndarray, ...],
    w: np.ndarray | None,
    make: dict[str, Any],
    split: float,
    seed: int,
) -> Multi:
    """A seeded split of the training data (stratified on a single output's classes)."""
    if not 0.0 < split < 1.0:
        raise ValueError(
            f"`validation_split` must be in (0, 1). Received: validation_split={split!r}"
        )
    from sklearn.model_selection import train_test_split

    stratify = _stratify(make["targets"][0], outputs[0], split) if make["one_output"] else None
    arrays = (*inputs, *outputs) if w is None else (*inputs, *outputs, w)
    pieces = train_test_split(*arrays, test_size=split, random_state=seed, stratify=stratify)
    train, val = pieces[0::2], pieces[1::2]
    k, m = len(inputs), len(outputs)
    return Multi(
        tuple(train[:k]),
        tuple(val[:k]),
        outputs_train=tuple(train[k : k + m]),
        outputs_val=tuple(val[k : k + m]),
        w_train=train[k + m] if w is not None else None,
        w_val=val[k + m] if w is not None else None,
        **make,
    )


def prepare_multi(
    parts: Any, *, validation_split: float, seed: int, notes: tuple[str, ...] = ()
) -> Multi:
    """Check and split ``parts`` (``adamtune.data.DataParts`` with a structured x or y)."""
    inputs, outputs, w, make = _checked_training(parts, notes)
    if parts.x_val is not None:
        inputs_val, outputs_val, w_val = _checked_validation(parts, inputs, outputs, make)
        return Multi(inputs, inputs_val, outputs_train=outputs, outputs_val=outputs_val,
                     w_train=w, w_val=w_val, **make)  # fmt: skip
    split = validation_split if parts.split is None else parts.split
    return _split(inputs, outputs, w, make, split, seed)


def _lengths_match(pairs: Any) -> bool:
    return all(len(a) == len(b) for a, b in pairs)


def _readings(data: Any) -> tuple[bool, bool]:
    """Whether ``(first, second)`` (both tuples of arrays) reads as ``(train, val)`` and as
    ``(inputs, outputs)``."""
    first, second = data
    as_split = (
        len(first) in (2, 3)
        and len(second) in (2, 3)
        and _lengths_match([(first[0], p) for p in first[1:]])
        and _lengths_match([(second[0], p) for p in second[1:]])
        and np.shape(first[0])[1:] == np.shape(second[0])[1:]
    )
    every = [*first, *second]
    as_multi = _lengths_match([(every[0], p) for p in every[1:]])
    return as_split, as_multi


def _shapes(part: Any) -> str:
    return ", ".join(str(tuple(np.shape(a))) for a in part)


def resolve_reading(data: Any, model_io: Any) -> tuple[Any, tuple[str, ...]]:
    """``data`` with the ambiguity of ``((a, b), (c, d))`` settled, and the note saying how.

    That tuple is ``((x_train, y_train), (x_val, y_val))`` or ``((x_a, x_b), (y_1, y_2))``.
    Shapes settle most cases; otherwise ``model_io()`` (the model's input and output counts, or
    None when the model does not say) decides; a true ambiguity is refused with both readings.
    Any other ``data`` comes back as it is.
    """
    if not (isinstance(data, tuple | list) and len(data) == 2):
        return data, ()
    first, second = data
    if not (
        isinstance(first, tuple | list)
        and isinstance(second, tuple | list)
        and is_structure(first)
        and is_structure(second)
    ):
        return data, ()
    as_split, as_multi = _readings(data)
    if not as_multi:
        return data, ()
    as_inputs = Data(list(first), list(second))
    several = (
        f"{len(first)} inputs of shapes {_shapes(first)} and {len(second)} outputs of shapes "
        f"{_shapes(second)}"
    )
    if not as_split:
        return as_inputs, (f"`data` read as {several}",)
    counts = model_io()
    if counts == (1, 1):
        return data, ()
    if counts == (len(first), len(second)):
        return as_inputs, (
            f"`data` read as {several}, not as (training, validation): the model has "
            f"{counts[0]} inputs and {counts[1]} outputs",
        )
    said = "does not declare its inputs" if counts is None else (
        f"has {counts[0]} input(s) and {counts[1]} output(s)"
    )  # fmt: skip
    raise ValueError(
        "`data` is ambiguous: ((a, b), (c, d)) reads as ((x_train, y_train), (x_val, y_val)) "
        f"with training shapes {_shapes(first)} and validation shapes {_shapes(second)}, or as "
        f"(x=[a, b], y=[c, d]) with {several}, and the model {said}. Received: a tuple of two "
        "tuples of arrays; say which with adamtune.Data(x_train, y_train, x_val, y_val) or "
        "adamtune.Data(x=[a, b], y=[c, d])"
    )


def check_multi_options(data: Any, class_weight: Any, space: Any) -> None:
    """Refuse what several inputs or outputs cannot have, before anything is stored."""
    if not isinstance(data, Multi):
        return
    searched = space.class_weight is not None and tuple(space.class_weight) != ("none",)
    if data.n_outputs > 1 and (class_weight is not None or searched):
        what = f"class_weight={class_weight!r}" if class_weight is not None else (
            f"the space's class_weight field {list(space.class_weight)}"
        )  # fmt: skip
        raise ValueError(
            "class weights apply to a model with one output (keras.Model.fit refuses them with "
            f"several). Received: {what} with {data.n_outputs} outputs; pass per-sample weights "
            "instead, (x, y, sample_weight), computed from the output you want balanced"
        )


def refuse_multi(data: Any, what: str) -> None:
    """The doctor and the LR range test take one input and one output: say so by name
    (``data`` in array form: a stream has been sampled already)."""
    try:
        parts = unpack(data)
    except (TypeError, ValueError):
        return  # prepare_data says what is wrong, as before
    if is_structure(parts.x) or is_structure(parts.y):
        raise TypeError(
            f"{what} takes a model with one input and one output (x and y single arrays). "
            "Received: x or y as a list or dict of arrays (several inputs or outputs); run "
            "adamtune.search on it, which takes several inputs and outputs"
        )
