"""Reading a stream's first samples: what kind of stream ``data`` is, its parts (training and
validation), batching from a ``tf.data`` element spec, the bounded sample and its checks.

The lower half of streamed data (see ``_streams.py``, which builds :class:`~adamtune.data.Streamed`
from what is read here, and ``_stream_feed.py``, which feeds it to ``fit``). TensorFlow and Keras
are imported when a stream is read, never at import.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from adamtune.data._arrays import Data, _check_y
from adamtune.data._weights import check_sample_weight

__all__ = [
    "SAMPLE_SIZE",
    "STEP_BATCH",
    "VAL_BATCH",
    "is_stream",
    "stream_kind",
    "stream_parts",
    "tf_sample",
]

# The bounded sample of each stream that the checks, the target, the chance level and the
# scaler see: the first samples, in the stream's own order.
SAMPLE_SIZE = 2048
# ``steps_per_epoch`` for a re-batched stream counts batches of this many samples, so every trial
# sees the same samples per epoch whatever its batch size.
STEP_BATCH = 32
# Validation batches of an unbatched validation dataset (evaluation only: the size changes nothing).
VAL_BATCH = 256

_HOW = (
    "pass (train_ds, val_ds) or adamtune.Data(train_ds, validation=val_ds), where each yields "
    "(x, y) or (x, y, sample_weight)"
)


def stream_kind(value: Any) -> str | None:
    """``"tf.data"``, ``"PyDataset"``, ``"generator"`` or None, without importing TensorFlow."""
    for cls in type(value).__mro__:
        module = cls.__module__ or ""
        if cls.__name__ == "DatasetV2" and module.startswith("tensorflow"):
            return "tf.data"
        if cls.__name__ == "PyDataset" and module.startswith("keras"):
            return "PyDataset"
    return "generator" if inspect.isgenerator(value) else None


def is_stream(value: Any) -> bool:
    return stream_kind(value) is not None


def stream_parts(data: Any) -> tuple[Any, Any] | None:
    """``(train, validation)`` when ``data`` is a stream form, else None (arrays)."""
    if is_stream(data):
        return data, None
    if isinstance(data, Data) and is_stream(data.x):
        extra = [
            name
            for name in (
                "y",
                "x_val",
                "y_val",
                "validation_split",
                "sample_weight",
                "val_sample_weight",
            )
            if getattr(data, name) is not None
        ]
        if extra:
            raise ValueError(
                "adamtune.Data: a dataset carries its own labels and sample weights, and its "
                f"validation set goes in `validation`. Received: {', '.join(extra)} beside a "
                f"{stream_kind(data.x)} x; {_HOW}"
            )
        return data.x, data.validation
    if isinstance(data, tuple | list) and any(is_stream(d) for d in data):
        if len(data) != 2:
            raise TypeError(
                f"`data` with streams must be (train_ds, val_ds). Received: a {type(data).__name__}"
                f" of length {len(data)}; {_HOW}"
            )
        return data[0], data[1]
    if isinstance(data, Data) and is_stream(data.validation):
        raise TypeError(
            "adamtune.Data: a validation dataset goes with a training dataset. Received: x of "
            f"type {type(data.x).__name__} with a {stream_kind(data.validation)} validation; "
            "pass both as streams, or validation=(x_val, y_val) with arrays"
        )
    return None


def _element_parts(spec: Any, kind: str, where: str) -> None:
    if not isinstance(spec, tuple) or len(spec) not in (2, 3):
        raise TypeError(
            f"the {where} {kind} must yield (x, y) or (x, y, sample_weight) tuples of tensors. "
            f"Received elements of {spec!r}; map it to that form (ds.map(lambda e: (e['x'], "
            "e['y'])))"
        )


def _tf_batched(ds: Any, where: str) -> bool:
    import tensorflow as tf

    spec = ds.element_spec
    _element_parts(spec, "tf.data.Dataset", where)
    if not all(isinstance(s, tf.TensorSpec) for s in spec):
        raise TypeError(
            f"the {where} dataset must yield single tensors for x, y and the sample weight "
            "(several inputs or outputs are not supported for datasets yet). Received: "
            f"element_spec={spec!r}"
        )
    return all(s.shape.rank and s.shape[0] is None for s in spec)


def _batch(ds: Any, size: int) -> Any:
    """``ds.batch(size)``, or ``padded_batch`` when an element has a dimension of unknown size."""
    shapes = [s.shape for s in ds.element_spec]
    if any(d is None for shape in shapes for d in shape):
        return ds.padded_batch(size)
    return ds.batch(size)


def tf_sample(ds: Any, batched: bool, where: str) -> tuple[np.ndarray, ...]:
    """The first :data:`SAMPLE_SIZE` samples of a dataset, as arrays: bounded by ``take``."""
    flat = ds.unbatch() if batched else ds
    for batch in _batch(flat.take(SAMPLE_SIZE), SAMPLE_SIZE).take(1).as_numpy_iterator():
        return tuple(np.asarray(part) for part in batch)
    raise ValueError(f"the {where} dataset is empty. Received: a dataset that yields nothing")


def _py_sample(ds: Any, where: str) -> tuple[tuple[np.ndarray, ...], int]:
    """The first batches of a PyDataset up to :data:`SAMPLE_SIZE` samples, and its batch size."""
    total = ds.num_batches
    parts: list[tuple[np.ndarray, ...]] = []
    count, index = 0, 0
    while count < SAMPLE_SIZE and (total is None or index < total):
        batch = ds[index]
        _element_parts(tuple(batch) if isinstance(batch, list) else batch, "PyDataset", where)
        parts.append(tuple(np.asarray(p) for p in batch))
        count += len(parts[-1][0])
        index += 1
    if not parts:
        raise ValueError(f"the {where} PyDataset is empty. Received: num_batches={total}")
    joined = tuple(np.concatenate(column)[:SAMPLE_SIZE] for column in zip(*parts, strict=True))
    return joined, len(parts[0][0])


def _tf_cardinality(ds: Any) -> int | None:
    """The known number of elements, None when unknown; -1 for an infinite dataset."""
    n = int(ds.cardinality())
    return None if n == -2 else n


def _checked_sample(
    parts: tuple[np.ndarray, ...], where: str, finite: bool = True
) -> tuple[Any, ...]:
    """The sample's x, y (squeezed) and weights, checked: numbers, finite (unless ``finite`` is
    False: the doctor reports NaN/inf as a finding), one weight each."""
    x, y = parts[0], parts[1]
    n = len(x)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(
            f"`x` of the {where} stream must hold numbers. Received dtype {x.dtype} in its first "
            "samples; encode text or categories as numbers in the pipeline"
        )
    if x.ndim < 2:
        raise ValueError(
            f"`x` of the {where} stream must have at least one feature axis per sample. "
            f"Received: samples of shape {x.shape[1:]}; for one feature, map x to shape (1,)"
        )
    for name, array in (("x", x), ("y", y)) if finite else ():
        if np.issubdtype(array.dtype, np.floating):
            bad = ~np.isfinite(array)
            if bad.any():
                first = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"`{name}` of the {where} stream must be finite. Received: "
                    f"{int(bad.sum())} NaN or infinite value(s) in its first {n} samples (first "
                    f"at index {first}); impute or drop them in the pipeline before searching"
                )
    if finite:
        y_checked = _check_y(y, f"y of the {where} stream")
    else:  # squeezed only: the doctor's prepare_data checks the rest after its NaN finding
        y_checked = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    w = None if len(parts) < 3 else check_sample_weight(parts[2], n, f"{where} sample_weight")
    return x, y_checked, w


def _read(ds: Any, where: str) -> tuple[str, bool, tuple[np.ndarray, ...], int | None, int | None]:
    """A stream's kind, batching, first samples, length (None unknown, -1 infinite) and a
    PyDataset's batch size."""
    kind = stream_kind(ds)
    if kind == "generator":
        raise TypeError(
            f"the {where} data is a Python generator, which can be read once only and cannot be "
            "re-batched. Received: a generator; wrap it in tf.data.Dataset.from_generator(...) "
            "(with output_signature) or a keras.utils.PyDataset"
        )
    if kind == "tf.data":
        batched = _tf_batched(ds, where)
        return kind, batched, tf_sample(ds, batched, where), _tf_cardinality(ds), None
    if kind == "PyDataset":
        sample, size = _py_sample(ds, where)
        n = ds.num_batches
        return kind, True, sample, (-1 if n is None else int(n)), size
    raise TypeError(
        f"the {where} data must be a tf.data.Dataset or a keras.utils.PyDataset, the training "
        f"and the validation data alike. Received: {type(ds).__name__}; {_HOW}"
    )


def _spec(ds: Any, kind: str, batched: bool, parts: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Per-sample shapes (None for a dimension that varies) and dtypes of x and y: a tf.data
    stream's from its element spec, a PyDataset's from its first batches."""
    if kind == "tf.data":
        specs = ds.element_spec[:2]
        found = [((s.shape[1:] if batched else s.shape).as_list(), s.dtype.name) for s in specs]
    else:
        found = [(list(p.shape[1:]), str(p.dtype)) for p in parts[:2]]
    (x_shape, x_dtype), (y_shape, y_dtype) = found
    return {"x_shape": x_shape, "x_dtype": x_dtype, "y_shape": y_shape, "y_dtype": y_dtype}


def _check_length(cardinality: int | None, steps: int | None, kind: str) -> None:
    if steps is None and (cardinality is None or cardinality < 0):
        what = "infinite" if cardinality == -1 else "of unknown length"
        raise ValueError(
            f"`steps_per_epoch` is needed: the training {kind} is {what}, so an epoch has no end. "
            f"Received: steps_per_epoch=None; pass search(steps_per_epoch=N) (for a re-batched "
            f"tf.data stream, batches of {STEP_BATCH} samples), or give the dataset a known "
            "length (ds.take(n), or ds.apply(tf.data.experimental.assert_cardinality(n)))"
        )
    if cardinality == 0:
        raise ValueError(f"the training {kind} is empty. Received: a stream of length 0")
