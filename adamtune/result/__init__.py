"""Results out: the best trial as a TunedConfig, exports, and load_config for training code;
TrialRecord, what each trial of a study stored."""

from adamtune._record import TrialRecord
from adamtune.result._config import FORMAT_VERSION, TunedConfig, load_config, read_config
from adamtune.result._epochs import ExportedEpochs, exported_epochs
from adamtune.result._export import FORMATS, config_text, export_config, render_python
from adamtune.result._result import Result, best_epoch, config_from_trial, export_epochs
from adamtune.result._text import adam_words, number, user_words, wrapped

__all__ = [
    "FORMATS",
    "FORMAT_VERSION",
    "ExportedEpochs",
    "Result",
    "TrialRecord",
    "TunedConfig",
    "adam_words",
    "best_epoch",
    "config_from_trial",
    "config_text",
    "export_config",
    "export_epochs",
    "exported_epochs",
    "load_config",
    "number",
    "read_config",
    "render_python",
    "user_words",
    "wrapped",
]
