"""Instruments, their items, answer validation and scoring.

An `Instrument` is built from a FHIR Questionnaire by `rapport.instruments.definition`; this
module knows nothing about files or FHIR. Everything an answer is checked against is
precomputed when the instrument is built (a lookup table per choice item, bounds per number
item), so scoring a response is a handful of dictionary look-ups: see `Instrument.score`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from rapport.instruments.parts import (
    AnswerError,
    Band,
    Display,
    FlagRule,
    Item,
    ItemKind,
    Number,
    Option,
    Scale,
    Score,
    Scoring,
    Severity,
    UnknownInstrument,
    answer_error,
    format_number,
    kind_of,
    round2,
)
from rapport.instruments.psychometrics import Psychometrics

# The parts are re-exported: the rest of the app imports them from here.
__all__ = [
    "AnswerError", "Band", "Display", "FlagRule", "Instrument", "Item", "ItemKind", "Number",
    "Option", "Scale", "Score", "Scoring", "Severity", "UnknownInstrument", "format_number",
]
_fmt = format_number  # the former private name, still used by workspace/said.py


_MISSING = object()
_identity = id  # Instrument.__init__ takes a parameter named `id`


class Instrument:
    """A questionnaire with its scoring rules. Build one with `rapport.instruments.load`."""

    def __init__(
        self,
        *,
        id: str,
        title: str,
        version: str,
        items: Sequence[Item],
        scoring: Scoring,
        psychometrics: Psychometrics | None = None,
        alliance: bool = False,
        validated: bool = True,
        respondent: str | None = None,
        sources: Sequence[str] = (),
        definition: Mapping[str, Any] | None = None,
        displays: Sequence[Display] = (),
    ) -> None:
        self.id = id
        self.title = title
        self.version = version
        self.items: tuple[Item, ...] = tuple(items)
        self.scoring = scoring
        self.psychometrics = psychometrics
        self.alliance = alliance
        self.validated = validated
        self.respondent = respondent
        self.sources = tuple(sources)
        self.definition = definition or {}
        self.displays: tuple[Display, ...] = tuple(displays)
        self.template: Item | None = next((i for i in self.items if i.template), None)
        self._by_id = {i.link_id: i for i in self.items if not i.template}
        self._required = frozenset(i.link_id for i in self.items if i.required and not i.template)
        # Choice items: one table from every accepted answer (ordinal value or code) to the
        # ordinal value. Integral floats hash like ints, so 2.0 finds 2 and 2.5 finds nothing.
        self._tables: dict[str, dict[Any, Number]] = {}
        for item in self.items:
            if item.kind == "choice":
                table: dict[Any, Number] = {}
                for o in item.options:
                    table[o.value] = o.value
                    table[o.code] = o.value
                self._tables[item.link_id] = table
        ranges = {i.link_id: i.value_range for i in self.items}
        self._reverse_base: dict[str, Number] = {}
        for link_id in scoring.reverse:
            bounds = ranges[link_id]
            assert bounds is not None  # checked when the definition is loaded
            self._reverse_base[link_id] = bounds[0] + bounds[1]
        # Scales that touch a reverse-keyed item take the general path in _scale().
        self._slow = frozenset(
            _identity(s)
            for s in (scoring.total, *scoring.subscales)
            if s is not None and not scoring.reverse.isdisjoint(s.items)
        )
        self._flags = tuple((f.item, f.min, f.name) for f in scoring.flags)
        self._bands = tuple((b.min, Severity(b.label, n)) for n, b in enumerate(scoring.bands))

    def __repr__(self) -> str:
        return f"<Instrument {self.id} {self.version}>"

    def replace(self, **changes: Any) -> Instrument:
        """A copy with `changes` to the arguments of __init__ (as dataclasses.replace does)."""
        return Instrument(**{name: getattr(self, name) for name in _FIELDS} | changes)

    def item(self, link_id: str) -> Item:
        return self._by_id[link_id]

    @property
    def short_title(self) -> str:
        """The name people use: the abbreviation a title ends with ("PHQ-9" from "Patient
        Health Questionnaire (PHQ-9)"), else the whole title."""
        title = self.title
        if title.endswith(")") and " (" in title:
            return title[title.rindex(" (") + 2 : -1]
        return title

    @property
    def critical_items(self) -> dict[str, float]:
        """linkId -> the lowest answer value that raises a flag on it (e.g. PHQ-9 item 9 from 1):
        the items a clinician reads first (OQ-Analyst's "critical items")."""
        return {f.item: f.min for f in self.scoring.flags}

    @property
    def layout(self) -> list[Item | Display]:
        """Every item and display text in the published order, as a form shows them."""
        out: list[Item | Display] = []
        displays = sorted(self.displays, key=lambda d: d.position)
        d = 0
        for n, item in enumerate(self.items):
            while d < len(displays) and displays[d].position <= n:
                out.append(displays[d])
                d += 1
            out.append(item)
        out.extend(displays[d:])
        return out

    def score_range(self, scale: Scale | None = None) -> tuple[float, float] | None:
        """The lowest and highest possible value of a total or subscale (the total by default),
        from its items' ranges; None when it has no total or an item has no bounded range."""
        scale = scale or self.scoring.total
        if scale is None:
            return None
        try:
            ranges = [self.item(i).value_range for i in scale.items]
        except KeyError:
            return None
        if not ranges or any(r is None for r in ranges):
            return None
        lows, highs = [float(r[0]) for r in ranges], [float(r[1]) for r in ranges]
        lo, hi = (min(lows), max(highs)) if scale.method == "mean" else (sum(lows), sum(highs))
        return lo * scale.multiplier, hi * scale.multiplier

    # -- answers -----------------------------------------------------------------------------

    def _check(self, item: Item, raw: Any) -> tuple[Any, AnswerError | None]:
        """The scored value of one answer, or an error. `raw` is not None."""
        cls = raw.__class__
        kind = item.kind
        if kind == "choice":
            if cls is int or cls is str or cls is float:
                value = self._tables[item.link_id].get(raw, _MISSING)
                if value is not _MISSING:
                    return value, None
                if cls is float and not raw.is_integer():
                    why = "a decimal given where a whole number is expected"
                    return None, answer_error(item, raw, why)
            return None, answer_error(item, raw)
        if kind == "integer" or kind == "decimal":
            if cls is int or cls is float:
                if cls is float:
                    if not math.isfinite(raw):
                        return None, answer_error(item, raw)
                    if kind == "integer":
                        if not raw.is_integer():
                            return None, answer_error(
                                item, raw, "a decimal given where a whole number is expected"
                            )
                        raw = int(raw)
                    elif item.decimal_places is not None and round(raw, item.decimal_places) != raw:
                        return None, answer_error(item, raw, "too many decimal places")
                if (item.min_value is not None and raw < item.min_value) or (
                    item.max_value is not None and raw > item.max_value
                ):
                    return None, answer_error(item, raw, "out of range")
                return raw, None
            return None, answer_error(item, raw)
        if kind == "boolean":
            if cls is bool:
                return raw, None
            return None, answer_error(item, raw)
        if cls is str:
            return raw, None
        return None, answer_error(item, raw, "not text")

    def resolve(self, answers: Mapping[str, Any]) -> Instrument:
        """The instrument that scores these answers: itself, or for a template instrument
        (goal-progress) the concrete instrument for the linkIds given."""
        if self.template is None:
            return self
        return self.expand(tuple(k for k in answers if isinstance(k, str) and k))

    def validate(self, answers: Any) -> list[AnswerError]:
        """Every problem with these answers; empty when they can be scored."""
        return self.score(answers).errors

    def score(self, answers: Any) -> Score:
        """Validate and score one response: a mapping of linkId to answer value.

        A choice answer may be its ordinal value or its option code; a missing answer is an
        absent key, None, or empty text.
        """
        if answers.__class__ is not dict and not isinstance(answers, Mapping):
            error = AnswerError(
                None, answers, f"answers must be an object of linkId to value, not {kind_of(answers)}"
            )
            return Score(self.id, False, None, None, {}, [], [error])
        if self.template is not None:
            return self.resolve(answers).score(answers)
        values, errors = self._values(answers)
        flags = [name for link_id, least, name in self._flags
                 if (value := values.get(link_id)) is not None and value >= least]
        if errors:
            return Score(self.id, False, None, None, {}, flags, errors, values)
        total = self._total(values, errors)
        subscales: dict[str, Number] = {}
        for scale in self.scoring.subscales:
            result = self._scale(scale, values)
            if result is not None:
                subscales[scale.name] = result
        complete = not errors and self._required <= values.keys()
        return Score(self.id, complete, total, self._severity(total), subscales, flags, errors,
                     values)

    def _values(self, answers: Mapping[Any, Any]) -> tuple[dict[str, Any], list[AnswerError]]:
        """The valid answers as scored values, and one error per invalid or unknown one."""
        by_id = self._by_id
        tables = self._tables
        values: dict[str, Any] = {}
        errors: list[AnswerError] = []
        for link_id, raw in answers.items():
            # Fast path: a choice answer given as a whole number or a code.
            table = tables.get(link_id)
            if table is not None and (raw.__class__ is int or raw.__class__ is str):
                value = table.get(raw)
                if value is not None:
                    values[link_id] = value
                    continue
            item = by_id.get(link_id)
            if item is None:
                errors.append(
                    AnswerError(
                        str(link_id), raw, "unknown linkId", f"the items {', '.join(by_id)}"
                    )
                )
                continue
            if raw is None or raw == "":
                continue
            value, error = self._check(item, raw)
            if error is None:
                values[link_id] = value
            else:
                errors.append(error)
        return values, errors

    def _total(self, values: dict[str, Any], errors: list[AnswerError]) -> Number | None:
        """The total, or None (with an error) when too many items are missing for one."""
        total_rule = self.scoring.total
        if total_rule is None:
            return None
        total = self._scale(total_rule, values)
        if total is None:
            missing = [i for i in total_rule.items if i not in values]
            limit = total_rule.max_missing
            errors.append(
                AnswerError(
                    None,
                    None,
                    f"too many missing items for a total: {len(missing)} missing"
                    + (f" ({', '.join(missing)})" if missing else ""),
                    "at least one answered item" if limit is None else f"at most {limit} missing",
                )
            )
        return total

    def _severity(self, total: Number | None) -> Severity | None:
        severity = None
        if total is not None:
            for least, band in self._bands:
                if total >= least:
                    severity = band
                else:
                    break
        return severity

    def _scale(self, scale: Scale, values: dict[str, Any]) -> Number | None:
        if scale.method == "sum" and scale.multiplier == 1 and id(scale) not in self._slow:
            try:  # every item answered and none reverse-keyed: the common case
                if scale.items:
                    fast = sum(map(values.__getitem__, scale.items))
                    return fast if fast.__class__ is int else round2(fast)
            except KeyError:
                pass
        total: Number = 0
        answered = 0
        reverse = self._reverse_base
        for link_id in scale.items:
            value = values.get(link_id)
            if value is None:
                continue
            if link_id in reverse:
                value = reverse[link_id] - value
            total += value
            answered += 1
        n = len(scale.items)
        if answered == 0 or (scale.max_missing is not None and n - answered > scale.max_missing):
            return None
        if scale.method == "mean":
            result: Number = total / answered
        elif answered < n:
            result = total * n / answered  # prorate: the mean of the answered items times n
            if scale.round_prorated:
                # Only where the definition's source records a prorated total as a whole
                # number; half up, 12.5 -> 13. The NHS Data Dictionary's PHQ-9 rule
                # substitutes the mean for each missing item and does not round.
                result = math.floor(result + 0.5)
        else:
            result = total
        if scale.multiplier != 1:
            result = result * scale.multiplier
        return result if result.__class__ is int else round2(result)

    # -- goal-progress style templates -------------------------------------------------------

    def expand(self, link_ids: Sequence[str] | Mapping[str, str]) -> Instrument:
        """The concrete instrument for a template instrument (goal-progress): one item per
        linkId, each a copy of the template item. A mapping gives each item its text (the
        goal's title). The total is the template's total rule over the new items, and each item
        is also reported as a subscale keyed by its linkId."""
        if self.template is None:
            raise ValueError(f"{self.id} has no template item")
        if isinstance(link_ids, Mapping):
            return _expand(self, tuple(link_ids.items()))
        return _expand(self, tuple((k, "") for k in link_ids))

    # -- description ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The `rapport instruments describe` output."""
        return {
            "id": self.id,
            "title": self.title,
            "version": self.version,
            "validated": self.validated,
            "alliance": self.alliance,
            "respondent": self.respondent,
            "items": [i.to_json() for i in self.items],
            "displays": [{**d.to_json(), "position": d.position} for d in self.displays],
            "scoring": self.scoring.to_json(),
            "psychometrics": self.psychometrics.to_json() if self.psychometrics else None,
            "sources": list(self.sources),
        }


@lru_cache(maxsize=256)
def _expand(template: Instrument, pairs: tuple[tuple[str, str], ...]) -> Instrument:
    assert template.template is not None
    base = template.template
    link_ids = tuple(k for k, _ in pairs)
    seen: set[str] = set()
    for link_id in link_ids:
        if not link_id or link_id in seen:
            raise ValueError(f"linkIds must be distinct and non-empty, not {link_ids!r}")
        seen.add(link_id)
    items = [i for i in template.items if not i.template]
    # Each goal's item is the template item with the goal's linkId and wording.
    items += [replace(base, link_id=k, text=text or base.text, template=False) for k, text in pairs]
    rules = template.scoring
    total = replace(rules.total, items=link_ids) if rules.total is not None else None
    subscales = tuple(Scale(name=k, label=k, items=(k,)) for k in link_ids)
    return template.replace(items=items, scoring=Scoring(total=total, subscales=subscales))


_FIELDS = tuple(inspect.signature(Instrument).parameters)  # what replace() copies
