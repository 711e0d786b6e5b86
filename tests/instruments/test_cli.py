"""`rapport instruments list|describe` and `rapport score`, through the dispatcher."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rapport.cli import main as rapport
from rapport.instruments import load
from rapport.instruments.cli import score_stream

PHQ9_LINE = json.dumps({"answers": {f"phq9-{n}": 1 for n in range(1, 10)}})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    status = rapport(list(argv))
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_list_prints_one_id_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, _ = run(capsys, "instruments", "list")
    assert status == 0
    assert "phq9" in lines and "relationship-checkin" in lines and len(lines) == 10


def test_describe_prints_items_in_order_with_options_and_the_scoring_rules(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, lines, _ = run(capsys, "instruments", "describe", "phq9")
    assert status == 0
    data = json.loads("\n".join(lines))
    assert (data["id"], data["version"]) == ("phq9", "1")
    assert data["title"].startswith("Patient Health Questionnaire")
    assert [i["linkId"] for i in data["items"]][:9] == [f"phq9-{n}" for n in range(1, 10)]
    first = data["items"][0]
    assert first["type"] == "choice"
    assert [(o["code"], o["ordinalValue"]) for o in first["answerOptions"]] == [
        ("not-at-all", 0),
        ("several-days", 1),
        ("more-than-half", 2),
        ("nearly-every-day", 3),
    ]
    assert data["scoring"]["total"]["items"] == [f"phq9-{n}" for n in range(1, 10)]
    assert [b["label"] for b in data["scoring"]["bands"]][0] == "minimal"
    assert data["scoring"]["flags"][0]["name"] == "risk:phq9-9"
    assert data["psychometrics"]["reliable_change"] == 6


def test_unknown_instrument_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (("instruments", "describe", "ors"), ("score", "ors")):
        status, lines, err = run(capsys, *argv)
        assert status == 2 and lines == []
        assert "unknown instrument 'ors'" in err


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ("instruments",),
        ("instruments", "frobnicate"),
        ("score",),
        ("score", "phq9", "a", "b"),
    ):
        status, _, err = run(capsys, *argv)
        assert status == 2 and "usage" in err


def test_unreadable_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, _, err = run(capsys, "score", "phq9", str(tmp_path / "missing.jsonl"))
    assert status == 2 and "cannot read" in err


def test_score_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(PHQ9_LINE + "\n" + json.dumps({"answers": {"phq9-1": "nearly-every-day"}}))
    status, lines, err = run(capsys, "score", "phq9", str(path))
    assert status == 1  # well-formed input; one response has too few answers for a total
    assert err == f"rapport score: {path}: 1 responses had too many missing items for a total\n"
    first, second = map(json.loads, lines)
    assert first == {
        "instrument": "phq9",
        "complete": True,
        "total": 9,
        "severity": {"label": "mild", "band": 1},
        "subscales": {},
        "flags": ["risk:phq9-9"],
        "errors": [],
    }
    assert second["total"] is None and second["errors"][0].startswith("too many missing")


def test_score_stdin_all_good_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PHQ9_LINE + "\n" + PHQ9_LINE + "\n"))
    status, lines, _ = run(capsys, "score", "phq9")
    assert status == 0 and len(lines) == 2


def test_every_malformed_line_gets_an_error_line_and_the_rest_still_score() -> None:
    lines = [
        PHQ9_LINE,
        "not json",
        "[1, 2]",
        '{"answer": {}}',
        "",
        '{"answers": [1]}',
        '{"answers": {"phq9-1": 1.5}}',
        '{"answers": {"phq9-1": "often"}}',
        '{"answers": {"phq9-10": 1}}',
        '{"answers": {"phq9-1": 4}}',
        "[" * 100000,
        PHQ9_LINE,
    ]
    out = io.StringIO()
    status = score_stream(load("phq9"), (line + "\n" for line in lines), out)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == 2 and len(results) == len(lines)
    errors = [r["errors"] for r in results]
    assert errors[0] == [] and errors[-1] == [] and results[-1]["total"] == 9
    assert errors[1][0].startswith("line 2: not valid JSON")
    assert errors[2] == ['line 3: expected an object like {"answers": {...}}']
    assert errors[3] == ['line 4: the object has no "answers"']
    assert errors[4] == ["line 5: an empty line"]
    assert errors[5][0].startswith("answers must be an object")
    assert errors[6][0].startswith("phq9-1: a decimal given where a whole number is expected")
    assert errors[7][0].startswith("phq9-1: not an allowed answer: 'often'; allowed:")
    assert errors[8][0].startswith("phq9-10: unknown linkId")
    assert errors[9][0].startswith("phq9-1: not an allowed answer: 4; allowed: one of the values")
    assert errors[10][0].startswith("line 11: not valid JSON")
    for r in results[1:-1]:
        assert r["total"] is None and r["complete"] is False


def test_output_matches_score_to_json_for_every_shape() -> None:
    """The hand-formatted fast path writes exactly what json.dumps(score.to_json()) would."""
    cases = [
        ("phq9", {f"phq9-{n}": 0 for n in range(1, 10)}),
        ("pcl5", {f"pcl5-{n}": 2 for n in range(1, 21)}),
        ("relationship-checkin", {"trust": 7, "empathy": 8, "genuineness": 6}),
        ("cnip", {f"cnip-{n}": "right-2" for n in range(1, 19)}),
        ("goal-progress", {'goal "quoted" é': 4}),
        ("session-prep", {"focus": "x"}),
    ]
    for instrument_id, answers in cases:
        instrument = load(instrument_id)
        out = io.StringIO()
        score_stream(instrument, [json.dumps({"answers": answers})], out)
        assert json.loads(out.getvalue()) == instrument.score(answers).to_json()


def test_score_streams_line_by_line() -> None:
    """Output for early lines is produced before later input is read (constant memory)."""
    consumed = []

    def lines() -> Iterator[str]:
        for n in range(10_000):
            consumed.append(n)
            yield PHQ9_LINE + "\n"

    class Out(io.StringIO):
        first_write_at: int | None = None

        def write(self, s: str) -> int:
            if self.first_write_at is None:
                self.first_write_at = len(consumed)
            return super().write(s)

    out = Out()
    assert score_stream(load("phq9"), lines(), out) == 0
    assert out.first_write_at is not None and out.first_write_at < 10_000
    assert out.getvalue().count("\n") == 10_000


def test_rapport_score_imports_no_django_and_no_fhir(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(PHQ9_LINE + "\n")
    code = (
        "import sys; from rapport.cli import main; status = main(['score', 'phq9', sys.argv[1]]); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'fhir')]; "
        "print(bad, file=sys.stderr); sys.exit(status if not bad else 9)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 9
    assert result.stderr.strip() == "[]"


def test_bad_bytes_are_bad_input_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(PHQ9_LINE.encode() + b"\n\xff\xfe{\n" + PHQ9_LINE.encode() + b"\n")
    result = subprocess.run(
        [sys.executable, "-m", "rapport.cli", "score", "phq9", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"rapport score: {path}: line 2: not valid JSON (Expecting value at column 1)\n"
    assert result.stdout == ""  # all or nothing: the good lines around it are not written either


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "line 2: not valid JSON (Expecting value at column 1)"),
    ("", "line 2: an empty line"),
    ("[1, 2]", 'line 2: expected an object like {"answers": {...}}'),
    ('{"answer": {}}', 'line 2: the object has no "answers"'),
    ('{"answers": null}', "line 2: answers must be an object of linkId to value, not null"),
    ('{"answers": {"phq9-1": 1, "phq9-1": 2}}', "line 2: not valid JSON (the key 'phq9-1' appears twice)"),
    ('{"answers": {"phq9-1": 500}}', "line 2: phq9-1: not an allowed answer: 500"),
    ('{"answers": {"phq9-1": 1e308}}', "line 2: phq9-1:"),
    ('{"answers": {"": 1}}', "line 2: unknown linkId"),
    ('{"answers": {"phq9-10": 1}}', "line 2: phq9-10: unknown linkId"),
])
def test_every_bad_input_exits_2_with_one_line_naming_the_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, message: str,
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(f"{PHQ9_LINE}\n{line}\n{PHQ9_LINE}\n")
    status, lines, err = run(capsys, "score", "phq9", str(path))
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith(f"rapport score: {path}: {message}"), err
    assert lines == []  # nothing written: no result is half a file's


def test_bad_lines_on_standard_input_are_counted_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PHQ9_LINE}\nnope\n[]\n{{}}\n{PHQ9_LINE}\n"))
    status, lines, err = run(capsys, "score", "phq9")
    assert status == 2 and lines == []
    assert err == ("rapport score: standard input: line 2: not valid JSON (Expecting value at "
                   "column 1) (2 more bad lines)\n")


def test_output_past_the_memory_spool_is_written_whole_and_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Results wait in a spool until the whole input is known good; past its memory part the
    spool is a temporary file, so memory stays flat however long the file."""
    import rapport.instruments.cli as score_cli

    monkeypatch.setattr(score_cli, "_SPOOL_IN_MEMORY", 1000)
    path = tmp_path / "in.jsonl"
    answers = [{f"phq9-{n}": (n + k) % 4 for n in range(1, 10)} for k in range(3000)]
    path.write_text("".join(json.dumps({"answers": a}) + "\n" for a in answers))
    status, lines, err = run(capsys, "score", "phq9", str(path))
    assert (status, err) == (0, "")
    assert [json.loads(line)["total"] for line in lines] == [sum(a.values()) for a in answers]
    path.write_text(path.read_text() + "oops\n")
    status, lines, err = run(capsys, "score", "phq9", str(path))
    assert (status, lines) == (2, []) and f"{path}: line 3001: not valid JSON" in err
