"""Fuzzing ``qa ask`` and ``qa eval`` arguments in-process (``cli.main.main``): whatever the arguments, the
command ends with exit status 0, 1 or 2 (argparse's own usage errors exit 2), and never lets an exception or a
traceback out (issue 15: ``qa ask $'\\xff\\xfe who'`` printed a Python traceback)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import main

SURROGATES = st.integers(0xDC80, 0xDCFF).map(chr) | st.integers(0xD800, 0xDFFF).map(chr)
CHARACTERS = st.one_of(st.characters(exclude_characters="\x00"), SURROGATES, st.sampled_from(list("?!.…«» \t\n\x1b-")))
QUESTIONS = st.one_of(
    st.text(CHARACTERS, max_size=40),
    st.binary(max_size=30).map(os.fsdecode),  # what Python makes of bytes on the command line that are not UTF-8
    st.sampled_from(["Who is Geng Shuang?", "?!?", "", "--", "-x", "who " * 600]),
)
NUMBERS = st.one_of(st.integers(-5, 60).map(str), st.integers(min_value=10**20, max_value=10**400).map(str),
                    st.sampled_from(["nan", "inf", "-0", "1e3", "", "five", "9" * 5000]), st.text(max_size=4))
OPTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("--k"), NUMBERS),
        st.tuples(st.just("--mode"), st.sampled_from(["hybrid", "bm25", "dense", "magic", ""])),
        st.tuples(st.just("--threshold"), NUMBERS),
        st.tuples(st.just("--json")),
        st.tuples(st.just("--reader"), st.sampled_from(["sentence", "auto", "nope"])),
    ),
    max_size=3,
).map(lambda groups: [arg for group in groups for arg in group])


@pytest.fixture(scope="module")
def fast_loading(embedder, shared_sentence_reader):
    """Each `qa ask` would load the embedding model and a reader again (seconds): hand it the session's."""
    patch = pytest.MonkeyPatch()
    patch.setattr("qa.answerer.Embedder", lambda config: embedder)
    patch.setattr("qa.answerer.make_reader", lambda reader="auto", *a, **k: shared_sentence_reader(reader))
    yield
    patch.undo()


@pytest.fixture(scope="module")
def shared_sentence_reader(embedder):
    from qa.answerer import READERS
    from qa.reader_sentence import SentenceReader

    reader = SentenceReader(embedder)

    def make(name):
        if name not in READERS:
            raise ValueError(f"unknown reader {name!r}")
        return reader

    return make


def run(capsys, argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        code = exc.code
    return code, capsys.readouterr().err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(question=QUESTIONS, options=OPTIONS)
def test_ask_never_lets_an_exception_out(capsys, default_index_dir, fast_loading, question, options):
    code, err = run(capsys, ["ask", question, *options, "--index", str(default_index_dir)])
    assert code in (0, 1, 2), (question, options, code)
    assert "Traceback" not in err
    if code != 0:
        assert err.startswith(("qa: ", "usage: ")), err[:300]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(k=NUMBERS, limit=NUMBERS)
def test_eval_refuses_bad_numbers_clearly(capsys, tmp_path, k, limit):
    """Only bad numbers here: a valid pair would run an evaluation (the eval tests do)."""
    from hypothesis import assume

    def valid(text, low, high):
        try:
            return low <= int(text) <= high
        except ValueError:
            return False

    assume(not (valid(k, 1, 50) and valid(limit, 1, 10**9)))
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "q1", "question": "Who?", "answers": ["x"]}\n', encoding="utf-8")
    code, err = run(capsys, ["eval", str(gold), "--k", k, "--limit", limit, "--index", str(tmp_path / "none"), "--quiet"])
    assert code in (1, 2) and "Traceback" not in err and err.startswith(("qa: ", "usage: ")), (k, limit, err[:300])
