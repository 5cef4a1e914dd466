"""What the pre-flight learns from the user's own model, before adamtune changes anything in it.

Three uses: the space is fitted to the model (no input scaling for token ids that feed an
``Embedding``, no BatchNorm choice for a model that has its own), each such change is said once and
recorded with every trial, and the architecture's fingerprint is stored with the study so that a
different model under the same study name is refused instead of resumed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from adamtune.spaces import Space
from adamtune.training._layers import has_batch_norm, walk_layers

__all__ = ["ModelFacts", "SpaceFit", "architecture", "fit_space", "model_facts", "token_embeddings"]


@dataclass(frozen=True)
class ModelFacts:
    """Facts about the model model_fn returned, read before any rewrite."""

    architecture: dict[str, Any]
    token_embeddings: tuple[str, ...] = ()  # Embedding layers that take x's integers as ids
    has_batch_norm: bool = False


@dataclass(frozen=True)
class SpaceFit:
    """A choice dropped from the space for this model: ``change`` is recorded with every trial,
    ``note`` is said once when the search starts."""

    change: str
    note: str


def _fed_by_input(model: Any, layer: Any) -> bool:
    """Whether ``layer`` takes one of ``model``'s inputs directly (graph models only)."""
    import keras

    if isinstance(model, keras.Sequential):
        return bool(model.layers) and model.layers[0] is layer
    inputs = {id(t) for t in getattr(model, "inputs", None) or []}
    return any(
        id(t) in inputs for node in getattr(layer, "_inbound_nodes", []) for t in node.input_tensors
    )


def _integral(x: np.ndarray) -> bool:
    sample = x[:2048]
    return bool(sample.size) and bool(np.all(sample == np.round(sample)))


def token_embeddings(model: Any, x: np.ndarray) -> tuple[str, ...]:
    """Names of the ``Embedding`` layers that read ``x`` as token ids.

    An Embedding that takes the model's input directly; or, when the graph does not say (a
    subclassed model, a cast in between), any Embedding of a model whose ``x`` holds only whole
    numbers. Scaling such an ``x`` would change which token each id names.
    """
    import keras

    embeddings = [
        layer for layer in walk_layers(model) if isinstance(layer, keras.layers.Embedding)
    ]
    direct = tuple(layer.name for layer in embeddings if _fed_by_input(model, layer))
    if direct:
        return direct
    if embeddings and _integral(x):
        return tuple(layer.name for layer in embeddings)
    return ()


def architecture(model: Any, user_params: list[str]) -> dict[str, Any]:
    """The model's fingerprint: layer types in order, input and output shapes, parameter count
    (at the pre-flight's parameter values) and the names of the model_fn's own parameters.

    Layer names are left out: Keras numbers them per process (``dense_3``), so they differ
    between a search and its workers.
    """

    def shape(tensors: Any) -> Any:
        found = [list(t.shape[1:]) for t in (tensors or [])]
        return found[0] if len(found) == 1 else found

    return {
        "class": type(model).__name__,
        "layers": [type(layer).__name__ for layer in walk_layers(model)],
        "input_shape": shape(getattr(model, "inputs", None)),
        "output_shape": shape(getattr(model, "outputs", None)),
        "parameters": int(model.count_params()),
        "user_params": sorted(user_params),
    }


def model_facts(model: Any, x: np.ndarray | None, user_params: list[str]) -> ModelFacts:
    """Read ``model`` (built, as model_fn returned it) and ``x`` (None for several inputs, whose
    integer inputs are never scaled: ``adamtune.data._multi``)."""
    return ModelFacts(
        architecture=architecture(model, user_params),
        token_embeddings=() if x is None else token_embeddings(model, x),
        has_batch_norm=has_batch_norm(model),
    )


def fit_space(
    space: Space, facts: ModelFacts, *, places_batch_norm: bool
) -> tuple[Space, list[SpaceFit]]:
    """``space`` without the choices that would damage this model, and what was dropped.

    ``places_batch_norm``: the model_fn reads ``hp.batch_norm`` and places BatchNorm itself, so
    the BatchNorm it holds at the pre-flight is its own choice, not a reason to drop the axis.
    """
    fits: list[SpaceFit] = []
    if facts.token_embeddings and space.scaling != ("none",):
        layers = ", ".join(facts.token_embeddings)
        fits.append(
            SpaceFit(
                f"scaling dropped: x holds token ids (Embedding {layers})",
                f"input scaling dropped from the space ({', '.join(space.scaling)} -> none): x "
                f"holds token ids read by Embedding {layers}, and scaling would change which "
                "token each id names",
            )
        )
        space = dataclasses.replace(space, scaling=("none",))
    if facts.has_batch_norm and not places_batch_norm and True in space.batch_norm:
        fits.append(
            SpaceFit(
                "BatchNorm not added: the model has its own",
                "BatchNorm dropped from the space (batch_norm -> false): the model has "
                "BatchNormalization layers of its own, and adamtune adds none beside them",
            )
        )
        space = dataclasses.replace(space, batch_norm=(False,))
    return space, fits
