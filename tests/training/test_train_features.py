"""training.features and training.batches: window labels give back the answer text in any window (synthetic and
real SQuAD paragraphs); the cached features carry the same labels; the epoch plan is seeded, complete and
length-grouped."""

from __future__ import annotations

import numpy as np

from training.batches import epoch_batches, make_batch, steps_per_epoch
from training.features import (
    Example,
    build_features,
    encode_examples,
    squad_examples,
    window_labels,
)
from training.settings import Settings


def check_labels(tokenizer, examples, max_length, stride, max_question_tokens):
    enc = encode_examples(tokenizer, examples, max_length, stride, max_question_tokens)
    example, ctx_start, starts, ends = window_labels(
        enc, [e.answer_start for e in examples], [e.answer_end for e in examples])
    exact: dict[int, bool] = {}
    first_positive: dict[int, int] = {}
    for i in range(len(starts)):
        q = int(example[i])
        window_number = i - int(np.argmax(example == q))  # 0 for the first window of its question
        seq = enc.sequence_ids(i)
        assert ctx_start[i] == seq.index(1)
        if starts[i] == 0:
            assert ends[i] == 0
            continue
        offsets = enc["offset_mapping"][i]
        assert seq[starts[i]] == 1 and seq[ends[i]] == 1 and starts[i] <= ends[i]
        text = examples[q].context[offsets[starts[i]][0]:offsets[ends[i]][1]]
        exact[q] = exact.get(q, True) and text == examples[q].context[examples[q].answer_start:examples[q].answer_end]
        first_positive.setdefault(q, window_number)
    later_only = sum(1 for w in first_positive.values() if w >= 1)
    return enc, exact, later_only


def test_labels_give_back_the_answer_text_in_any_window(tokenizer, squad_file):
    examples = squad_examples(squad_file)
    assert len(examples) == 40
    enc, exact, later_only = check_labels(tokenizer, examples, 48, 8, 12)
    assert len(exact) == 40 and all(exact.values())  # every question has a window with its exact answer
    assert later_only >= 10  # ... and for many of them the first such window is the second one or later
    assert len(enc["input_ids"]) >= 3 * len(examples)

    # The cached training features carry the same labels, and the batches rebuild the token types.
    settings = Settings(max_length=48, stride=8, max_question_tokens=12)
    features = build_features(tokenizer, examples, settings, progress=None)
    _, _, starts, ends = window_labels(enc, [e.answer_start for e in examples], [e.answer_end for e in examples])
    assert np.array_equal(features.start, starts) and np.array_equal(features.end, ends)
    batch = make_batch(features, np.arange(5), tokenizer.pad_token_id)
    for row in range(5):
        n = len(enc["input_ids"][row])
        assert batch["input_ids"][row, :n].tolist() == enc["input_ids"][row]
        assert batch["token_type_ids"][row, :n].tolist() == enc["token_type_ids"][row]
        assert batch["attention_mask"][row].sum() == n


def test_labels_on_real_squad_paragraphs(tokenizer, squad_dev, tmp_path):
    """Real SQuAD dev text, windows of 64 tokens: the label tokens give back the answer, save where it starts or
    ends inside a word piece (e.g. "1990" in "1990s")."""
    questions = [q for q in squad_dev.questions[::250]][:40]
    examples = []
    for q in questions:
        p0, p1 = q.paragraph
        context = squad_dev.by_id[q.article_id].text[p0:p1]
        start = q.answer_starts[0] - p0
        examples.append(Example(q.question, context, start, start + len(q.answers[0]), q.answers))
    _, exact, later_only = check_labels(tokenizer, examples, 64, 16, 24)
    assert len(exact) == len(examples)
    assert sum(exact.values()) >= 0.9 * len(examples)
    assert later_only >= 5


def test_epoch_batches_are_seeded_length_grouped_and_complete():
    lengths = np.random.default_rng(0).integers(10, 300, size=1003)
    a = epoch_batches(lengths, 8, seed=1, epoch=0, mega_batch=5)
    assert [x.tolist() for x in a] == [x.tolist() for x in epoch_batches(lengths, 8, 1, 0, 5)]
    assert [x.tolist() for x in a] != [x.tolist() for x in epoch_batches(lengths, 8, 1, 1, 5)]
    assert sorted(np.concatenate(a).tolist()) == list(range(1003))
    assert len(a) == steps_per_epoch(1003, 8, 5)
    assert all(np.all(np.diff(lengths[b]) <= 0) for b in a)  # sorted inside a batch: little padding
    def padding(batches):
        return sum(len(b) * lengths[b].max() - lengths[b].sum() for b in batches)

    shuffled = np.random.default_rng(1).permutation(1003)
    assert padding(a) < 0.3 * padding([shuffled[i:i + 8] for i in range(0, 1003, 8)])
