"""Test helpers shipped with adamtune: the strategy conformance suite."""

from adamtune.testing._strategies import (
    CONFORMANCE_SPACE,
    check_strategy,
    conformance_data,
    conformance_model,
)

__all__ = ["CONFORMANCE_SPACE", "check_strategy", "conformance_data", "conformance_model"]
