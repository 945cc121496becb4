"""bench.chunk_speed runs and prints one row a text and size (tiny sizes here)."""

from __future__ import annotations

from bench.chunk_speed import line_text, main, prose_text


def test_chunk_speed_prints_a_row_per_text_and_size(capsys):
    assert main(["--sizes", "0.01", "0.02"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[:2] for row in rows] == [["line", "0.01"], ["prose", "0.01"], ["line", "0.02"], ["prose", "0.02"]]


def test_the_texts_have_the_size_asked_for():
    assert len(line_text(12_345)) == len(prose_text(12_345)) == 12_345
    assert "\n" not in line_text(10_000) and "CREDIT" not in prose_text(100_000)
