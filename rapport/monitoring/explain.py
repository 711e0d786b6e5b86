"""Why a finding fired, in one sentence of the client's own numbers, from its evidence.

The evidence carries numbers only (the alerts app keeps no free text in it); pages word them
with `why(kind, evidence)`: this session, the client's usual level and spread, and the line the
session crossed. None for kinds whose evidence has no such numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _n(x: Any) -> str:
    return f"{float(x):g}"


def why(kind: str, evidence: Mapping[str, Any]) -> str | None:
    e = evidence
    try:
        if kind in ("rupture", "alliance_dip") and "usual" in e and "sd" in e:
            line, what = (
                (e.get("rupture_below"), "a rupture") if kind == "rupture"
                else (e.get("dip_below"), "a notice")
            )
            text = (f"This session {_n(e['score'])}; usual level {_n(e['usual'])}, spread "
                    f"{_n(e['sd'])} over {int(e.get('earlier_sessions', 0))} earlier sessions")
            if line is not None:
                text += f"; {_n(line)} or lower is {what}"
            if kind == "rupture" and e.get("criterion") == "1sd_and_components":
                text += (f" (or one spread lower with several parts of the relationship down: "
                         f"drop distance {_n(e.get('drop_distance', 0))})")
            return text + "."
        if kind == "not_on_track" and "expected" in e:
            return (f"This session {_n(e['score'])}; expected {_n(e['expected'])} by now from "
                    f"an intake of {_n(e['intake'])} (spread {_n(e['tolerance_sd'])}); beyond "
                    f"{_n(e['warning_beyond'])} is off track.")
        if kind == "reliable_deterioration" and "intake" in e:
            return (f"This session {_n(e['score'])} against {_n(e['intake'])} at intake: a "
                    f"change of {_n(e['change'])}, at least the reliable change of "
                    f"{_n(e['reliable_change'])}.")
        if kind == "component_drop" and "usual" in e:
            return (f"{e.get('component', 'This part')} {_n(e['score'])} this session against "
                    f"a usual {_n(e['usual'])}: down {_n(e['drop'])}, at least "
                    f"{_n(e['threshold'])}.")
    except (KeyError, TypeError, ValueError):
        return None
    return None
