"""Control characters in articles never reach the terminal: `qa search`, `qa ask` and the load errors of
`qa index` print article text, titles and file names through ``cli.terminal.printable``; ``--json`` keeps the
text exactly (``json.dumps`` escapes it)."""

from __future__ import annotations

import json
import re

import pytest

from cli.answer_commands import render_answer
from cli.main import main
from cli.terminal import json_line, printable
from qa.types import Answer, Citation

PAYLOAD = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen, set the window title
C1_CSI = "\x9b"  # the 8-bit form of ESC [
EVIL_TITLE = f"Zanzibar headline {PAYLOAD}here"
EVIL_TEXT = (
    f"{EVIL_TITLE}\n\n"
    f"The clove farmers of Zanzibar {PAYLOAD}harvest in the dry season. "
    f"Their {C1_CSI}31m cloves dry on mats in the sun for five days.\n"
)
# anything a terminal would act on: C0 but newline and tab, DEL, C1
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_safe(*texts: str) -> None:
    for text in texts:
        assert not UNSAFE.search(text), repr(text)
        assert "pwned" not in text  # the window-title command is dropped whole, its argument with it


# ------------------------------------------------------------------------------------------- printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (PAYLOAD + "after", "after"),
        (f"a{C1_CSI}2Jb", "ab"),
        ("a\x1b[38;5;196mred\x1b[0m", "ared"),
        ("a\x1b]0;title\x1b\\b", "ab"),  # OSC ended by ST
        ("a\x9d0;title\x9cb", "ab"),  # 8-bit OSC and ST
        ("a\x1bPdevice control\x1b\\b", "ab"),  # DCS
        ("a\x1bcb", "ab"),  # reset
        ("a\x00b\x07c\x7fd\x85e", "abcde"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("over\rwrite", "over\nwrite"),
        ("crlf\r\nline", "crlf\nline"),
        ("ends with ESC\x1b", "ends with ESC"),
        ("Grüße, 北京 — “quotes” …", "Grüße, 北京 — “quotes” …"),
    ],
)
def test_printable(raw, shown):
    assert printable(raw) == shown


def test_an_unterminated_title_command_keeps_the_text_and_loses_the_escape():
    shown = printable("a\x1b]0;no terminator, then the story goes on")
    assert shown == "a0;no terminator, then the story goes on"


def test_printable_is_idempotent_and_leaves_nothing_a_terminal_acts_on():
    raw = "".join(chr(c) for c in range(0xA0)) + PAYLOAD + "\x1b\x1b[2J" + C1_CSI + "x"
    once = printable(raw)
    assert_safe(once)
    assert printable(once) == once


# ------------------------------------------------------------------------------------------- render_answer


def test_render_answer_strips_control_characters_from_every_piece_of_article_text():
    sentence = f"The clove farmers of Zanzibar {PAYLOAD}harvest in the dry season."
    start = EVIL_TEXT.index(sentence)
    answer_start = start + sentence.index("harvest")
    citation = Citation(1, "a1", EVIL_TITLE, None, start, start + len(sentence), sentence, 0.9)
    answer = Answer(
        question="When?",
        answer="harvest in the dry season",
        abstained=False,
        confidence=0.8,
        sentence=sentence,
        answer_span=("a1", answer_start, answer_start + len("harvest in the dry season")),
        citations=[citation],
    )
    shown = render_answer(answer, EVIL_TEXT, threshold=0.5)
    assert_safe(shown)
    assert "Sentence: The clove farmers of Zanzibar **harvest in the dry season**." in shown
    assert "[1] Zanzibar headline here — chars" in shown
    evil_answer = Answer("q", f"dry {C1_CSI}31m season", False, 0.8, None, None, [citation])
    assert_safe(render_answer(evil_answer, None, threshold=0.5))


# ------------------------------------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def evil_index(tmp_path_factory):
    """An index of one article holding the payload (and a file whose name and content are bad)."""
    root = tmp_path_factory.mktemp("evil")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "zanzibar.txt").write_text(EVIL_TEXT, encoding="utf-8")
    (corpus / f"bad{PAYLOAD}name.txt").write_bytes(b"\xff\xfe\xfd not utf-8")
    directory = root / "idx"
    assert main(["index", str(corpus), "--index", str(directory), "--quiet"]) == 1  # one file skipped
    return corpus, directory


def test_qa_index_names_a_bad_file_without_its_escape_sequences(capsys, evil_index, tmp_path):
    corpus, _ = evil_index
    code, out, err = run(capsys, "index", str(corpus), "--index", str(tmp_path / "idx"), "--quiet")
    assert code == 1
    assert "qa: skipped " in err and "badname.txt" in err and "not valid UTF-8" in err
    assert_safe(out, err)


def test_qa_search_human_form_prints_no_control_characters(capsys, evil_index):
    _, directory = evil_index
    code, out, err = run(capsys, "search", "clove farmers Zanzibar", "--index", str(directory), "--mode", "bm25")
    assert code == 0, err
    assert "Zanzibar headline here" in out and "harvest in the dry season" in out and "Their  cloves dry on mats" in out  # \x9b31m is one whole sequence
    assert_safe(out, err)


def test_qa_search_json_keeps_the_text_exactly(capsys, evil_index):
    _, directory = evil_index
    code, out, _ = run(capsys, "search", "clove farmers Zanzibar", "--index", str(directory), "--mode", "bm25", "--json")
    assert code == 0
    assert not UNSAFE.search(out)  # ESC escaped by json.dumps; the C1 CSI escaped too (json_line)
    hits = json.loads(out)["hits"]
    assert hits[0]["title"] == EVIL_TITLE
    assert any(PAYLOAD in h["text"] and C1_CSI in h["text"] for h in hits)


def test_qa_ask_json_keeps_the_text_exactly_with_no_raw_control_character(capsys, evil_index):
    _, directory = evil_index
    code, out, _ = run(
        capsys, "ask", "When do the clove farmers of Zanzibar harvest?", "--index", str(directory),
        "--reader", "sentence", "--threshold", "0", "--mode", "bm25", "--json",
    )
    assert code == 0 and not UNSAFE.search(out)
    answer = json.loads(out)
    assert any(PAYLOAD in c["text"] and C1_CSI in c["text"] for c in answer["citations"])
    assert answer["citations"][0]["title"] == EVIL_TITLE


def test_json_line_escapes_what_json_dumps_leaves_raw():
    value = {"text": f"DEL\x7f C1 {C1_CSI} ESC \x1b and ü 北"}
    line = json_line(value)
    assert not UNSAFE.search(line) and "ü 北" in line
    assert json.loads(line) == value


def test_qa_ask_human_form_prints_no_control_characters(capsys, evil_index):
    _, directory = evil_index
    code, out, err = run(
        capsys, "ask", "When do the clove farmers of Zanzibar harvest?", "--index", str(directory),
        "--reader", "sentence", "--threshold", "0", "--mode", "bm25",
    )
    assert code == 0, err
    assert out.startswith("Answer: ") and "dry season" in out and "Zanzibar headline here" in out
    assert_safe(out, err)
