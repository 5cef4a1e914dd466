"""Data in: checks, splits and input scaling.

The checks and helpers here are shared with the doctor and the LR range test (``unpack``,
``to_array``, ``stream_parts``, ``stream_sample``, ``refuse_multi``), with ``result`` (``check_x``,
``stream_kind``, ``tf_sample`` for ``TunedConfig.preprocessing_layer``) and with ``training``
(``threaded``, ``VAL_BATCH`` for a trial's array feed): each is documented where it is defined.

The modules import one way, bottom first: ``_arrays`` (Data, Target, array checks), ``_weights``,
``_stream_read`` (a stream's kind and first samples), ``_stream_feed``, ``_streams``
(``Streamed``), ``_parts`` (``unpack``), ``_multi``, ``_data`` (``prepare_data``,
``prepare_input``); ``_base_scaler`` < ``_feature_scaler`` < ``_scaling``.
"""

from adamtune.data._arrays import check_x
from adamtune.data._data import (
    Data,
    DataParts,
    Prepared,
    Target,
    infer_target,
    prepare_data,
    prepare_input,
    to_array,
    unpack,
)
from adamtune.data._multi import (
    Multi,
    check_multi_options,
    is_structure,
    refuse_multi,
    resolve_reading,
)
from adamtune.data._scaling import make_scaler, scale_split
from adamtune.data._stream_feed import threaded
from adamtune.data._stream_read import VAL_BATCH, stream_kind, tf_sample
from adamtune.data._streams import (
    SAMPLE_SIZE,
    Streamed,
    check_stream_options,
    stream_parts,
    stream_sample,
)
from adamtune.data._weights import (
    CLASS_WEIGHT_MODES,
    ClassWeighting,
    check_class_weight_arg,
    class_sample_weights,
    class_weight_from_pairs,
    class_weight_pairs,
    resolve_class_weight,
)

__all__ = [
    "CLASS_WEIGHT_MODES",
    "SAMPLE_SIZE",
    "VAL_BATCH",
    "ClassWeighting",
    "Data",
    "DataParts",
    "Multi",
    "Prepared",
    "Streamed",
    "Target",
    "check_class_weight_arg",
    "check_multi_options",
    "check_stream_options",
    "check_x",
    "class_sample_weights",
    "class_weight_from_pairs",
    "class_weight_pairs",
    "infer_target",
    "is_structure",
    "make_scaler",
    "prepare_data",
    "prepare_input",
    "refuse_multi",
    "resolve_class_weight",
    "resolve_reading",
    "scale_split",
    "stream_kind",
    "stream_parts",
    "stream_sample",
    "tf_sample",
    "threaded",
    "to_array",
    "unpack",
]
