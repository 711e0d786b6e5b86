"""Questionnaire definitions, answer validation and scoring, as a pure library (no Django).

    >>> from rapport.instruments import load
    >>> phq9 = load("phq9")
    >>> score = phq9.score({f"phq9-{n}": 1 for n in range(1, 10)})
    >>> score.total, score.severity
    (9, Severity(label='mild', band=1))

Definitions are FHIR R4 Questionnaire files: the shipped ones in `library/`, a practice's own
in the directories named by RAPPORT_INSTRUMENTS_DIR (separated by the platform's path
separator). README.md next to this file documents the format.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from rapport.instruments.definition import DefinitionError, load_file, parse
from rapport.instruments.model import (
    AnswerError,
    Display,
    Instrument,
    Item,
    Option,
    Score,
    Severity,
    UnknownInstrument,
)
from rapport.instruments.psychometrics import (
    Psychometrics,
    classify_change,
    rci,
    reliable_change_amount,
)

__all__ = [
    "LIBRARY_DIR",
    "AnswerError",
    "DefinitionError",
    "Display",
    "Instrument",
    "Item",
    "Option",
    "Psychometrics",
    "Score",
    "Severity",
    "UnknownInstrument",
    "classify_change",
    "clear_cache",
    "goal_progress",
    "display_order",
    "instrument_ids",
    "load",
    "parse",
    "rci",
    "reliable_change_amount",
]

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
ENV_DIR = "RAPPORT_INSTRUMENTS_DIR"

_paths: dict[tuple[str, ...], dict[str, Path]] = {}
_loaded: dict[Path, Instrument] = {}


def _directories() -> tuple[str, ...]:
    extra = os.environ.get(ENV_DIR, "")
    return (str(LIBRARY_DIR), *(d for d in extra.split(os.pathsep) if d))


def _index() -> dict[str, Path]:
    """Instrument id -> definition file, for the library and the practice's directories."""
    dirs = _directories()
    index = _paths.get(dirs)
    if index is None:
        index = {}
        for directory in dirs:
            folder = Path(directory)
            if not folder.is_dir():
                raise DefinitionError(f"{ENV_DIR}: {directory} is not a directory")
            for path in sorted(folder.glob("*.json")):
                if path.stem in index:
                    raise DefinitionError(
                        f"{path}: instrument id {path.stem!r} is already defined by "
                        f"{index[path.stem]}; give the practice's instrument its own id"
                    )
                index[path.stem] = path
        _paths[dirs] = index
    return index


def instrument_ids() -> list[str]:
    """Every available instrument id, sorted."""
    return sorted(_index())


# The order measures are shown in, staff pages and portal alike: the common pair first, PHQ-9
# before GAD-7 (as the PHQ family's own materials and the NHS Talking Therapies dataset list
# them), then the rest by id.
SHOWN_FIRST = ("phq9", "gad7")


def display_order(ids: Sequence[str]) -> list[str]:
    """Instrument ids in the one order every page shows measures in."""
    return sorted(ids, key=lambda i: (SHOWN_FIRST.index(i) if i in SHOWN_FIRST else len(SHOWN_FIRST), i))


def load(instrument_id: str) -> Instrument:
    """The instrument with this id, checked and ready to score (cached after the first load).

    Raises `UnknownInstrument` (a KeyError) when there is none, and `DefinitionError` when its
    file is not a valid definition.
    """
    index = _index()
    path = index.get(instrument_id)
    if path is None:
        raise UnknownInstrument(instrument_id, sorted(index))
    instrument = _loaded.get(path)
    if instrument is None:
        instrument = _loaded[path] = load_file(path)
    return instrument


def goal_progress(goals: Sequence[str] | Mapping[str, str]) -> Instrument:
    """The goal-progress instrument for a client's active goals: one 0-10 item per goal.

    `goals` is a list of goal ids (used as linkIds), or a mapping of goal id to the goal's
    wording, shown as the item text.
    """
    return load("goal-progress").expand(goals)


def clear_cache() -> None:
    """Forget loaded definitions (after a practice edits its files)."""
    _paths.clear()
    _loaded.clear()
