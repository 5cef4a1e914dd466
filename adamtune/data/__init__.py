"""Data in: checks, splits and input scaling.

The checks and helpers here are shared with the doctor and the LR range test (``unpack``,
``to_array``, ``stream_parts``, ``stream_sample``, ``refuse_multi``): each is documented where it is
defined.
"""

from adamtune.data._data import (
    Data,
    DataParts,
    Prepared,
    Target,
    infer_target,
    prepare_data,
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
from adamtune.data._streams import (
    SAMPLE_SIZE,
    Streamed,
    check_stream_options,
    prepare_input,
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
    "stream_parts",
    "stream_sample",
    "to_array",
    "unpack",
]
