"""``gospubliki triage``: JSON lines in, the same lines with the triage fields out; bad input is exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tooling.cli import main


def test_round_trip_keeps_fields_and_adds_the_triage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"id": 7, "text": "Когда починят дорогу на Ленина?"}, {"text": "Спасибо за каток!", "source": "vk"}]
    source.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n\n", encoding="utf-8")
    assert main(["triage", str(source)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [{key: row[key] for key in original} for row, original in zip(out, rows, strict=True)] == rows
    for row in out:
        assert list(row)[-5:] == ["kind", "rubric", "priority", "obscene", "confidence"]
    assert out[0]["kind"] == "appeal" and out[1]["kind"] == "gratitude"


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "Спасибо!"}\n'))
    assert main(["triage", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "gratitude"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "ok"}\nnot json\n', "in.jsonl:2: not JSON"),
        ('{"body": "no text"}\n', 'in.jsonl:1: expected an object with a string "text"'),
        ("[1, 2]\n", "expected an object"),
    ],
)
def test_bad_lines_are_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(content, encoding="utf-8")
    assert main(["triage", str(source)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1 and error.startswith("gospubliki triage:")


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["triage", "/nonexistent/in.jsonl"]) == 2
    assert capsys.readouterr().err == "gospubliki triage: /nonexistent/in.jsonl: no such file\n"
