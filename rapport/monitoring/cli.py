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

from rapport.monitoring.analyze import analyze_many
from rapport.monitoring.cli_instruments import Meta, lookup, score_problem
from rapport.monitoring.outcome import paired, summarize
from rapport.monitoring.records import AllianceSeries, EpisodeHistory, OutcomeSeries
from rapport.monitoring.trajectories import ExpectedTrajectories

HEADER = ("client", "session", "date", "instrument", "respondent", "score")
# Ours: no course of therapy has more sessions; a larger number is a typing or export error
# (and would overflow the analysis's 64-bit session arrays).
MAX_SESSION = 10_000

USAGE = "usage: rapport analyze [--summary] FILE.csv\n"


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
        parsed = _row(line, fields)
        if isinstance(parsed, str):
            errors.append(f"line {line}: {parsed}")
            continue
        yield parsed


def _row(line: int, fields: list[str]) -> Row | str:
    """The row, or what is wrong with it."""
    client, session_s, date_s, instrument, respondent, score_s = (f.strip() for f in fields)
    if not client:
        return "empty client"
    if not instrument:
        return "empty instrument"
    try:
        if not (session_s.isascii() and session_s.isdigit()):
            raise ValueError  # int() would also take '+3', ' 3' or '٣'
        session = int(session_s)
        if not 1 <= session <= MAX_SESSION:
            raise ValueError
    except ValueError:
        return f"session must be a whole number from 1 to {MAX_SESSION}, not {session_s[:40]!r}"
    try:
        on = date.fromisoformat(date_s)
        if len(date_s) != 10:
            raise ValueError
    except ValueError:
        return f"date must be an ISO date (YYYY-MM-DD), not {date_s[:40]!r}"
    if respondent not in ("client", "therapist"):
        return f"respondent must be 'client' or 'therapist', not {respondent[:40]!r}"
    try:
        score = float(score_s)
        if not score_s.isascii() or not math.isfinite(score):
            raise ValueError
    except ValueError:
        return f"score must be a number, not {score_s[:40]!r}"
    return Row(line, client, session, on, instrument, respondent, score)


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
        elif (problem := score_problem(meta, row.instrument, row.score)) is not None:
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
    episodes = [_episode(client, series, metas) for client, series in by_client.items()]
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


def _episode(client: str, series: dict[tuple[str, str], dict[int, float]],
             metas: dict[str, Meta | None]) -> EpisodeHistory:
    """One client's series as an episode (instruments the library does not know left out)."""
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
    return EpisodeHistory(client, tuple(outcomes), tuple(alliance))


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
