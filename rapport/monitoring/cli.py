"""`rapport analyze [--summary] FILE.csv`: findings (or outcome summaries) from long-format scores.

Input: CSV with the header `client,session,date,instrument,respondent,score`; `respondent` is
`client` or `therapist`, `score` the instrument's total on its own scale, dates ISO (YYYY-MM-DD),
sessions numbered from 1. Each client is one episode. A bad row is reported on standard error as
`line N: ...` and skipped; the rest is analysed. "-" reads standard input.

Output (standard output, one JSON object a line):
- default: one line per finding, `{"client", "session", "kind", "severity", "evidence"}`,
  `evidence.instrument` naming the instrument;
- `--summary`: one line per client and outcome instrument,
  `{"client", "instrument", "first", "last", "change", "classification"}`.

Expected trajectories are fitted on the file itself for each instrument with enough episodes
(thresholds.MIN_EPISODES_PER_BAND); otherwise the documented defaults are used. A note on
standard error says which.

Exit status: 0 when every row was read and every instrument known; 1 when some rows had errors
or some instruments are not in the library (reported once each; the rest is still analysed);
2 for a usage error or a file that cannot be analysed at all (missing, empty, wrong header).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from rapport.monitoring.analyze import THERAPIST_PAIRS, analyze_many
from rapport.monitoring.outcome import paired, summarize
from rapport.monitoring.records import AllianceSeries, EpisodeHistory, OutcomeSeries, Scale
from rapport.monitoring.trajectories import ExpectedTrajectories

HEADER = ("client", "session", "date", "instrument", "respondent", "score")
# Ours: no course of therapy has more sessions; a larger number is a typing or export error
# (and would overflow the analysis's 64-bit session arrays).
MAX_SESSION = 10_000

USAGE = "usage: rapport analyze [--summary] FILE.csv\n"
# Alliance-type instruments recognised even when the instruments library lacks them.
KNOWN_ALLIANCE = frozenset({"relationship-checkin", *THERAPIST_PAIRS, *THERAPIST_PAIRS.values()})


class UsageError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    client: str
    session: int
    on: date
    instrument: str
    respondent: str
    score: float


@dataclass(frozen=True, slots=True)
class Meta:
    """What the CLI needs to know about an instrument, from the library."""

    alliance: bool
    scale: Scale | None  # outcome scale; None for alliance instruments
    scale_min: float = 0.0
    scale_max: float = 100.0
    low_cutoff: float | None = None
    total_range: tuple[float, float] | None = None  # None: the library gives no range
    integer: bool = False  # totals are whole numbers (sums of whole-number items)
    # (items, most missing) when a total may be prorated from fewer answered items (not rounded,
    # e.g. PHQ-9 with 7 of 9 answered: 12 x 9 / 7 = 15.43): such totals are accepted too.
    prorated: tuple[int, int] | None = None


def _is_integer(instrument: object) -> bool:
    """Whether every total is a whole number: a plain sum of whole-number items."""
    try:
        total = instrument.scoring.total  # type: ignore[attr-defined]
        ranges = [instrument.item(i).value_range for i in total.items]  # type: ignore[attr-defined]
        return (total.method == "sum" and total.multiplier == 1
                and all(float(v).is_integer() for r in ranges for v in r))
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def _prorated(instrument: object) -> tuple[int, int] | None:
    """(items, most missing) when an unrounded prorated total is possible."""
    total = getattr(getattr(instrument, "scoring", None), "total", None)
    missing = getattr(total, "max_missing", 0)
    if total is None or not missing or getattr(total, "round_prorated", False):
        return None
    return len(total.items), min(missing, len(total.items) - 1)


def _whole_or_prorated(meta: Meta, score: float) -> bool:
    """Whether `score` is a whole number or a prorated total (whole sum of `a` answered items
    times items / a, written with at least two decimals)."""
    if float(score).is_integer():
        return True
    if meta.prorated is None:
        return False
    n, most = meta.prorated
    return any(abs(score * a / n - round(score * a / n)) * n / a <= 0.005 + 1e-9
               for a in range(n - most, n))


def _total_range(instrument: object) -> tuple[float, float] | None:
    """The total's possible range from the item ranges, when the definition makes it plain."""
    try:
        total = instrument.scoring.total  # type: ignore[attr-defined]
        if total is None:
            return None
        ranges = [instrument.item(i).value_range for i in total.items]  # type: ignore[attr-defined]
        if any(r is None for r in ranges):
            return None
        lows = [float(r[0]) for r in ranges]
        highs = [float(r[1]) for r in ranges]
        if total.method == "mean":
            lo, hi = min(lows), max(highs)
        else:
            lo, hi = sum(lows), sum(highs)
        return lo * total.multiplier, hi * total.multiplier
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def lookup(instrument_id: str) -> Meta | None:
    """The instrument's metadata, or None when the library does not know it."""
    try:
        from rapport.instruments import load

        instrument = load(instrument_id)
    except (ImportError, KeyError, ValueError):  # ValueError: a broken definition file
        if instrument_id in KNOWN_ALLIANCE:
            return Meta(alliance=True, scale=None)
        return None
    psy = getattr(instrument, "psychometrics", None)
    if getattr(instrument, "alliance", False) or instrument_id in KNOWN_ALLIANCE:
        lo, hi = _total_range(instrument) or (0.0, 100.0)
        cutoff = None
        if psy is not None and psy.cutoff is not None and psy.higher_is_better:
            cutoff = float(psy.cutoff)
        return Meta(alliance=True, scale=None, scale_min=lo, scale_max=hi, low_cutoff=cutoff,
                    total_range=(lo, hi))
    return Meta(alliance=False, scale=Scale.of(psy) if psy is not None else Scale(),
                total_range=_total_range(instrument), integer=_is_integer(instrument),
                prorated=_prorated(instrument))


def _score_problem(meta: Meta, instrument: str, score: float) -> str | None:
    """Why a total is impossible for its instrument, or None."""
    if meta.total_range is not None:
        lo, hi = meta.total_range
        if not lo <= score <= hi:
            return f"{instrument} score must be from {lo:g} to {hi:g}, not {score:g}"
    if meta.integer and not _whole_or_prorated(meta, score):
        if meta.prorated is not None:
            n, most = meta.prorated
            return (f"{instrument} score must be a whole number or a total prorated from "
                    f"{n - most} to {n - 1} answered items, not {score:g}")
        return f"{instrument} score must be a whole number, not {score:g}"


def parse(stream: TextIO, errors: list[str]) -> Iterator[Row]:
    """Rows from a CSV stream; bad rows become `line N: ...` messages in `errors`."""
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError("the file is empty (expected the header "
                         f"{','.join(HEADER)})") from None
    names = tuple(h.strip().lstrip("\ufeff").lower() for h in header)
    if names != HEADER:
        raise UsageError(f"line 1: expected the header {','.join(HEADER)}, found {','.join(header)}")
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            # A field over the csv module's limit (128 KiB), a NUL byte, a broken quote.
            errors.append(f"line {reader.line_num}: not readable as CSV ({e})")
            return
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(HEADER):
            errors.append(f"line {line}: expected {len(HEADER)} fields, found {len(fields)}")
            continue
        client, session_s, date_s, instrument, respondent, score_s = (f.strip() for f in fields)
        problem = None
        if not client:
            problem = "empty client"
        elif not instrument:
            problem = "empty instrument"
        if problem is None:
            try:
                if not (session_s.isascii() and session_s.isdigit()):
                    raise ValueError  # int() would also take '+3', ' 3' or '٣'
                session = int(session_s)
                if not 1 <= session <= MAX_SESSION:
                    raise ValueError
            except ValueError:
                problem = (f"session must be a whole number from 1 to {MAX_SESSION}, not "
                           f"{session_s[:40]!r}")
        if problem is None:
            try:
                on = date.fromisoformat(date_s)
                if len(date_s) != 10:
                    raise ValueError
            except ValueError:
                problem = f"date must be an ISO date (YYYY-MM-DD), not {date_s[:40]!r}"
        if problem is None and respondent not in ("client", "therapist"):
            problem = f"respondent must be 'client' or 'therapist', not {respondent[:40]!r}"
        if problem is None:
            try:
                score = float(score_s)
                if not score_s.isascii() or not math.isfinite(score):
                    raise ValueError
            except ValueError:
                problem = f"score must be a number, not {score_s[:40]!r}"
        if problem is not None:
            errors.append(f"line {line}: {problem}")
            continue
        yield Row(line, client, session, on, instrument, respondent, score)


def build(
    rows: Sequence[Row], errors: list[str], *, summary: bool
) -> tuple[list[EpisodeHistory], list[str]]:
    """Episodes (one per client, in order of first appearance) and the notes for stderr."""
    metas: dict[str, Meta | None] = {}
    notes: list[str] = []
    seen: dict[tuple[str, str, str, int], int] = {}
    by_client: dict[str, dict[tuple[str, str], dict[int, float]]] = {}
    unknown_rows: dict[str, int] = {}
    for row in rows:
        key = (row.client, row.instrument, row.respondent, row.session)
        if key in seen:
            errors.append(
                f"line {row.line}: a second {row.instrument} score by the {row.respondent} for "
                f"client {row.client!r} session {row.session} (line {seen[key]} is used)"
            )
            continue
        seen[key] = row.line
        if row.instrument not in metas:
            metas[row.instrument] = lookup(row.instrument)
        meta = metas[row.instrument]
        if meta is None:
            unknown_rows[row.instrument] = unknown_rows.get(row.instrument, 0) + 1
        elif (problem := _score_problem(meta, row.instrument, row.score)) is not None:
            errors.append(f"line {row.line}: {problem}")
            continue
        per = by_client.setdefault(row.client, {})
        per.setdefault((row.instrument, row.respondent), {})[row.session] = row.score
    for instrument, count in unknown_rows.items():
        what = "no summary" if summary else "no outcome findings (alliance rules need an alliance-type instrument)"
        errors.append(
            f"error: unknown instrument {instrument!r} ({count} rows): not in the instruments "
            f"library; {what} for it"
        )
    episodes = []
    for client, series in by_client.items():
        outcomes = []
        alliance = []
        for (instrument, respondent), points in series.items():
            meta = metas[instrument]
            if meta is None:
                continue
            if meta.alliance:
                alliance.append(
                    AllianceSeries.of(
                        instrument, points, respondent=respondent,  # type: ignore[arg-type]
                        scale_min=meta.scale_min, scale_max=meta.scale_max,
                        low_cutoff=meta.low_cutoff,
                    )
                )
            elif meta.scale is not None:
                outcomes.append(OutcomeSeries.of(instrument, points, meta.scale))
        episodes.append(EpisodeHistory(client, tuple(outcomes), tuple(alliance)))
    if summary:
        for instrument, meta in metas.items():
            if meta is not None and not meta.alliance and (
                meta.scale is None or meta.scale.reliable_change is None
            ):
                notes.append(
                    f"note: {instrument} has no published reliable-change amount; its "
                    "classification is null"
                )
    return episodes, notes


def _summary_lines(episodes: Sequence[EpisodeHistory]) -> Iterator[str]:
    for ep in episodes:
        for series in ep.outcomes:
            s = summarize(series)
            if s is None:
                continue
            line = {
                "client": ep.episode,
                "instrument": s.instrument,
                "first": s.first,
                "last": s.last,
                "change": round(s.change, 2),
                "classification": s.classification,
            }
            if len(series.scores) < 2:
                # One score is no change: not classifiable (as the analytics leave it out).
                line["classification"] = None
                line["not_classifiable"] = "only one score"
            yield json.dumps(line)
        paired = _paired(ep)
        if paired is not None:
            yield json.dumps(paired)


def _paired(ep: EpisodeHistory) -> dict | None:
    """The NHS Talking Therapies paired outcome line (monitoring.outcome.paired)."""
    p = paired(ep)
    if p is None:
        return None
    out: dict = {"client": ep.episode, "paired": [p.depression, p.anxiety]}
    if p.outcome is None:
        return {**out, "classification": None, "not_classifiable": p.reason}
    return {**out, "first_session": p.first_session, "last_session": p.last_session,
            **dataclasses.asdict(p.outcome)}


def _finding_lines(
    episodes: Sequence[EpisodeHistory], notes: list[str]
) -> Iterator[str]:
    trajectories = ExpectedTrajectories.fit(episodes)
    instruments = sorted({s.instrument for ep in episodes for s in ep.outcomes})
    for instrument in instruments:
        model = trajectories.models.get(instrument)
        if model is not None:
            notes.append(
                f"note: expected trajectories for {instrument} fitted on {model.episodes} "
                f"episodes in this file ({len(model.bands)} intake bands)"
            )
        else:
            notes.append(
                f"note: too few episodes to fit expected trajectories for {instrument}; "
                "using the documented defaults"
            )
    for ep, found in zip(episodes, analyze_many(episodes, trajectories=trajectories),
                         strict=True):
        for f in found:
            yield json.dumps(
                {
                    "client": ep.episode,
                    "session": f.session,
                    "kind": f.kind,
                    "severity": f.severity,
                    "evidence": f.to_dict()["evidence"],
                }
            )


def run(stream: TextIO, out: TextIO, err: TextIO, *, summary: bool) -> int:
    errors: list[str] = []
    try:
        rows = list(parse(stream, errors))
    except UsageError as e:
        err.write(f"rapport analyze: {e}\n")
        return 2
    except UnicodeDecodeError:
        err.write("rapport analyze: the input is not UTF-8 text\n")
        return 2
    episodes, notes = build(rows, errors, summary=summary)
    if any(message.startswith("line ") for message in errors):
        # Bad rows: nothing is analysed or written (a finding or a classification from a file
        # with impossible rows could rest on them); every bad row is named.
        for message in errors:
            err.write(message + "\n")
        err.write(f"rapport analyze: {sum(m.startswith('line ') for m in errors)} bad rows; "
                  "nothing analysed\n")
        return 2
    lines = _summary_lines(episodes) if summary else _finding_lines(episodes, notes)
    for line in lines:
        out.write(line + "\n")
    for message in errors:
        err.write(message + "\n")
    for message in notes:
        err.write(message + "\n")
    return 1 if errors else 0


def main(argv: list[str]) -> int:
    """Entry point: `argv` starts with "analyze" (as `rapport.cli` passes it)."""
    args = list(argv[1:] if argv and argv[0] == "analyze" else argv)
    summary = False
    if "--summary" in args:
        summary = True
        args.remove("--summary")
    if len(args) != 1 or args[0] in ("-h", "--help") or (args[0].startswith("-") and args[0] != "-"):
        if args and args[0] in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        sys.stderr.write(USAGE)
        return 2
    path = args[0]
    if path == "-":
        return run(sys.stdin, sys.stdout, sys.stderr, summary=summary)
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except OSError as e:
        sys.stderr.write(f"rapport analyze: cannot read {path}: {e.strerror}\n")
        return 2
    except UnicodeDecodeError:
        sys.stderr.write(f"rapport analyze: {path} is not UTF-8 text\n")
        return 2
    return run(io.StringIO(text), sys.stdout, sys.stderr, summary=summary)
