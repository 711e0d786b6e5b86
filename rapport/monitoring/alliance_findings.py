"""The findings of the alliance rules (alliance.py), with their evidence in the client's own
numbers: ruptures and repairs from the state machine's events, the lighter notices, absolute lows
and large drops in one component."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import EPS, column, runs
from rapport.monitoring.alliance_state import AllianceGroup, Scan
from rapport.monitoring.dropout import alliance_low_cutoff
from rapport.monitoring.records import EpisodeHistory, Finding
from rapport.monitoring.variability import VariabilityPrior


def _r(x: float) -> float:
    return round(float(x), 2)


@dataclass(slots=True)
class Emit:
    """Turns one instrument group's scan into findings, appended to `out`."""

    g: AllianceGroup
    st: Scan
    episodes: Sequence[EpisodeHistory]
    out: list[list[Finding]]

    def _session(self, row: int, c: int) -> int:
        return int(self.g.s_mat[row, c])

    def _basis(self, row: int, c: int) -> dict[str, Any]:
        g, st = self.g, self.st
        sessions = g.s_mat[row].tolist()
        return basis(g.instrument, float(g.x_mat[row, c]), float(st.mean_m[row, c]),
                     float(st.sd_m[row, c]), int(st.n_m[row, c]), g.min_drop, g.prior,
                     sessions, c)

    def ruptures(self, open_ruptures: dict[int, list[Finding]]) -> None:
        g, st = self.g, self.st
        last_col = (g.flat.lengths - 1).tolist()
        for row, c in st.ruptures:
            i = g.owner[row]
            repair = st.repairs.get((row, c))
            evidence = self._rupture_evidence(row, c, repair)
            replaced_at = st.superseded.get((row, c))
            if repair is not None:
                through_col = repair[0] - 1
            elif replaced_at is not None:
                through_col = replaced_at - 1
                evidence["superseded_session"] = self._session(row, replaced_at)
            else:
                through_col = last_col[row]
            finding = Finding("rupture", "warning", self._session(row, c), g.instrument,
                              evidence, self.episodes[i].episode,
                              self._session(row, through_col),
                              repair is None and replaced_at is None)
            self.out[i].append(finding)
            if finding.ongoing:
                open_ruptures.setdefault(i, []).append(finding)
            elif repair is not None:
                self.out[i].append(self._repair(row, c, repair))

    def _rupture_evidence(self, row: int, c: int,
                          repair: tuple[int, int, str] | None) -> dict[str, Any]:
        g, st = self.g, self.st
        x, mean = float(g.x_mat[row, c]), float(st.mean_m[row, c])
        evidence = self._basis(row, c)
        evidence.update({
            "sd_floor_applied": float(st.raw_sd_m[row, c]) < g.floor,
            "drop": _r(mean - x),
            "criterion": (
                "2sd" if x <= evidence["rupture_below"] + EPS else "1sd_and_components"
            ),
            "repaired_session": self._session(row, repair[0]) if repair is not None else None,
        })
        if g.comp is not None and g.comp_prior is not None:
            evidence.update(self._component_evidence(row, c))
        return evidence

    def _component_evidence(self, row: int, c: int) -> dict[str, Any]:
        g, st = self.g, self.st
        assert g.comp is not None and g.comp_prior is not None
        names = g.names
        drops = g.comp_prior[row, c] - g.comp[row, c]
        scores = g.comp[row, c]
        cz_row = st.cz_m[row, c]
        evidence: dict[str, Any] = {
            "components": {n: _r(scores[k]) for k, n in enumerate(names)
                           if not math.isnan(scores[k])},
            "component_drops": {n: _r(drops[k]) for k, n in enumerate(names)
                                if not math.isnan(drops[k])},
            "component_z": {n: _r(cz_row[k]) for k, n in enumerate(names)
                            if not math.isnan(cz_row[k])},
            "drop_distance": _r(st.dist_m[row, c]),
        }
        if not np.all(np.isnan(cz_row)):
            evidence["weakest_component"] = names[int(np.nanargmin(cz_row))]
        elif not np.all(np.isnan(drops)):
            evidence["weakest_component"] = names[int(np.nanargmax(drops))]
        elif not np.all(np.isnan(scores)):
            evidence["weakest_component"] = names[int(np.nanargmin(scores))]
        return evidence

    def _repair(self, row: int, c: int, repair: tuple[int, int, str]) -> Finding:
        g, st = self.g, self.st
        repaired_at, back_at, rule = repair
        at = self._session(row, repaired_at)
        return Finding(
            "rupture_repaired", "info", at, g.instrument,
            {
                "instrument": g.instrument,
                "rupture_session": self._session(row, c),
                "score": float(g.x_mat[row, repaired_at]),
                "usual": _r(st.mean_m[row, c]),
                "sd": _r(st.sd_m[row, c]),
                "rupture_score": float(g.x_mat[row, c]),
                "sessions_to_repair": at - self._session(row, c),
                "back_since": self._session(row, back_at),
                "rule": rule,
            },
            self.episodes[g.owner[row]].episode, at, False,
        )

    def dips(self) -> None:
        """Lighter notices (1 SD), as runs of consecutive sessions."""
        g = self.g
        col = column(g.flat)
        sessions = g.flat.session.tolist()
        r = runs(g.flat.grp, self.st.dip_m[g.flat.grp, col])
        for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                       strict=True):
            row, c = int(g.flat.grp[start]), int(col[start])
            self.out[g.owner[row]].append(Finding(
                "alliance_dip", "info", sessions[start], g.instrument, self._basis(row, c),
                self.episodes[g.owner[row]].episode, sessions[end], ongoing,
            ))

    def lows(self) -> None:
        """Absolute low: a total at or below the instrument's low cutoff."""
        g = self.g
        cutoff = alliance_low_cutoff(g.lo, g.hi, g.own_low)
        r = runs(g.flat.grp, (g.flat.value <= cutoff + EPS).astype(np.int8))
        values, sessions = g.flat.value.tolist(), g.flat.session.tolist()
        for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                       strict=True):
            i = g.owner[int(g.flat.grp[start])]
            self.out[i].append(Finding(
                "alliance_low", "warning", sessions[start], g.instrument,
                {"instrument": g.instrument, "score": values[start], "cutoff": cutoff},
                self.episodes[i].episode, sessions[end], ongoing,
            ))

    def component_drops(self) -> None:
        """A large drop in one component, against that component's own earlier mean."""
        g = self.g
        if g.comp is None or g.comp_prior is None or g.comp_drop is None:
            return
        rows, width = g.x_mat.shape
        k_n = len(g.names)
        drop = g.comp_prior - g.comp
        # Lay out as (series, component) runs over session columns.
        lv = g.comp_drop.astype(np.int8).transpose(0, 2, 1).reshape(rows * k_n, width)
        present = np.repeat(~np.isnan(g.x_mat), k_n, axis=0).ravel()
        grp2 = np.repeat(np.arange(rows * k_n), width)[present]
        pos_col = np.tile(np.arange(width), rows * k_n)[present]
        r = runs(grp2, lv.ravel()[present])
        for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                       strict=True):
            row, k = divmod(int(grp2[start]), k_n)
            c, c_end = int(pos_col[start]), int(pos_col[end])
            i = g.owner[row]
            self.out[i].append(Finding(
                "component_drop", "info", self._session(row, c),
                f"{g.instrument}/{g.names[k]}",
                {"instrument": g.instrument, "component": g.names[k],
                 "score": _r(g.comp[row, c, k]), "usual": _r(g.comp_prior[row, c, k]),
                 "drop": _r(drop[row, c, k]),
                 "threshold": th.COMPONENT_DROP_FRACTION * g.c_span},
                self.episodes[i].episode, self._session(row, c_end), ongoing,
            ))


def basis(instrument: str, x: float, mean: float, sd: float, n: int, min_drop: float,
          prior: VariabilityPrior, sessions: list[float], c: int) -> dict[str, Any]:
    """Why an alliance finding fired, in the client's own numbers: this session's score, the
    usual level and spread it was judged against, the lines it crossed, what the spread was
    shrunk towards, and how many sessions had no rating before this one (numbers only: the
    alerts app keeps no free text in evidence; `explain.why` words it for a page)."""
    previous = int(sessions[c - 1]) if c > 0 else None
    return {
        "instrument": instrument,
        "score": x,
        "usual": _r(mean),
        "sd": _r(sd),
        "z": _r((x - mean) / sd),
        "earlier_sessions": n,
        "dip_below": _r(mean - max(th.DIP_SD * sd, min_drop)),
        "rupture_below": _r(mean - max(th.RUPTURE_SD * sd, min_drop)),
        "min_drop": _r(min_drop),
        "sd_prior": prior.to_dict(),
        "previous_rated_session": previous,
        "unrated_sessions_before": (int(sessions[c]) - previous - 1) if previous else 0,
    }
