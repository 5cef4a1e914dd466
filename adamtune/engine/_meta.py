"""What a study stores about itself, and the comparison that refuses a changed resume."""

from __future__ import annotations

from typing import Any

from adamtune._errors import StudyMismatchError

__all__ = ["META_KEY", "check_same", "diff"]

META_KEY = "adamtune"
# Keys whose change makes an old study's trials incomparable with new ones.
# ``class_weight`` is None for a study without class weights (and for one made before them).
COMPARED = ("space", "objective", "direction", "epochs", "data", "loss", "class_weight")
# The model's fingerprint (training/_model_facts.py): compared when the stored study has one;
# studies made before it was recorded have none, and resume as before.
ARCHITECTURE = "architecture"


def diff(stored: Any, given: Any, path: str = "") -> list[str]:
    """Human-readable differences between two JSON-like values, by dotted path."""
    if isinstance(stored, dict) and isinstance(given, dict):
        out: list[str] = []
        for key in list(stored) + [k for k in given if k not in stored]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in given:
                out.append(f"{sub}: stored {stored[key]!r}, now absent")
            elif key not in stored:
                out.append(f"{sub}: absent in the stored study, now {given[key]!r}")
            else:
                out.extend(diff(stored[key], given[key], sub))
        return out
    if isinstance(stored, list | tuple) and isinstance(given, list | tuple):
        stored, given = list(stored), list(given)
    return [] if stored == given else [f"{path}: stored {stored!r}, now {given!r}"]


def check_same(study_name: str, stored: dict[str, Any] | None, given: dict[str, Any]) -> None:
    """Raise :class:`StudyMismatchError` naming every difference that matters for a resume."""
    if stored is None:
        raise StudyMismatchError(
            f"study {study_name!r} exists in this storage but was not created by adamtune; "
            "pick another `study_name`"
        )
    changes: list[str] = []
    for key in COMPARED:
        changes.extend(diff(stored.get(key), given.get(key), key))
    if ARCHITECTURE in stored and ARCHITECTURE in given:
        model = diff(stored[ARCHITECTURE], given[ARCHITECTURE], "model")
        if model:
            listed = "\n  ".join(model)
            raise StudyMismatchError(
                f"study {study_name!r} was created for a different model, so its trials say "
                f"nothing about this one:\n  {listed}\nUse a new `study_name` for this model "
                "(the default name, adamtune-<model_fn name>, is the same for every model_fn of "
                "that name), or restore the model the study was made with to resume it"
            )
    if changes:
        listed = "\n  ".join(changes)
        raise StudyMismatchError(
            f"study {study_name!r} was created with different settings, so its trials cannot be "
            f"continued with these:\n  {listed}\nUse a new `study_name`, or call with the stored "
            f"settings to resume{_same_name_hint(study_name, stored, given)}"
        )


def _same_name_hint(study_name: str, stored: dict[str, Any], given: dict[str, Any]) -> str:
    """What to do when a space of the study's space's name now differs: a shipped space (the
    ``default``) can change between adamtune versions, and the study keeps its own."""
    old, new = stored.get("space"), given.get("space")
    if not (isinstance(old, dict) and isinstance(new, dict)) or old == new:
        return ""
    if old.get("name") != new.get("name"):
        return ""
    return (
        f". The space is still named {new.get('name')!r} but is not the one the study was made "
        "with (a shipped space can change between adamtune versions); the study keeps its own: "
        f"`adamtune worker --study {study_name} --storage <url>` resumes it on that space"
    )
