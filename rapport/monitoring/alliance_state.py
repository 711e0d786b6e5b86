"""The shapes the alliance rules work on (alliance.py fills them, alliance_findings.py reads
them): one instrument's series as matrices, and the rupture state machine's state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import Flat
from rapport.monitoring.variability import VariabilityPrior


@dataclass(slots=True)
class AllianceGroup:
    """The series of one instrument (rows) by session column, and the rules' numbers."""

    instrument: str
    lo: float
    hi: float
    own_low: float | None
    c_span: float
    prior: VariabilityPrior
    floor: float
    min_drop: float
    min_prior: int
    flat: Flat
    owner: list[int]  # episode index of each row
    x_mat: np.ndarray  # totals, NaN where a row has no more sessions
    s_mat: np.ndarray  # session numbers, -1 where none
    names: list[str]  # component names, sorted
    comp: np.ndarray | None  # (row, column, component), NaN where missing
    comp_prior: np.ndarray | None  # each component's mean over earlier sessions (all of them)
    comp_drop: np.ndarray | None  # a large drop in one component (component_drop)

    @property
    def min_dip(self) -> float:
        return self.min_drop * th.MIN_DIP_STEPS / th.MIN_DROP_STEPS


@dataclass(slots=True)
class Scan:
    """The state of every series (rows), and what each session column showed.

    The total and the components side by side (column 0 the total), so that one set of
    operations keeps the usual level of each: count, sum and sum of squares of the sessions that
    count as usual (s_*), of the sessions inside the open rupture (r_*, for settling), and the
    usual level and SD at the rupture's start (r_lvl, r_sds: the level a repair must reach).
    """

    vals0: np.ndarray  # (row, column, 1 + components), 0 where missing
    ok_m: np.ndarray  # where a value is present
    prior_v: np.ndarray  # prior variance of the total and of each component
    w: np.ndarray  # prior weights
    floor_v: np.ndarray  # SD floors
    s_n: np.ndarray
    s_1: np.ndarray
    s_2: np.ndarray
    r_n: np.ndarray
    r_1: np.ndarray
    r_2: np.ndarray
    # For the item spread (variability.py `item_ratio`): over the same sessions as s_* and r_*,
    # those with every component answered: their count and the sum of squares of their
    # component sums (with s_1 and s_2 of the components, the items' two-way residual).
    s_m: np.ndarray
    s_q: np.ndarray
    r_m: np.ndarray
    r_q: np.ndarray
    r_lvl: np.ndarray
    r_sds: np.ndarray
    in_r: np.ndarray
    settled: np.ndarray
    r_col: np.ndarray
    back_col: np.ndarray  # first session of a return not yet confirmed, -1: none
    mean_m: np.ndarray
    sd_m: np.ndarray
    raw_sd_m: np.ndarray
    n_m: np.ndarray
    dist_m: np.ndarray
    cz_m: np.ndarray
    dip_m: np.ndarray
    ruptures: list[tuple[int, int]] = field(default_factory=list)  # (row, col)
    # (row, rupture col) -> (repair col, first col back, rule)
    repairs: dict[tuple[int, int], tuple[int, int, str]] = field(default_factory=dict)
    superseded: dict[tuple[int, int], int] = field(default_factory=dict)  # -> new rupture col

    @classmethod
    def start(cls, g: AllianceGroup) -> Scan:
        rows, width = g.x_mat.shape
        k_n = len(g.names)
        vals = (np.concatenate([g.x_mat[:, :, None], g.comp], axis=2) if g.comp is not None
                else g.x_mat[:, :, None])
        ok_m = ~np.isnan(vals)
        c_prior_var = (th.COMPONENT_SD_PRIOR_FRACTION * g.c_span) ** 2
        sums = [np.zeros((rows, 1 + k_n)) for _ in range(6)]
        return cls(
            np.where(ok_m, vals, 0.0), ok_m,
            np.array([g.prior.sd**2] + [c_prior_var] * k_n),
            np.array([g.prior.weight] + [th.SD_PRIOR_WEIGHT] * k_n),
            np.array([g.floor] + [th.SD_FLOOR_FRACTION * g.c_span] * k_n),
            *sums, *(np.zeros(rows) for _ in range(4)),
            np.full((rows, 1 + k_n), np.nan), np.full((rows, 1 + k_n), np.nan),
            np.zeros(rows, dtype=bool), np.zeros(rows, dtype=bool),
            np.full(rows, -1, dtype=np.int64), np.full(rows, -1, dtype=np.int64),
            np.full((rows, width), np.nan), np.full((rows, width), np.nan),
            np.full((rows, width), np.nan), np.zeros((rows, width), dtype=np.int64),
            np.zeros((rows, width)), np.full((rows, width, k_n), np.nan),
            np.zeros((rows, width), dtype=np.int8),
        )
