"""The span reader's real code path (tokenising with stride, forward, decoding, offsets) on a tiny random model.

Where the answer must be known, a forward hook replaces the model's logits: peaks on chosen tokens, so the
decoding has exactly one right answer.
"""

from __future__ import annotations

import math
import time

import pytest
import torch
from tiny_span import build_tiny_span_model
from transformers.modeling_outputs import QuestionAnsweringModelOutput

from corpus import Article
from index.chunk import Chunk
from qa.reader_span import (
    CALIBRATION_FILE,
    ReaderUnavailable,
    SpanReader,
    SpanReaderConfig,
    rank_prior,
)
from qa.span_decoding import pick_span, span_scores
from qa.types import Hit


def make_hits(*texts: str) -> tuple[list[Hit], dict[str, Article]]:
    """One article a text (with some lead-in, so chunk offsets are not 0), one chunk a article."""
    hits, articles = [], {}
    for rank, text in enumerate(texts, start=1):
        lead = f"Headline number {rank}.\n\n"
        article = Article.from_text(lead + text + "\n\nThe end.", title=f"Article {rank}")
        start = len(lead)
        chunk = Chunk(f"{article.id}:0", article.id, start, start + len(text), text)
        assert article.text[chunk.start : chunk.end] == chunk.text
        articles[article.id] = article
        hits.append(Hit(chunk, 1.0 / rank, rank, "hybrid"))
    return hits, articles


def peak_logits(reader: SpanReader, starts: dict[str, float], ends: dict[str, float]):
    """Make the model's start/end logits 0 everywhere except on the tokens of the given words (a hook handle:
    use it in a ``with`` block, which removes it)."""
    vocab = reader.tokenizer.get_vocab()

    def hook(module, args, kwargs, output):
        ids = kwargs["input_ids"]
        start = torch.zeros(ids.shape)
        end = torch.zeros(ids.shape)
        for word, value in starts.items():
            start[ids == vocab[word]] = value
        for word, value in ends.items():
            end[ids == vocab[word]] = value
        return QuestionAnsweringModelOutput(start_logits=start, end_logits=end)

    return reader.model.register_forward_hook(hook, with_kwargs=True)


@pytest.fixture(scope="module")
def reader(tiny_span_model) -> SpanReader:
    return SpanReader(tiny_span_model)


def test_answers_are_verbatim_spans_of_the_articles(reader, default_retriever, gold_questions):
    articles = default_retriever.index.articles
    for q in gold_questions[:8]:
        hits = default_retriever.search(q.question, k=5).hits
        r = reader.read(q.question, hits, articles)
        assert r.answer and articles[r.article_id].text[r.start : r.end] == r.answer
        chunk = hits[r.hit_rank - 1].chunk
        assert chunk.article_id == r.article_id and chunk.start <= r.start < r.end <= chunk.end
        assert 0.0 < r.confidence <= 1.0
        assert len(reader.tokenizer.tokenize(r.answer)) <= reader.config.max_answer_tokens


def test_decoding_picks_the_peak_in_the_right_chunk_with_article_offsets(reader):
    hits, articles = make_hits(
        "An alpha particle was seen in the first lab on Monday.",
        "Nothing of note happened in the second lab.",
        "The omega point was reached, said the beta lab on Friday.",
    )
    # Chunk 1: a lone, lower peak (alpha, 6). Chunk 3: a higher peak (omega, 8) whose start shares its window with
    # another start peak (beta, 8, which no end follows). Per-window softmaxes would prefer alpha (about 0.95
    # against 0.5); one softmax over all windows ranks omega first, as its logits say.
    with peak_logits(reader, starts={"alpha": 6.0, "omega": 8.0, "beta": 8.0}, ends={"alpha": 6.0, "omega": 8.0}):
        r = reader.read("What was reached?", hits, articles)
    assert r.answer == "omega" and r.hit_rank == 3
    third = hits[2].chunk
    assert (r.article_id, r.start) == (third.article_id, third.start + third.text.index("omega"))
    assert articles[r.article_id].text[r.start : r.end] == "omega"
    assert 0.2 < r.confidence < 0.6  # about half the start probability went to beta


def test_an_answer_read_in_two_overlapping_chunks_is_as_sure_as_read_once(reader):
    text = ("The old mill burned down in the spring. The omega team rebuilt it within a year. "
            "It reopened in the autumn with a new wheel.")
    article = Article.from_text(text, title="Mill")
    second = text.index("The omega")
    first_end = text.index(" It reopened")
    # Chunks overlap by the middle sentence, as the chunker's one-sentence overlap makes them.
    overlapping = [Chunk(f"{article.id}:0", article.id, 0, first_end, text[:first_end]),
                   Chunk(f"{article.id}:1", article.id, second, len(text), text[second:])]
    distinct = [overlapping[0], Chunk(f"{article.id}:2", article.id, first_end + 1, len(text), text[first_end + 1:])]
    with peak_logits(reader, starts={"omega": 8.0}, ends={"omega": 8.0}):
        both = reader.read("Who rebuilt it?", [Hit(c, 1.0, r, "hybrid") for r, c in enumerate(overlapping, 1)],
                           {article.id: article})
        once = reader.read("Who rebuilt it?", [Hit(c, 1.0, r, "hybrid") for r, c in enumerate(distinct, 1)],
                           {article.id: article})
    for r in (both, once):
        assert r.answer == "omega" and r.start == text.index("omega")
    # Without pooling, each copy of "omega" would hold about half the start and half the end probability.
    assert both.confidence > 0.9 and abs(both.confidence - once.confidence) < 0.02


def test_never_answers_from_the_question(reader):
    hits, articles = make_hits("A zebra was born at the city zoo last spring.")
    # The question holds the same word, with the same peak: only the chunk's copy may be chosen.
    with peak_logits(reader, starts={"zebra": 8.0}, ends={"zebra": 8.0}):
        r = reader.read("zebra zebra zebra: where was the zebra born?", hits, articles)
    chunk = hits[0].chunk
    assert r.answer == "zebra" and r.start == chunk.start + chunk.text.index("zebra")


def test_answer_length_is_capped(tiny_span_model):
    filler = " ".join(["word"] * 40)
    hits, articles = make_hits(f"The alpha {filler} omega ends here.")
    for limit in (10, 60):
        reader = SpanReader(tiny_span_model, SpanReaderConfig(max_answer_tokens=limit))
        with peak_logits(reader, starts={"alpha": 6.0}, ends={"omega": 6.0}):
            r = reader.read("What is it?", hits, articles)
        n_tokens = len(reader.tokenizer.tokenize(r.answer))
        if limit == 10:  # alpha..omega is 42 tokens: too long, so a shorter span wins
            assert n_tokens <= 10 and r.answer != f"alpha {filler} omega"
        else:
            assert r.answer == f"alpha {filler} omega"


def test_long_chunk_is_read_in_strided_windows(tiny_span_model):
    # tiny windows, so a 200-word chunk takes many: all of them read (the window cap is tested on its own)
    reader = SpanReader(tiny_span_model, SpanReaderConfig(max_length=48, stride=12, max_windows_per_chunk=100))
    words = [f"w{i}" for i in range(200)]
    words[170] = "giraffe"  # near the end: only the last windows hold it
    hits, articles = make_hits(" ".join(words) + ".")
    windows = reader.tokenize("Which animal?", [hits[0].chunk.text])
    assert len(windows.chunk_of_window) > 5 and set(windows.chunk_of_window) == {0}
    with peak_logits(reader, starts={"gi": 7.0}, ends={"##fe": 7.0}):
        r = reader.read("Which animal?", hits, articles)
    assert r.answer == "giraffe"
    assert articles[r.article_id].text[r.start : r.end] == "giraffe"
    # Windows overlap (stride): every token of the chunk is context in at least one window.
    covered = {tuple(windows.offsets[w, t].tolist()) for w, t in windows.context_mask.nonzero().tolist()}
    alone = reader.tokenizer(hits[0].chunk.text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert {tuple(o) for o in alone} <= covered


def test_long_question_is_cut_so_the_chunk_still_fits(tiny_span_model):
    reader = SpanReader(tiny_span_model, SpanReaderConfig(max_length=64, max_question_tokens=16))
    hits, articles = make_hits("The zebra lives in the savanna.")
    r = reader.read("why " * 200 + "zebra?", hits, articles)
    assert r.answer and articles[r.article_id].text[r.start : r.end] == r.answer


def test_same_seed_same_answers_and_batching_does_not_change_them(tmp_path, default_retriever, gold_questions):
    articles = default_retriever.index.articles
    a = SpanReader(build_tiny_span_model(tmp_path / "a", seed=7))
    b = SpanReader(build_tiny_span_model(tmp_path / "b", seed=7), SpanReaderConfig(batch_size=1))
    c = SpanReader(build_tiny_span_model(tmp_path / "c", seed=8))
    differs = 0
    for q in gold_questions[:5]:
        hits = default_retriever.search(q.question, k=5).hits
        ra, rb, rc = (r.read(q.question, hits, articles) for r in (a, b, c))
        assert (ra.answer, ra.start, ra.article_id) == (rb.answer, rb.start, rb.article_id)  # batching is invisible
        assert ra.confidence == pytest.approx(rb.confidence, rel=1e-4)
        differs += (rc.article_id, rc.start, rc.end) != (ra.article_id, ra.start, ra.end)
    assert differs > 0  # another seed is another model


def test_decode_joint_softmax_across_windows():
    start = torch.tensor([[0.0, 3.0, 0.0, 0.0], [0.0, 0.0, 5.0, 0.0]])
    end = torch.tensor([[0.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 5.0]])
    mask = torch.tensor([[False, True, True, True], [False, True, True, True]])
    choice = pick_span(span_scores(start, end, mask, max_answer_tokens=5))
    assert (choice.window, choice.start_token, choice.end_token) == (1, 2, 3)
    # Six context tokens in all: start softmax over them jointly, and the same for the end.
    z = math.exp(3) + math.exp(5) + 4
    assert choice.probability == pytest.approx((math.exp(5) / z) ** 2, rel=1e-5)
    # Token 0 (question / special) is never chosen, even with the highest logit.
    start[:, 0] = end[:, 0] = 50.0
    assert pick_span(span_scores(start, end, mask, 5)).start_token != 0
    assert span_scores(start, end, torch.zeros_like(mask), 5) is None


def test_threshold_comes_from_the_calibration_file(tmp_path):
    model = build_tiny_span_model(tmp_path / "m")
    assert SpanReader(model).abstain_threshold is None
    (model / CALIBRATION_FILE).write_text('{"abstain_threshold": 0.42}')
    assert SpanReader(model).abstain_threshold == 0.42


def test_calibration_file_chooses_the_confidence_its_threshold_belongs_to(tmp_path):
    model = build_tiny_span_model(tmp_path / "m")
    (model / CALIBRATION_FILE).write_text('{"abstain_threshold": 0.7, "confidence": "null_gap"}')
    reader = SpanReader(model)
    assert (reader.confidence, reader.abstain_threshold) == ("null_gap", 0.7)
    other = SpanReader(model, SpanReaderConfig(confidence="joint"))
    assert (other.confidence, other.abstain_threshold) == ("joint", None)  # that threshold is not for "joint"
    with pytest.raises(ReaderUnavailable, match="unknown confidence"):
        SpanReader(model, SpanReaderConfig(confidence="vibes"))


def test_null_gap_confidence_falls_when_the_model_prefers_no_answer(reader):
    hits, articles = make_hits("The omega team rebuilt the old mill within a year.")
    with peak_logits(reader, starts={"omega": 8.0}, ends={"omega": 8.0}):
        r = reader.read("Who rebuilt the mill?", hits, articles)
    assert r.answer == "omega" and r.signals["joint"] > 0.9 and r.signals["null_gap"] > 0.99
    assert r.confidence == r.signals["joint"]  # the default confidence
    # The same span, but [CLS] ("no answer in this window") scores higher: only null_gap notices.
    with peak_logits(reader, starts={"omega": 8.0, "[CLS]": 12.0}, ends={"omega": 8.0, "[CLS]": 12.0}):
        r = reader.read("Who rebuilt the mill?", hits, articles)
    assert r.answer == "omega" and r.signals["joint"] > 0.9
    assert r.signals["null_gap"] == pytest.approx(1 / (1 + math.exp(8.0)), rel=1e-3)  # sigmoid(16 - 24)


def test_null_gap_is_platt_scaled_as_the_calibration_file_says(tmp_path):
    model = build_tiny_span_model(tmp_path / "m")
    (model / CALIBRATION_FILE).write_text(
        '{"confidence": "null_gap", "abstain_threshold": 0.5, "null_gap_scale": 0.25, "null_gap_shift": -1.0}')
    reader = SpanReader(model)
    hits, articles = make_hits("The omega team rebuilt the old mill within a year.")
    with peak_logits(reader, starts={"omega": 8.0}, ends={"omega": 8.0}):  # [CLS] logits 0: gap 16
        r = reader.read("Who rebuilt the mill?", hits, articles)
    assert r.signals["null_gap_logit"] == pytest.approx(16.0)
    assert r.confidence == r.signals["null_gap"] == pytest.approx(1 / (1 + math.exp(-(0.25 * 16 - 1))))


def test_joint_is_platt_scaled_on_its_log_as_the_calibration_file_says(tmp_path):
    model = build_tiny_span_model(tmp_path / "m")
    hits, articles = make_hits("The omega team rebuilt the old mill within a year.")
    raw = SpanReader(model)
    with peak_logits(raw, starts={"omega": 4.0}, ends={"omega": 4.0}):
        before = raw.read("Who rebuilt the mill?", hits, articles)
    (model / CALIBRATION_FILE).write_text(
        '{"confidence": "joint", "abstain_threshold": 0.5, "joint_scale": 2.0, "joint_shift": 1.5}')
    scaled = SpanReader(model)
    with peak_logits(scaled, starts={"omega": 4.0}, ends={"omega": 4.0}):
        after = scaled.read("Who rebuilt the mill?", hits, articles)
    assert (after.answer, after.start) == (before.answer, before.start)
    assert before.confidence == before.signals["joint"] and after.signals["joint_log"] == pytest.approx(
        math.log(before.signals["joint"]))
    assert after.confidence == after.signals["joint"] == pytest.approx(
        1 / (1 + math.exp(-(2.0 * math.log(before.signals["joint"]) + 1.5))))


def test_int8_reader_quantises_the_linear_layers_and_still_reads_verbatim(tiny_span_model):
    fp32 = SpanReader(tiny_span_model)
    int8 = SpanReader(tiny_span_model, SpanReaderConfig(int8=True))
    linear = [m for m in int8.model.modules() if type(m).__name__ == "Linear"]
    assert linear and all(type(m).__module__.startswith("torch.ao.nn.quantized.dynamic") for m in linear)
    hits, articles = make_hits("The bridge of Lyon was opened by Alice Moreau in 1901 after six years of work.",
                               "Bruno Keller built the tower of Porto in 1877.")
    for reader in (fp32, int8):
        r = reader.read("Who opened the bridge of Lyon?", hits, articles)
        assert r.answer and articles[r.article_id].text[r.start:r.end] == r.answer
        assert 0 < r.confidence <= 1
    # int8 weights are a close copy: the logits move a little, not wholesale
    windows = fp32.tokenize("Who opened the bridge of Lyon?", [h.chunk.text for h in hits])
    (s32, e32), (s8, e8) = fp32.forward(windows), int8.forward(windows)
    assert torch.allclose(s32, s8, atol=0.1) and torch.allclose(e32, e8, atol=0.1)
    with pytest.raises(ReaderUnavailable, match="CPU only"):
        SpanReader(tiny_span_model, SpanReaderConfig(int8=True, device="meta"))


def test_missing_model_is_reported(tmp_path):
    with pytest.raises(ReaderUnavailable, match="cannot load reader model"):
        SpanReader(tmp_path / "nothing-here")


def test_windows_are_batched_by_length_with_little_padding_and_same_logits(tiny_span_model):
    texts = ["Short one. " * n for n in (2, 30, 3, 28, 12, 2)]
    grouped = SpanReader(tiny_span_model)  # max_padding 0.1
    padded = SpanReader(tiny_span_model, SpanReaderConfig(max_padding=float("inf")))  # one batch, padded
    windows = grouped.tokenize("What is it?", texts)
    used = windows.inputs["attention_mask"].sum(1)
    batches = grouped._batches(windows)
    assert sorted(int(w) for b, _ in batches for w in b) == list(range(len(texts)))  # each window once
    assert len(batches) > 1 and len(padded._batches(windows)) == 1
    for batch, run_length in batches:
        assert run_length == int(used[batch].max())
        assert len(batch) * run_length <= 1.1 * int(used[batch].sum())
    a_start, a_end = grouped.forward(windows)
    b_start, b_end = padded.forward(windows)
    real = windows.inputs["attention_mask"].bool()
    assert torch.allclose(a_start[real], b_start[real], atol=1e-4) and torch.allclose(a_end[real], b_end[real], atol=1e-4)
    assert not windows.context_mask[~real].any()  # padding is never an answer


def test_precision_follows_the_calibration_unless_asked(tmp_path):
    model = build_tiny_span_model(tmp_path / "m")
    assert SpanReader(model).int8 is False  # no calibration file: float32
    (model / CALIBRATION_FILE).write_text('{"confidence": "joint", "abstain_threshold": 0.3, "int8": true}')
    calibrated = SpanReader(model)  # the threshold was fitted on int8 scores: read in int8
    assert calibrated.int8 is True and calibrated.abstain_threshold == 0.3
    assert any(type(m).__module__.startswith("torch.ao.nn.quantized.dynamic") for m in calibrated.model.modules())
    forced = SpanReader(model, SpanReaderConfig(int8=False))
    assert forced.int8 is False and forced.abstain_threshold == 0.3
    assert not any(type(m).__module__.startswith("torch.ao") for m in forced.model.modules())
    assert SpanReader(model, SpanReaderConfig(device="meta")).int8 is False  # int8 is CPU only: not on another device


def test_rank_prior_prefers_the_higher_ranked_chunk_when_the_reader_hesitates(tiny_span_model):
    hits, articles = make_hits("The alpha team rebuilt the mill.", "The omega team rebuilt the mill.")
    flat = SpanReader(tiny_span_model, SpanReaderConfig(rank_prior=0.0))
    ranked = SpanReader(tiny_span_model, SpanReaderConfig(rank_prior=1.5))
    peaks = {"alpha": 8.0, "omega": 8.5}  # the second chunk's answer is a little surer
    for reader, expected in ((flat, "omega"), (ranked, "alpha")):
        with peak_logits(reader, starts=peaks, ends=peaks):
            r = reader.read("Who rebuilt the mill?", hits, articles)
        assert r.answer == expected and r.hit_rank == (2 if expected == "omega" else 1)
    with peak_logits(ranked, starts={"omega": 12.0}, ends={"omega": 12.0}):  # a clear answer lower down still wins
        assert ranked.read("Who rebuilt the mill?", hits, articles).answer == "omega"
    windows = ranked.tokenize("Who?", [h.chunk.text for h in hits])
    assert torch.allclose(rank_prior(windows, hits, 1.5), torch.tensor([0.0, -1.5 * math.log(2)]))
    assert rank_prior(windows, hits, 0.0) is None


def test_a_huge_chunk_is_read_in_a_bounded_number_of_windows(tiny_span_model):
    """Issue 15: a 200,000-character chunk (text without sentence breaks) was read whole, ~800 windows of the
    real model behind the answer lock (20 s a question). Now at most max_windows_per_chunk windows of it."""
    reader = SpanReader(tiny_span_model)
    text = "word " * 39_999 + "giraffe"  # 200,002 characters; the answer lies past the part read
    hits, articles = make_hits(text, "The giraffe is tall.")
    windows = reader.tokenize("Which animal?", [h.chunk.text for h in hits])
    per_chunk = [windows.chunk_of_window.count(c) for c in (0, 1)]
    assert per_chunk == [reader.config.max_windows_per_chunk, 1]
    read_chars = int(windows.offsets[windows.context_mask].max())
    assert read_chars <= reader.config.max_chunk_chars
    with peak_logits(reader, starts={"gi": 7.0}, ends={"##fe": 7.0}):
        r = reader.read("Which animal?", hits, articles)
    assert r.answer == "giraffe" and r.hit_rank == 2 and r.unread == 0  # from the short chunk: the cut part is not read
    assert articles[r.article_id].text[r.start : r.end] == "giraffe"
    assert reader.timings.windows == reader.config.max_windows_per_chunk + 1


def test_past_its_deadline_the_reader_answers_from_the_windows_it_ran(tiny_span_model):
    """One window a batch; a deadline already past: the first batch runs, the rest do not, and ``unread``
    says how many passages were not read in full. The answer is a verbatim span of a passage that was read."""
    reader = SpanReader(tiny_span_model, SpanReaderConfig(batch_size=1))
    hits, articles = make_hits("The zebra lives in the savanna.", "The lion sleeps all day long here.",
                               "The giraffe is very tall indeed, taller than any other animal.")
    full = reader.read("Which animal?", hits, articles, deadline=None)
    assert full.unread == 0
    cut = reader.read("Which animal?", hits, articles, deadline=time.perf_counter() - 1.0)
    assert cut.unread == 2 and cut.answer
    assert articles[cut.article_id].text[cut.start : cut.end] == cut.answer
    longest = max(hits, key=lambda h: len(h.chunk.text))  # batches run longest first
    assert cut.article_id == longest.chunk.article_id
