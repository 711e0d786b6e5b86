"""Reading the scoring and psychometrics extensions of an instrument definition (README.md
next to this file). Every clinical number must carry its source, so none can be added silently."""

from __future__ import annotations

from typing import Any

from rapport.instruments.extensions import (
    DefinitionError,
    as_number,
    as_text,
    ext_parts,
    one_part,
    sourced,
)
from rapport.instruments.model import Band, FlagRule, Item, Scale, Scoring
from rapport.instruments.psychometrics import Psychometrics, reliable_change_amount


def _links(value: Any, what: str, where: str) -> tuple[str, ...]:
    return tuple(as_text(value, what, where).split())


def _scale(ext: dict[str, Any], name: str, where: str) -> Scale:
    parts = ext_parts(ext, where)
    where = f"{where}: {name}"
    method = one_part(parts, "method", where, "sum")
    if method not in ("sum", "mean"):
        raise DefinitionError(f"{where}: method must be sum or mean, not {method!r}")
    any_answered = one_part(parts, "anyAnswered", where, False)
    max_missing = one_part(parts, "maxMissing", where, 0)
    if not isinstance(max_missing, int) or isinstance(max_missing, bool) or max_missing < 0:
        raise DefinitionError(f"{where}: maxMissing must be a whole number >= 0")
    source = one_part(parts, "missingSource", where)
    if (max_missing or any_answered) and source is None:
        raise DefinitionError(f"{where}: a missing-item allowance needs a missingSource")
    multiplier = as_number(one_part(parts, "multiplier", where, 1), "multiplier", where)
    round_prorated = one_part(parts, "roundProrated", where, False)
    if not isinstance(round_prorated, bool):
        raise DefinitionError(f"{where}: roundProrated must be true or false")
    code = None
    coding = one_part(parts, "code", where)
    if coding is not None:
        if not isinstance(coding, dict) or not coding.get("system") or not coding.get("code"):
            raise DefinitionError(f"{where}: code must be a Coding with system and code")
        code = (coding["system"], coding["code"], coding.get("display", ""))
    return Scale(
        name=name,
        label=str(one_part(parts, "label", where, name)),
        items=_links(one_part(parts, "items", where, ""), "items", where) if "items" in parts else (),
        method=method,
        multiplier=multiplier,
        max_missing=None if any_answered else max_missing,
        missing_source=source,
        code=code,
        round_prorated=round_prorated,
    )


def _scales(parts: dict[str, list[Any]], where: str) -> tuple[Scale | None, list[Scale]]:
    total = None
    if "total" in parts:
        total = _scale(one_part(parts, "total", where), "total", where)
    subscales = []
    for sub in parts.get("subscale", []):
        name = as_text(one_part(ext_parts(sub, where), "name", where), "subscale name", where)
        subscales.append(_scale(sub, name, where))
    names = [s.name for s in subscales]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{where}: subscale names must be distinct")
    return total, subscales


def _check_scale_items(scales: list[Scale], items: dict[str, Item], where: str) -> None:
    template = next((i for i in items.values() if i.template), None)
    for scale in scales:
        if not scale.items and template is None:
            raise DefinitionError(f"{where}: {scale.name} lists no items")
        for link_id in scale.items:
            item = items.get(link_id)
            if item is None or not item.scorable:
                raise DefinitionError(
                    f"{where}: {scale.name} uses {link_id!r}, which is not a scorable item"
                )
            if item.value_range is None and scale.method == "sum" and scale.max_missing:
                raise DefinitionError(f"{where}: cannot prorate unbounded item {link_id!r}")


def _reverse(parts: dict[str, list[Any]], items: dict[str, Item], where: str) -> frozenset[str]:
    if "reverse" not in parts:
        return frozenset()
    reverse = frozenset(_links(one_part(parts, "reverse", where, ""), "reverse", where))
    for link_id in reverse:
        item = items.get(link_id)
        if item is None or item.value_range is None:
            raise DefinitionError(f"{where}: reverse-keyed {link_id!r} needs a bounded item")
    return reverse


def _bands(parts: dict[str, list[Any]], has_total: bool, where: str) -> tuple[list[Band], str | None]:
    bands = []
    for band in parts.get("band", []):
        bp = ext_parts(band, where)
        bands.append(
            Band(
                as_number(one_part(bp, "min", where), "band min", where),
                as_text(one_part(bp, "label", where), "band label", where),
            )
        )
    if any(a.min >= b.min for a, b in zip(bands, bands[1:], strict=False)):
        raise DefinitionError(f"{where}: bands must be in rising order of min")
    bands_source = one_part(parts, "bandsSource", where)
    if bands and bands_source is None:
        raise DefinitionError(f"{where}: severity bands need a bandsSource")
    if bands and not has_total:
        raise DefinitionError(f"{where}: severity bands need a total")
    return bands, bands_source


def _flags(parts: dict[str, list[Any]], items: dict[str, Item], where: str) -> list[FlagRule]:
    flags = []
    for flag in parts.get("flag", []):
        fp = ext_parts(flag, where)
        link_id = as_text(one_part(fp, "item", where), "flag item", where)
        if link_id not in items or not items[link_id].scorable:
            raise DefinitionError(f"{where}: flag on {link_id!r}, which is not a scorable item")
        flags.append(
            FlagRule(
                name=as_text(one_part(fp, "name", where), "flag name", where),
                item=link_id,
                min=as_number(one_part(fp, "min", where), "flag min", where),
                source=as_text(one_part(fp, "source", where), "flag source", where),
            )
        )
    return flags


def scoring(ext: dict[str, Any] | None, items: dict[str, Item], where: str) -> Scoring:
    """The scoring extension: total, subscales, reverse keying, severity bands, flags."""
    if ext is None:
        return Scoring()
    parts = ext_parts(ext, where)
    total, subscales = _scales(parts, where)
    _check_scale_items([total, *subscales] if total else subscales, items, where)
    bands, bands_source = _bands(parts, total is not None, where)
    return Scoring(
        total=total,
        subscales=tuple(subscales),
        reverse=_reverse(parts, items, where),
        bands=tuple(bands),
        bands_source=bands_source,
        flags=tuple(_flags(parts, items, where)),
    )


def psychometrics(ext: dict[str, Any] | None, has_total: bool, where: str) -> Psychometrics | None:
    if ext is None:
        return None
    if not has_total:
        raise DefinitionError(f"{where}: psychometrics need a total")
    parts = ext_parts(ext, where)
    where = f"{where}: psychometrics"
    direction = one_part(parts, "direction", where)
    if direction not in ("lower-is-better", "higher-is-better"):
        raise DefinitionError(f"{where}: direction must be lower-is-better or higher-is-better")
    source: dict[str, str] = {}
    reliable_change, rc_source = sourced(parts, "reliableChange", where)
    sd, sd_source = sourced(parts, "sd", where)
    reliability, r_source = sourced(parts, "reliability", where)
    if reliable_change is not None and (sd is not None or reliability is not None):
        raise DefinitionError(f"{where}: give reliableChange or sd and reliability, not both")
    if (sd is None) != (reliability is None):
        raise DefinitionError(f"{where}: sd and reliability go together")
    if sd is not None and reliability is not None:
        try:
            reliable_change = reliable_change_amount(sd, reliability)
        except ValueError as e:
            raise DefinitionError(f"{where}: {e}") from None
        rc_source = f"Jacobson & Truax (1991) from SD ({sd_source}) and reliability ({r_source})"
    if reliable_change is not None:
        if reliable_change <= 0:
            raise DefinitionError(f"{where}: reliableChange must be > 0")
        source["reliable_change"] = str(rc_source)
    cutoff, cutoff_source = sourced(parts, "cutoff", where)
    if cutoff_source:
        source["cutoff"] = cutoff_source
    response, response_source = sourced(parts, "responseFraction", where)
    if response is not None:
        if not 0 < response < 1:
            raise DefinitionError(f"{where}: responseFraction must be between 0 and 1")
        source["response_fraction"] = str(response_source)
    remission, remission_source = sourced(parts, "remissionBelow", where)
    if remission_source:
        source["remission_below"] = remission_source
    higher = direction == "higher-is-better"
    if higher and (response is not None or remission is not None):
        raise DefinitionError(
            f"{where}: response and remission are defined for lower-is-better scales only"
        )
    notes = tuple(as_text(n, "note", where) for n in parts.get("note", []))
    return Psychometrics(
        higher_is_better=higher,
        reliable_change=reliable_change,
        cutoff=cutoff,
        response_fraction=response,
        remission_below=remission,
        sd=sd,
        reliability=reliability,
        source=source,
        notes=notes,
    )
