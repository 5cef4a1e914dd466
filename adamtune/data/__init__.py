"""Data in: checks, splits and input scaling."""

from adamtune.data._data import Data, Prepared, Target, infer_target, prepare_data
from adamtune.data._scaling import make_scaler, scale_split

__all__ = [
    "Data",
    "Prepared",
    "Target",
    "infer_target",
    "make_scaler",
    "prepare_data",
    "scale_split",
]
