"""Results out: the best trial as a TunedConfig, exports, and load_config for training code."""

from adamtune.result._config import FORMAT_VERSION, TunedConfig, load_config
from adamtune.result._export import export_config, read_config, render_python
from adamtune.result._result import Result, best_epoch, config_from_trial

__all__ = [
    "FORMAT_VERSION",
    "Result",
    "TunedConfig",
    "best_epoch",
    "config_from_trial",
    "export_config",
    "load_config",
    "read_config",
    "render_python",
]
