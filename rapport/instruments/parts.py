"""The parts of an instrument (items, display text, scales, bands, flags) and the result of
scoring one response. `model.Instrument` puts them together; these are plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, NamedTuple

ItemKind = Literal["choice", "integer", "decimal", "boolean", "text"]
Number = int | float


class UnknownInstrument(KeyError):
    """No instrument with that id in the library (or the practice's directory)."""

    def __init__(self, instrument_id: str, known: Sequence[str] = ()) -> None:
        super().__init__(instrument_id)
        self.instrument_id = instrument_id
        self.known = tuple(known)

    def __str__(self) -> str:
        message = f"unknown instrument {self.instrument_id!r}"
        if self.known:
            message += f"; known instruments: {', '.join(self.known)}"
        return message


class AnswerError(NamedTuple):
    """One problem with a response, specific enough to show next to its question.

    `link_id` is None for problems with the response as a whole (not an object, too many
    missing items). `value` is the value given (None when nothing was given). `allowed`
    describes what the item accepts.
    """

    link_id: str | None
    value: Any
    message: str
    allowed: str | None = None

    def __str__(self) -> str:
        text = f"{self.link_id}: {self.message}" if self.link_id else self.message
        return f"{text}; allowed: {self.allowed}" if self.allowed else text


class Severity(NamedTuple):
    label: str
    band: int  # 0 for the lowest band


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    display: str
    value: Number  # the ordinal value (FHIR SDC `ordinalValue`)


def format_number(x: Number) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True, slots=True)
class Item:
    link_id: str
    text: str
    kind: ItemKind
    fhir_type: str
    required: bool = False
    options: tuple[Option, ...] = ()
    min_value: Number | None = None
    max_value: Number | None = None
    decimal_places: int | None = None  # decimal items only
    template: bool = False  # goal-progress: one concrete item per goal id

    @property
    def scorable(self) -> bool:
        return self.kind != "text"

    def allowed(self) -> str:
        """What this item accepts, in words, for error messages."""
        if self.kind == "choice":
            values = ", ".join(format_number(o.value) for o in self.options)
            codes = ", ".join(o.code for o in self.options)
            return f"one of the values {values} or the codes {codes}"
        if self.kind in ("integer", "decimal"):
            noun = "a whole number" if self.kind == "integer" else "a number"
            bounds = ""
            if self.min_value is not None and self.max_value is not None:
                bounds = f" from {format_number(self.min_value)} to {format_number(self.max_value)}"
            elif self.min_value is not None:
                bounds = f" of at least {format_number(self.min_value)}"
            elif self.max_value is not None:
                bounds = f" of at most {format_number(self.max_value)}"
            places = ""
            if self.kind == "decimal" and self.decimal_places is not None:
                places = f" with at most {self.decimal_places} decimal place"
                places += "" if self.decimal_places == 1 else "s"
            return noun + bounds + places
        if self.kind == "boolean":
            return "true (yes) or false (no)"
        return "text"

    @property
    def value_range(self) -> tuple[Number, Number] | None:
        """Lowest and highest scorable value, used for reverse keying."""
        if self.kind == "choice":
            values = [o.value for o in self.options]
            return min(values), max(values)
        if self.kind == "boolean":
            return 0, 1
        if self.min_value is not None and self.max_value is not None:
            return self.min_value, self.max_value
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "linkId": self.link_id,
            "type": self.fhir_type,
            "text": self.text,
            "required": self.required,
        }
        if self.options:
            data["answerOptions"] = [
                {"code": o.code, "display": o.display, "ordinalValue": o.value}
                for o in self.options
            ]
        if self.min_value is not None:
            data["minValue"] = self.min_value
        if self.max_value is not None:
            data["maxValue"] = self.max_value
        if self.decimal_places is not None:
            data["maxDecimalPlaces"] = self.decimal_places
        if self.template:
            data["template"] = True
        return data


@dataclass(frozen=True, slots=True)
class Display:
    """Text shown to the respondent but not answered (FHIR `display` item): a stem or an
    instruction, e.g. PHQ-9's "Over the last 2 weeks, how often have you been bothered by any
    of the following problems?". `position` is the number of answerable items before it, so a
    form shows it just before item `position` (or after the last item when at the end)."""

    link_id: str
    text: str
    position: int

    def to_json(self) -> dict[str, Any]:
        return {"linkId": self.link_id, "type": "display", "text": self.text}


@dataclass(frozen=True, slots=True)
class Scale:
    """A total or a subscale: which items, how they combine, how many may be missing."""

    name: str
    label: str
    items: tuple[str, ...]
    method: Literal["sum", "mean"] = "sum"
    multiplier: float = 1
    max_missing: int | None = 0  # None: any number, the mean of the answered items
    missing_source: str | None = None
    code: tuple[str, str, str] | None = None  # (system, code, display), e.g. LOINC
    round_prorated: bool = False  # a prorated total is rounded to a whole number (half up)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["items"] = list(self.items)
        code = data.pop("code")
        if code:
            data["code"] = dict(zip(("system", "code", "display"), code, strict=True))
        return data


@dataclass(frozen=True, slots=True)
class Band:
    min: float  # inclusive; a band ends where the next one starts
    label: str


@dataclass(frozen=True, slots=True)
class FlagRule:
    """Raise flag `name` when item `item` is answered with a value >= `min` (before reverse keying)."""

    name: str
    item: str
    min: float
    source: str


@dataclass(frozen=True, slots=True)
class Scoring:
    total: Scale | None = None
    subscales: tuple[Scale, ...] = ()
    reverse: frozenset[str] = frozenset()
    bands: tuple[Band, ...] = ()
    bands_source: str | None = None
    flags: tuple[FlagRule, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json() if self.total else None,
            "subscales": [s.to_json() for s in self.subscales],
            "reverse": sorted(self.reverse),
            "bands": [{"band": i, **asdict(b)} for i, b in enumerate(self.bands)],
            "bands_source": self.bands_source,
            "flags": [asdict(f) for f in self.flags],
        }


@dataclass(slots=True)
class Score:
    """The result of scoring one response.

    - `complete`: every required item has a valid answer and nothing was wrong;
    - `total`: None when the response has errors or more missing items than the instrument's
      published limit (no limit published: no missing items allowed);
    - `severity`: the band the total falls in, numbered from 0 for the lowest;
    - `subscales`: name -> score, for the subscales that could be scored;
    - `flags`: strings like "risk:phq9-9" (kind, colon, detail), raised from the valid answers
      even when other answers have errors, so a risk answer is never lost;
    - `errors`: one `AnswerError` per problem.
    """

    instrument: str
    complete: bool
    total: Number | None
    severity: Severity | None
    subscales: dict[str, Number]
    flags: list[str]
    errors: list[AnswerError]
    answers: dict[str, Any] = field(default_factory=dict)  # the valid answers, as scored values

    def to_json(self) -> dict[str, Any]:
        """The `rapport score` output for this response."""
        return {
            "instrument": self.instrument,
            "complete": self.complete,
            "total": self.total,
            "severity": self.severity._asdict() if self.severity else None,
            "subscales": self.subscales,
            "flags": self.flags,
            "errors": [str(e) for e in self.errors],
        }


def round2(x: float) -> Number:
    """A score to two decimals; a whole number as an int."""
    r = round(x, 2)
    return int(r) if r.is_integer() else r


def answer_error(item: Item, raw: Any, why: str | None = None) -> AnswerError:
    """The error for an answer `item` does not accept; `why` when the caller knows better."""
    if why is None:
        if isinstance(raw, str) and item.kind != "choice":
            why = (
                "text given where a number is expected"
                if item.kind != "boolean"
                else ("text given where true or false is expected")
            )
        elif isinstance(raw, bool) and item.kind != "boolean":
            why = "true/false given where a number is expected"
        elif isinstance(raw, list | dict):
            why = f"{kind_of(raw)} is not an answer"
        else:
            why = "not an allowed answer"
    return AnswerError(item.link_id, raw, f"{why}: {raw!r}", item.allowed())


def kind_of(value: Any) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
