"""Small numpy helpers shared by the rules: flat series, padding, and runs ("streaks")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]
I = NDArray[np.int64]  # noqa: E741
B = NDArray[np.bool_]

# Comparisons at a threshold are inclusive ("at least 2 SD below"); sums of floats can miss an
# exact threshold by a rounding error, so every inclusive comparison allows this much.
EPS = 1e-9


class Flat(NamedTuple):
    """Many series laid end to end: series id, session and value per point, series contiguous."""

    grp: I
    session: I
    value: F
    lengths: I
    offsets: I


def flatten(sessions: Sequence[Sequence[int]], values: Sequence[Sequence[float]]) -> Flat:
    lengths = np.fromiter((len(s) for s in sessions), dtype=np.int64, count=len(sessions))
    total = int(lengths.sum())
    offsets = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=offsets[1:])
    if total:
        sess = np.fromiter((x for s in sessions for x in s), dtype=np.int64, count=total)
        vals = np.fromiter((x for v in values for x in v), dtype=np.float64, count=total)
    else:
        sess = np.zeros(0, dtype=np.int64)
        vals = np.zeros(0, dtype=np.float64)
    grp = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    return Flat(grp, sess, vals, lengths, offsets)


def column(flat: Flat) -> I:
    """Each point's position within its series (0 for the first)."""
    return np.arange(len(flat.grp), dtype=np.int64) - np.repeat(flat.offsets, flat.lengths)


def pad(flat: Flat, values: F | None = None, fill: float = np.nan) -> F:
    """Series as rows of a matrix, padded on the right with `fill`."""
    width = int(flat.lengths.max()) if len(flat.lengths) else 0
    out = np.full((len(flat.lengths), width), fill, dtype=np.float64)
    out[flat.grp, column(flat)] = flat.value if values is None else values
    return out


def first_of_group(flat: Flat) -> I:
    """For every point, the index of its series' first point."""
    return np.repeat(flat.offsets, flat.lengths)


def last_in_group(grp: I) -> B:
    out = np.ones(len(grp), dtype=bool)
    if len(grp) > 1:
        out[:-1] = grp[1:] != grp[:-1]
    return out


def bridge(grp: I, level: NDArray[np.integer]) -> NDArray[np.int8]:
    """Fill single-point gaps: a point off between two points on (same series) counts as on.

    One better score between two worse ones does not end a run, so a client hovering at a
    threshold is one finding, not several.
    """
    lv = np.asarray(level, dtype=np.int8).copy()
    if len(lv) < 3:
        return lv
    same_prev = grp[1:-1] == grp[:-2]
    same_next = grp[1:-1] == grp[2:]
    gap = (lv[1:-1] == 0) & (lv[:-2] > 0) & (lv[2:] > 0) & same_prev & same_next
    lv[1:-1][gap] = 1
    return lv


class Runs(NamedTuple):
    """Runs of consecutive points with level > 0 within a series (indices into the flat arrays)."""

    start: I
    end: I
    level: I  # the highest level reached in the run
    peak: I  # the first point reaching that level
    ongoing: B  # the run reaches the series' last point


def runs(grp: I, level: NDArray[np.integer]) -> Runs:
    on = level > 0
    idx = np.flatnonzero(on)
    if len(idx) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Runs(empty, empty, empty, empty, np.zeros(0, dtype=bool))
    prev_on = np.zeros(len(on), dtype=bool)
    prev_on[1:] = on[:-1] & (grp[1:] == grp[:-1])
    is_start = ~prev_on[idx]
    seg = np.flatnonzero(is_start)
    lv = level[idx].astype(np.int64)
    top = np.maximum.reduceat(lv, seg)
    seg_id = np.cumsum(is_start) - 1
    pos = np.where(lv == top[seg_id], np.arange(len(idx)), len(idx))
    peak = idx[np.minimum.reduceat(pos, seg)]
    seg_end = np.empty_like(seg)
    seg_end[:-1] = seg[1:] - 1
    seg_end[-1] = len(idx) - 1
    end = idx[seg_end]
    return Runs(idx[seg], end, top, peak, last_in_group(grp)[end])
