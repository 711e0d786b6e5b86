"""Why a finding fired, in one sentence of the client's own numbers, from its evidence.

The evidence carries numbers only (the alerts app keeps no free text in it); pages word them
with `why(kind, evidence, gettext)`: this session, the client's usual level and spread, and the
line the session crossed. None for kinds whose evidence has no such numbers.

The core imports no Django, so the caller passes its translation function (Django's `gettext`);
the sentences are marked with `_()` so that `makemessages` collects them, and their numbers are
named placeholders a translation can reorder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _n(x: Any) -> str:
    return f"{float(x):g}"


def _same(text: str) -> str:
    return text


def _alliance(kind: str, e: Mapping[str, Any], _: Callable[[str], str]) -> str:
    text = _("This session %(score)s; usual level %(usual)s, spread %(sd)s over %(n)s earlier "
             "sessions") % {"score": _n(e["score"]), "usual": _n(e["usual"]), "sd": _n(e["sd"]),
                            "n": int(e.get("earlier_sessions", 0))}
    line = e.get("rupture_below") if kind == "rupture" else e.get("dip_below")
    if line is not None:
        text += (_("; %(line)s or lower is a rupture") if kind == "rupture"
                 else _("; %(line)s or lower is a notice")) % {"line": _n(line)}
    if kind == "rupture" and e.get("criterion") == "1sd_and_components":
        text += _(" (or one spread lower with several parts of the relationship down: drop "
                  "distance %(distance)s)") % {"distance": _n(e.get("drop_distance", 0))}
    return text + "."


def why(kind: str, evidence: Mapping[str, Any],
        gettext: Callable[[str], str] = _same) -> str | None:
    e, _ = evidence, gettext
    try:
        if kind in ("rupture", "alliance_dip") and "usual" in e and "sd" in e:
            return _alliance(kind, e, _)
        if kind == "not_on_track" and "expected" in e:
            return _("This session %(score)s; expected %(expected)s by now from an intake of "
                     "%(intake)s (spread %(sd)s); beyond %(line)s is off track.") % {
                "score": _n(e["score"]), "expected": _n(e["expected"]),
                "intake": _n(e["intake"]), "sd": _n(e["tolerance_sd"]),
                "line": _n(e["warning_beyond"])}
        if kind == "reliable_deterioration" and "intake" in e:
            return _("This session %(score)s against %(intake)s at intake: a change of "
                     "%(change)s, at least the reliable change of %(rc)s.") % {
                "score": _n(e["score"]), "intake": _n(e["intake"]),
                "change": _n(e["change"]), "rc": _n(e["reliable_change"])}
        if kind == "component_drop" and "usual" in e:
            return _("%(part)s %(score)s this session against a usual %(usual)s: down "
                     "%(drop)s, at least %(threshold)s.") % {
                "part": e.get("component") or _("This part"), "score": _n(e["score"]),
                "usual": _n(e["usual"]), "drop": _n(e["drop"]),
                "threshold": _n(e["threshold"])}
    except (KeyError, TypeError, ValueError):
        return None
    return None
