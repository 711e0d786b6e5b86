"""What an alert's evidence may hold: numbers, booleans, None and identifiers, never free text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


class EvidenceError(ValueError):
    """Evidence that is not plain numbers and identifiers."""


# Strings allowed in evidence: identifiers such as an instrument id, a component name, a reason
# code. Anything with spaces or longer than this is treated as free text and refused, so that
# nothing a client wrote can reach an alert's (unencrypted) evidence.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:+\-]{0,64}$")


def clean_evidence(value: Any, path: str = "evidence") -> Any:
    """Evidence as JSON of numbers, booleans, None and identifiers; EvidenceError otherwise."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return None if value != value or value in (float("inf"), float("-inf")) else round(value, 2)
    if isinstance(value, str):
        if not _IDENTIFIER.match(value):
            raise EvidenceError(f"{path}: only numbers and identifiers are allowed, not free text")
        return value
    if isinstance(value, Mapping):
        return {str(k): clean_evidence(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_evidence(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise EvidenceError(f"{path}: {type(value).__name__} is not allowed")
