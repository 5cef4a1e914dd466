"""Results out: the best trial as a TunedConfig, exports, and load_config for training code;
TrialRecord, what each trial of a study stored."""

from adamtune._record import TrialRecord
from adamtune.result._config import FORMAT_VERSION, TunedConfig, load_config, read_config
from adamtune.result._export import export_config, render_python
from adamtune.result._result import Result, best_epoch, config_from_trial

__all__ = [
    "FORMAT_VERSION",
    "Result",
    "TrialRecord",
    "TunedConfig",
    "best_epoch",
    "config_from_trial",
    "export_config",
    "load_config",
    "read_config",
    "render_python",
]
