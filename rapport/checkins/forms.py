"""The form renderer for instruments: fields to show, answers read from a POST, errors to display.

This is deliberately not a Django form: the instrument decides what is valid
(`rapport.instruments`), and the renderer only turns posted strings into the values the
instrument accepts, keeping what the person entered so a rejected form comes back filled in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from rapport import instruments

TEXT_MAX = 5000  # characters per free-text answer


@dataclass
class Field:
    item: instruments.Item
    name: str
    value: Any  # what was entered (as the form shows it)
    error: str | None

    @property
    def link_id(self) -> str:
        return self.item.link_id

    @property
    def widget(self) -> str:
        item = self.item
        if item.kind == "choice":
            return "choice"
        if item.kind == "integer" and item.min_value is not None and item.max_value is not None \
                and item.max_value - item.min_value <= 10:
            return "scale"
        if item.kind == "text":
            return "text"
        if item.kind == "boolean":
            return "boolean"
        return "number"

    @property
    def scale(self) -> list[str]:
        return [str(n) for n in range(int(self.item.min_value), int(self.item.max_value) + 1)]

    @property
    def value_str(self) -> str:
        return "" if self.value is None else str(self.value)

    @property
    def question(self) -> str:
        """The item text without its trailing anchor hint, e.g. "(0 = not at all, 10 = ...)"."""
        text = self.item.text
        if self.widget == "scale" and text.endswith(")") and " (" in text:
            return text[: text.rindex(" (")]
        return text

    @property
    def anchors(self) -> tuple[str, str] | None:
        """The words for the lowest and highest point of a 0-10 scale, from the item text."""
        text = self.item.text
        if self.widget != "scale" or not text.endswith(")") or " (" not in text:
            return None
        inner = text[text.rindex(" (") + 2 : -1]
        parts = [p.strip() for p in inner.split(",")]
        if len(parts) != 2:
            return None
        low, high = (p.split("=", 1)[-1].strip() for p in parts)
        return low, high


class InstrumentForm:
    """One instrument's questions, with what was entered and the instrument's verdict."""

    def __init__(self, instrument: instruments.Instrument, data: dict[str, Any] | None = None,
                 errors: dict[str | None, str] | None = None, token: str | None = None) -> None:
        self.instrument = instrument
        self.data = data or {}
        self.errors = errors or {}
        self.token = token or str(uuid.uuid4())

    @property
    def fields(self) -> list[Field]:
        return [
            Field(item, f"a-{item.link_id}", self.data.get(item.link_id), self.errors.get(item.link_id))
            for item in self.instrument.items
            if not item.template
        ]

    @property
    def layout(self) -> list[Field | instruments.Display]:
        """The fields with the instrument's stem and instructions in their published places."""
        fields = {f.link_id: f for f in self.fields}
        return [
            entry if isinstance(entry, instruments.Display) else fields[entry.link_id]
            for entry in self.instrument.layout
            if isinstance(entry, instruments.Display) or entry.link_id in fields
        ]

    @property
    def form_error(self) -> str | None:
        return self.errors.get(None)

    @property
    def error_list(self) -> list[tuple[str, str]]:
        """(linkId, message) in question order, for the error summary at the top."""
        return [(f.link_id, f.error) for f in self.fields if f.error]

    @classmethod
    def from_post(cls, instrument: instruments.Instrument, post) -> InstrumentForm:
        data: dict[str, Any] = {}
        for item in instrument.items:
            if item.template:
                continue
            raw = post.get(f"a-{item.link_id}", "")
            raw = raw.strip() if item.kind != "text" else raw.strip()[:TEXT_MAX]
            data[item.link_id] = _convert(item, raw)
        return cls(instrument, data, token=post.get("submission") or None)

    def answers(self) -> dict[str, Any]:
        """The answers for `rapport.instruments` (empty ones left out)."""
        return {k: v for k, v in self.data.items() if v not in (None, "")}


def _convert(item: instruments.Item, raw: str) -> Any:
    """Posted text to the value the instrument expects; what cannot be converted is passed on
    unchanged, so the instrument reports it."""
    if raw == "":
        return None
    if item.kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if item.kind == "decimal":
        try:
            return float(raw)
        except ValueError:
            return raw
    if item.kind == "boolean":
        return {"yes": True, "no": False}.get(raw, raw)
    return raw  # choice (an option code) and text
