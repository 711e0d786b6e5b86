"""`rapport analyze` and `rapport score` fuzzed at the command-line boundary (Hypothesis).

analyze: any file with a bad row (impossible total, huge or non-integer session, bad date,
huge field, wrong field count, ...) exits 2, writes nothing on standard output, and every
message on standard error is one line naming the line (or the file); a file of good rows exits
0 and writes only JSON lines. score, through `rapport score phq9 FILE`: a file with any bad
line exits 2, writes nothing on standard output and one line on standard error naming the file
and its first bad line; otherwise one JSON line per input line. The engine underneath
(`score_stream`) gives every line, however broken, exactly one JSON line; nothing raises.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.cli import main as rapport
from rapport.instruments import load
from rapport.instruments.cli import score_stream
from rapport.monitoring.cli import HEADER, MAX_SESSION, main

GOOD = st.tuples(
    st.sampled_from(["ann", "bob", "cy"]),
    st.integers(1, 12),
    st.just("2025-01-01"),
    st.sampled_from(["phq9", "gad7"]),
    st.just("client"),
    st.integers(0, 21),
).map(lambda r: ",".join(map(str, r)))

BAD_SCORES = st.one_of(
    st.integers(28, 10**30).map(str),
    st.integers(-(10**30), -1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda x: not (math.isfinite(x) and x.is_integer() and 0 <= x <= 21)
    ).map(repr),
    st.text(alphabet="abcxyz-+.eE", min_size=1, max_size=8).filter(
        lambda s: not s.strip().lstrip("+").isdigit()),
)
BAD_SESSIONS = st.one_of(
    st.integers(MAX_SESSION + 1, 10**40).map(str),
    st.integers(-(10**6), 0).map(str),
    st.sampled_from(["1.5", "x", "", "1e3", "٣"]),
)
BAD = st.one_of(
    BAD_SCORES.map(lambda s: f"ann,2,2025-01-01,phq9,client,{s}"),
    BAD_SESSIONS.map(lambda s: f"ann,{s},2025-01-01,phq9,client,5"),
    st.sampled_from(["2025-02-30", "2025-1-1", "tomorrow", "20250101"]).map(
        lambda d: f"ann,2,{d},phq9,client,5"),
    st.text(alphabet="abc", min_size=1, max_size=5).map(lambda r: f"ann,2,2025-01-01,phq9,{r},5"),
    st.integers(1, 9).filter(lambda n: n != 6).map(lambda n: ",".join(["x"] * n)),
    st.just('ann,2,2025-01-01,phq9,client,"' + "1" * 140_000 + '"'),
)


def _analyze(text: str, *args: str) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["analyze", *args, str(path)])
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(good=st.lists(GOOD, max_size=6), bad=st.lists(BAD, min_size=1, max_size=3),
       summary=st.booleans(), data=st.data())
def test_any_bad_row_exits_2_writes_nothing_and_names_its_line(good, bad, summary, data):
    lines = list(good)
    for row in bad:
        lines.insert(data.draw(st.integers(0, len(lines))), row)
    text = ",".join(HEADER) + "\n" + "".join(line + "\n" for line in lines)
    code, out, err = _analyze(text, *(["--summary"] if summary else []))
    assert code == 2
    assert out == ""
    messages = err.splitlines()
    assert messages and messages[-1].startswith("rapport analyze: ")
    assert all(m.startswith("line ") for m in messages[:-1]) and len(messages) >= 2
    assert all(len(m) < 400 for m in messages)  # one short line each, not the field echoed


@settings(max_examples=30, deadline=None)
@given(good=st.lists(GOOD, min_size=1, max_size=12), summary=st.booleans())
def test_good_rows_exit_0_and_write_json_lines(good, summary):
    # Duplicates (same client, instrument and session) are bad rows; keep the first of each.
    seen, unique = set(), []
    for line in good:
        key = tuple(line.split(",")[i] for i in (0, 1, 3))
        if key not in seen:
            seen.add(key)
            unique.append(line)
    text = ",".join(HEADER) + "\n" + "".join(line + "\n" for line in unique)
    code, out, err = _analyze(text, *(["--summary"] if summary else []))
    assert code == 0, err
    for line in out.splitlines():
        json.loads(line)  # every output line is JSON (no -Infinity, no NaN)
        assert "Infinity" not in line and "NaN" not in line


@settings(max_examples=10, deadline=None)
@given(name=st.text(alphabet="abc/", min_size=1, max_size=10))
def test_a_missing_file_is_one_line_naming_it(name):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["analyze", f"/nonexistent-dir/{name}.csv"])
    assert code == 2 and out.getvalue() == ""
    assert len(err.getvalue().splitlines()) == 1 and "nonexistent-dir" in err.getvalue()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)
RAW_LINES = st.one_of(
    JSONISH.map(json.dumps),
    st.text(max_size=40).filter(lambda s: "\n" not in s),
    st.dictionaries(st.sampled_from([f"phq9-{i}" for i in range(1, 10)]), JSONISH, max_size=9)
    .map(lambda a: json.dumps({"answers": a})),
    st.sampled_from(['{"answers": {"phq9-1": 1, "phq9-1": 2}}',
                     '{"answers": {}, "answers": {"phq9-1": 1}}',
                     "[" * 100_000, '{"answers": ' + "9" * 5000 + "}"]),
)


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(RAW_LINES, min_size=1, max_size=8))
def test_score_gives_one_json_line_per_input_line_and_names_bad_lines(lines):
    out = io.StringIO()
    status = score_stream(load("phq9"), [line + "\n" for line in lines], out)
    results = [json.loads(x) for x in out.getvalue().splitlines()]
    assert len(results) == len(lines)
    assert status in (0, 1, 2)
    for number, result in enumerate(results, 1):
        if result["errors"] and result["total"] is None and not result["complete"]:
            messages = [e if isinstance(e, str) else json.dumps(e) for e in result["errors"]]
            assert all("\n" not in m for m in messages)
            if any(m.startswith("line ") for m in messages):
                assert messages[0].startswith(f"line {number}:")
    # 2 for any bad line; 1 when the only problem is too few answers for a total; else 0.
    kinds = {"incomplete" if all(str(e).startswith("too many missing") for e in r["errors"]) else "bad"
             for r in results if r["errors"]}
    assert status == (2 if "bad" in kinds else 1 if kinds else 0)


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(RAW_LINES, min_size=1, max_size=8))
def test_rapport_score_exits_2_writes_nothing_and_names_the_first_bad_line(lines):
    # Which lines are bad input, from the engine (its per-line verdicts are tested above).
    engine = io.StringIO()
    score_stream(load("phq9"), [line + "\n" for line in lines], engine)
    bad = [n for n, r in enumerate(map(json.loads, engine.getvalue().splitlines()), 1)
           if r["errors"] and not all(str(e).startswith("too many missing") for e in r["errors"])]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = rapport(["score", "phq9", str(path)])
    if bad:
        assert (code, out.getvalue()) == (2, "")
        assert err.getvalue().count("\n") == 1
        assert err.getvalue().startswith(f"rapport score: {path}: line {bad[0]}: ")
    else:
        assert code in (0, 1)
        assert len(out.getvalue().splitlines()) == len(lines)
        assert err.getvalue().count("\n") == (code == 1)
