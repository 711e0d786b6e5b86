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


def dropout_reason(reason: Mapping[str, Any], gettext: Callable[[str], str] = _same) -> str:
    """One reason behind a drop-out risk (`DropoutReason.to_dict()`), in words."""
    _, r = gettext, reason
    code = str(r.get("code", ""))
    try:
        if code == "no_show":
            return _("Sessions missed without notice: %(count)s") % {"count": int(r["count"])}
        if code == "late_cancellation":
            return _("Sessions cancelled late: %(count)s") % {"count": int(r["count"])}
        if code == "missed_checkins":
            return _("Check-ins not answered: %(missed)s of the last %(due)s") % {
                "missed": int(r["missed"]), "due": int(r["due"])}
        if code == "low_early_alliance":
            return _("Low relationship ratings in the first sessions (average %(mean)s; "
                     "%(cutoff)s or lower is low)") % {"mean": _n(r["mean"]),
                                                       "cutoff": _n(r["cutoff"])}
        if code == "unrepaired_rupture":
            return _("A drop in the relationship not yet repaired (since session %(session)s)") \
                % {"session": int(r["since_session"])}
    except (KeyError, TypeError, ValueError):
        pass
    return code.replace("_", " ").capitalize() or _("Another reason")


def _dropout(e: Mapping[str, Any], _: Callable[[str], str]) -> str:
    reasons = [dropout_reason(r, _) for r in e.get("reasons") or () if isinstance(r, Mapping)]
    text = _("About %(chance)s in 100, against about %(base)s in 100 for clients in general") % {
        "chance": round(float(e["probability"]) * 100), "base": round(float(e["base_rate"]) * 100)}
    if reasons:
        text += _(", because of: %(reasons)s") % {"reasons": "; ".join(r[0].lower() + r[1:]
                                                                     for r in reasons)}
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
        if kind == "dropout_risk" and "probability" in e and "base_rate" in e:
            return _dropout(e, _)
        if kind == "component_drop" and "usual" in e:
            return _("%(part)s %(score)s this session against a usual %(usual)s: down "
                     "%(drop)s, at least %(threshold)s.") % {
                "part": e.get("component") or _("This part"), "score": _n(e["score"]),
                "usual": _n(e["usual"]), "drop": _n(e["drop"]),
                "threshold": _n(e["threshold"])}
    except (KeyError, TypeError, ValueError):
        return None
    return None
