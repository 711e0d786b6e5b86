"""`rapport instruments list|describe` and `rapport score`, without Django.

`rapport score ID [FILE]` is all or nothing, in constant memory: it reads one JSON line at a
time and scores it into a spool (memory up to a few MiB, then a temporary file), keeping
nothing else. When every line was good input, the spool is copied to standard output, one JSON
line per input line, in order (a result joins back to its input by line number). When any line
is bad input, nothing is written on standard output: one line on standard error names the file
and the first bad line and counts the others, and the exit code is 2.

Exit codes: 0 every line scored; 2 bad input (a line that is not JSON, not an object with
"answers", or has an answer the instrument does not accept) or bad usage; 1 only when the input
was good but some responses had too many missing items for a total (their lines are written,
with `"total": null`), or the reader of the output went away.

`score_stream` is the per-line engine for library callers who want every line's result as it
is scored, bad ones included (an `errors` entry naming the line).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from typing import IO, Any

from rapport.instruments import DefinitionError, Instrument, UnknownInstrument, instrument_ids, load
from rapport.instruments.model import Score

USAGE = """usage:
  rapport instruments list
  rapport instruments describe ID
  rapport score ID [FILE]     JSON lines {"answers": {"<linkId>": value}} from FILE or stdin
"""

_FLUSH_EVERY = 2048
_SPOOL_IN_MEMORY = 4 * 1024 * 1024  # characters of output kept in memory before a temporary file
_TOO_FEW = "too many missing items"  # rapport.instruments.model: a total's missing-item limit


def main(argv: list[str]) -> int:
    try:
        if argv[:2] == ["instruments", "list"] and len(argv) == 2:
            sys.stdout.write("".join(f"{i}\n" for i in instrument_ids()))
            return 0
        if argv[:2] == ["instruments", "describe"] and len(argv) == 3:
            print(json.dumps(load(argv[2]).to_json(), indent=2, ensure_ascii=False))
            return 0
        if argv[:1] == ["score"] and len(argv) in (2, 3):
            instrument = load(argv[1])
            # Undecodable bytes become U+FFFD, so a bad byte spoils one answer, not the run;
            # only "\n" ends a line (JSON text cannot hold a raw newline, but may hold "\r").
            if len(argv) == 2 or argv[2] == "-":
                if isinstance(sys.stdin, io.TextIOWrapper):
                    sys.stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")
                return score_all_or_nothing(instrument, sys.stdin, sys.stdout, err=sys.stderr)
            try:
                lines = open(argv[2], encoding="utf-8", errors="replace", newline="\n")
            except OSError as e:
                print(f"rapport score: cannot read {argv[2]}: {e.strerror}", file=sys.stderr)
                return 2
            with lines:
                return score_all_or_nothing(instrument, lines, sys.stdout, source=argv[2],
                                            err=sys.stderr)
    except (UnknownInstrument, DefinitionError) as e:
        print(f"rapport: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`rapport score ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    print(USAGE, file=sys.stderr, end="")
    return 2


def _failure(instrument_id: str, message: str) -> dict[str, Any]:
    return {
        "instrument": instrument_id,
        "complete": False,
        "total": None,
        "severity": None,
        "subscales": {},
        "flags": [],
        "errors": [message],
    }


class _Writer:
    """Turns a Score into its JSON line. Scores without errors (nearly all of them) are
    formatted by hand from cached pieces, which is several times faster than json.dumps."""

    def __init__(self, instrument: Instrument) -> None:
        self.dumps = json.JSONEncoder(ensure_ascii=False).encode
        self.head = '{"instrument": ' + self.dumps(instrument.id) + ', "complete": '
        self.severity: dict[Any, str] = {None: "null"}
        self.flags: dict[tuple[str, ...], str] = {(): "[]"}
        self.keys: dict[str, str] = {}

    def line(self, score: Score) -> str:
        if score.errors:
            return self.dumps(score.to_json())
        severity = self.severity.get(score.severity)
        if severity is None:
            label, band = score.severity  # type: ignore[misc]
            severity = self.severity[score.severity] = self.dumps({"label": label, "band": band})
        flag_key = tuple(score.flags)
        flags = self.flags.get(flag_key)
        if flags is None:
            flags = self.flags[flag_key] = self.dumps(score.flags)
        subscales = "{}"
        if score.subscales:
            keys = self.keys
            parts = []
            for name, value in score.subscales.items():
                key = keys.get(name)
                if key is None:
                    key = keys[name] = self.dumps(name)
                parts.append(f"{key}: {value!r}")
            subscales = "{" + ", ".join(parts) + "}"
        total = "null" if score.total is None else repr(score.total)
        return (
            f"{self.head}{'true' if score.complete else 'false'}, "
            f'"total": {total}, "severity": {severity}, '
            f'"subscales": {subscales}, "flags": {flags}, "errors": []}}'
        )


class _Problems:
    """The bad lines and incomplete responses of a run, for its one-line summary."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None
        self.bad = 0
        self.incomplete = 0

    def add_bad(self, number: int, message: str) -> None:
        self.bad += 1
        if self.first is None:
            self.first = (number, message.removeprefix(f"line {number}: "))

    def report(self, source: str, err: IO[str] | None) -> int:
        if self.first is not None:
            number, message = self.first
            others = f" ({self.bad - 1} more bad lines)" if self.bad > 1 else ""
            _say(err, f"rapport score: {source}: line {number}: {message}{others}")
            return 2
        if self.incomplete:
            _say(err, f"rapport score: {source}: {self.incomplete} responses had too many "
                      "missing items for a total")
            return 1
        return 0


def _say(err: IO[str] | None, message: str) -> None:
    if err is not None:
        line = " ".join(message.split())  # one line, whatever the input held
        print(line if len(line) <= 500 else line[:499] + "…", file=err)


def score_stream(instrument: Instrument, lines: Iterable[str], out: IO[str], *,
                 source: str = "standard input", err: IO[str] | None = None) -> int:
    """Score each JSON line of `lines`, writing one JSON line each to `out`.

    Returns 0 when every line scored, 2 when any line was bad input (summarised in one line on
    `err`), 1 when the input was good but some responses lacked items for a total.
    """
    writer = _Writer(instrument)
    dumps = writer.dumps
    line_of = writer.line
    score = instrument.score
    decode = json.JSONDecoder(object_pairs_hook=_unique_keys).decode
    problems = _Problems()
    buffer: list[str] = []
    for number, raw in enumerate(lines, 1):
        try:
            record = decode(raw)
        except (ValueError, RecursionError) as e:
            what = "an empty line" if not raw.strip() else f"not valid JSON ({_reason(e)})"
            buffer.append(dumps(_failure(instrument.id, f"line {number}: {what}")))
            problems.add_bad(number, what)
        else:
            if record.__class__ is not dict:
                message = f'line {number}: expected an object like {{"answers": {{...}}}}'
                buffer.append(dumps(_failure(instrument.id, message)))
                problems.add_bad(number, message)
            elif "answers" not in record:
                message = f'line {number}: the object has no "answers"'
                buffer.append(dumps(_failure(instrument.id, message)))
                problems.add_bad(number, message)
            else:
                result = score(record["answers"])
                if result.errors:
                    if all(e.link_id is None and e.message.startswith(_TOO_FEW)
                           for e in result.errors):
                        problems.incomplete += 1  # well-formed, too few answers for a total
                    else:
                        problems.add_bad(number, str(result.errors[0]))
                buffer.append(line_of(result))
        if len(buffer) >= _FLUSH_EVERY:
            buffer.append("")
            out.write("\n".join(buffer))
            buffer.clear()
    if buffer:
        buffer.append("")
        out.write("\n".join(buffer))
    out.flush()
    return problems.report(source, err)


def score_all_or_nothing(instrument: Instrument, lines: Iterable[str], out: IO[str], *,
                         source: str = "standard input", err: IO[str] | None = None) -> int:
    """`rapport score`: score every line into a spool, then write it to `out` only if no line
    was bad input (exit status 0 or 1); on bad input write nothing to `out` and return 2."""
    with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY, mode="w+", encoding="utf-8",
                                       newline="") as spool:
        status = score_stream(instrument, lines, spool, source=source, err=err)  # type: ignore[arg-type]
        if status == 2:
            return status
        spool.seek(0)
        shutil.copyfileobj(spool, out)  # type: ignore[misc]
        out.flush()
    return status


class DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's keys must differ: {"a": 1, "a": 2} is refused (the json module would keep
    the last one silently, so an answer could be overwritten unseen)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"the key {dup[:40]!r} appears twice")
    return result


def _reason(error: BaseException) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, DuplicateKey):
        return str(error)
    return str(error)
