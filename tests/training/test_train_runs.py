"""qa.train_reader on a tiny random BERT (hidden 32, 2 layers) and 40 synthetic SQuAD questions.

Windows are kept short (48 tokens, stride 8) so that most paragraphs span several windows and many answers lie in
a second or later window only. Runs go through ``main()`` in this process, on CPU with bf16 off, where training
is deterministic: a run stopped and resumed must end with the very weights of an uninterrupted run.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from qa import train_reader as tr

NAMES = ["Alice Moreau", "Bruno Keller", "Chen Wei", "Dara Okafor", "Emil Novak", "Farah Haddad", "Greta Lind",
         "Hugo Silva", "Ines Duarte", "Jonas Berg"]
PLACES = ["bridge", "tower", "market", "harbour", "chapel", "library", "mill", "school", "theatre", "museum"]
TOWNS = ["Lyon", "Porto", "Bergen", "Graz", "Turin", "Ghent", "Cork", "Split", "Malmo", "Brno"]

TINY = ["--max-length", "48", "--stride", "8", "--max-question-tokens", "12", "--batch-size", "4",
        "--mega-batch", "2", "--epochs", "1", "--dropout", "0.1", "--max-steps", "6", "--seed", "3"]


def synthetic_squad(path: Path, seed: int = 0) -> Path:
    """4 articles x 2 paragraphs of 10 sentences; 5 questions a paragraph on sentences spread over it (40 in all)."""
    rng = random.Random(seed)
    data = []
    for a in range(4):
        paragraphs = []
        for _ in range(2):
            sentences, facts = [], []
            for k in range(10):
                name, place, town, year = rng.choice(NAMES), PLACES[k], rng.choice(TOWNS), rng.randint(1850, 1990)
                sentences.append(f"In {year}, {name} opened the {place} of {town}.")
                facts.append((name, place, town, year))
            context = " ".join(sentences)
            qas = []
            for j, k in enumerate((0, 3, 5, 8, 9)):
                name, place, town, year = facts[k]
                if j % 2:
                    question, answer = f"Who opened the {place} of {town} in {year}?", name
                else:
                    question, answer = f"In which year did {name} open the {place} of {town}?", str(year)
                sentence_start = context.index(sentences[k])
                start = context.index(answer, sentence_start)
                qas.append({"id": f"a{a}-q{len(paragraphs)}-{j}", "question": question,
                            "answers": [{"text": answer, "answer_start": start}]})
            paragraphs.append({"context": context, "qas": qas})
        data.append({"title": f"Town history {a}", "paragraphs": paragraphs})
    path.write_text(json.dumps({"version": "1.1", "data": data}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def squad_file(tmp_path_factory) -> Path:
    return synthetic_squad(tmp_path_factory.mktemp("squad") / "train.json")


@pytest.fixture(scope="module")
def tokenizer(tiny_span_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_span_model), local_files_only=True)


def run(tiny_span_model, squad_file, out, *extra, settings=TINY) -> int:
    argv = ["--model", str(tiny_span_model), "--train", str(squad_file), "--out", str(out), "--no-bf16",
            "--device", "cpu", "--log-every", "1", "--checkpoint-steps", "1", *settings, *extra]
    return tr.main(argv)


def log_events(out: Path, event: str) -> list[dict]:
    lines = (out / tr.LOG_FILE).read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def weights(out: Path) -> dict:
    ckpt, _ = tr.load_latest_checkpoint(out)
    return ckpt["model"]


# ------------------------------------------------------------------------------------------ labels


def check_labels(tokenizer, examples, max_length, stride, max_question_tokens):
    questions = tr.cut_questions(tokenizer, [e.question for e in examples], max_question_tokens)
    enc = tr.tokenize_pairs(tokenizer, questions, [e.context for e in examples], max_length, stride)
    example, ctx_start, starts, ends = tr.window_labels(
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
    examples = tr.squad_examples(squad_file)
    assert len(examples) == 40
    enc, exact, later_only = check_labels(tokenizer, examples, 48, 8, 12)
    assert len(exact) == 40 and all(exact.values())  # every question has a window with its exact answer
    assert later_only >= 10  # ... and for many of them the first such window is the second one or later
    assert len(enc["input_ids"]) >= 3 * len(examples)

    # The cached training features carry the same labels, and the batches rebuild the token types.
    settings = tr.Settings(max_length=48, stride=8, max_question_tokens=12)
    features = tr.build_features(tokenizer, examples, settings, progress=None)
    _, _, starts, ends = tr.window_labels(enc, [e.answer_start for e in examples], [e.answer_end for e in examples])
    assert np.array_equal(features.start, starts) and np.array_equal(features.end, ends)
    batch = tr.make_batch(features, np.arange(5), tokenizer.pad_token_id)
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
        examples.append(tr.Example(q.question, context, start, start + len(q.answers[0]), q.answers))
    _, exact, later_only = check_labels(tokenizer, examples, 64, 16, 24)
    assert len(exact) == len(examples)
    assert sum(exact.values()) >= 0.9 * len(examples)
    assert later_only >= 5


# ------------------------------------------------------------------------------------------ data order


def test_epoch_batches_are_seeded_length_grouped_and_complete():
    lengths = np.random.default_rng(0).integers(10, 300, size=1003)
    a = tr.epoch_batches(lengths, 8, seed=1, epoch=0, mega_batch=5)
    assert [x.tolist() for x in a] == [x.tolist() for x in tr.epoch_batches(lengths, 8, 1, 0, 5)]
    assert [x.tolist() for x in a] != [x.tolist() for x in tr.epoch_batches(lengths, 8, 1, 1, 5)]
    assert sorted(np.concatenate(a).tolist()) == list(range(1003))
    assert len(a) == tr.steps_per_epoch(1003, 8, 5)
    assert all(np.all(np.diff(lengths[b]) <= 0) for b in a)  # sorted inside a batch: little padding
    def padding(batches):
        return sum(len(b) * lengths[b].max() - lengths[b].sum() for b in batches)

    shuffled = np.random.default_rng(1).permutation(1003)
    assert padding(a) < 0.3 * padding([shuffled[i:i + 8] for i in range(0, 1003, 8)])


# ------------------------------------------------------------------------------------------ runs


def test_run_checkpoints_and_resumes_exactly(tiny_span_model, squad_file, tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"

    assert run(tiny_span_model, squad_file, whole) == 0
    assert [p.name for p in tr.list_checkpoints(whole)] == ["ckpt-00000005.pt", "ckpt-00000006.pt"]  # keep 2
    logged = log_events(whole, "log")
    assert [r["step"] for r in logged] == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(r["loss"]) and r["examples_per_s"] > 0 for r in logged)
    assert log_events(whole, "features")[0]["source"] == "built"

    # "Killed" after step 3: stop there; then leave a damaged newer checkpoint and a half-written one behind.
    assert run(tiny_span_model, squad_file, split, "--stop-at-step", "3") == tr.EXIT_STOPPED_EARLY
    assert tr.list_checkpoints(split)[-1].name == "ckpt-00000003.pt"
    (split / "ckpt-00000004.pt").write_bytes(b"not a checkpoint")
    (split / "ckpt-00000005.pt.tmp999").write_bytes(b"half written")

    # The next run names no settings: they come from the checkpoint.
    resumed = ["--model", str(tiny_span_model), "--train", str(squad_file), "--out", str(split), "--no-bf16",
               "--device", "cpu", "--log-every", "1"]
    assert tr.main(resumed) == 0
    assert (split / "ckpt-00000004.pt.bad").exists() and not list(split.glob("*.tmp*"))
    assert log_events(split, "resume")[-1]["step"] == 3
    assert log_events(split, "features")[-1]["source"] == "cache"
    assert [(r["step"], r["batch"]) for r in log_events(split, "log")] == [(r["step"], r["batch"]) for r in logged]

    a, b = weights(whole), weights(split)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["qa_outputs.weight"], tr.load_base_model(str(tiny_span_model), 3).qa_outputs.weight)

    # A finished run does nothing more; a run asking for other settings in the same directory is refused.
    assert tr.main(resumed) == 0
    assert tr.list_checkpoints(split)[-1].name == "ckpt-00000006.pt"
    with pytest.raises(SystemExit, match="--lr 0.5"):
        tr.main([*resumed, "--lr", "0.5"])


def test_dropout_setting_reaches_the_model_and_old_runs_keep_theirs(tiny_span_model):
    model = tr.load_base_model(str(tiny_span_model), 0, dropout=0.0)
    assert model.config.hidden_dropout_prob == 0.0 and model.config.attention_probs_dropout_prob == 0.0
    assert tr.load_base_model(str(tiny_span_model), 0, dropout=0.25).config.hidden_dropout_prob == 0.25
    # A checkpoint written before the setting existed trained with the model's own 0.1; resuming keeps it.
    stored = {k: v for k, v in tr.asdict(tr.Settings()).items() if k != "dropout"}
    args = tr.parse_args(["--out", "x"])
    assert tr.resolve_settings(args, stored).dropout == 0.1
    assert tr.resolve_settings(args, None).dropout == tr.Settings().dropout == 0.0


def test_freeze_embeddings_keeps_the_word_embeddings(tiny_span_model, squad_file, tmp_path):
    out = tmp_path / "frozen"
    assert run(tiny_span_model, squad_file, out, "--freeze-embeddings", "--bf16",
               settings=[*TINY[:-4], "--max-steps", "2"]) == 0
    trained = weights(out)
    base = tr.load_base_model(str(tiny_span_model), 0).state_dict()
    key = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(trained[key], base[key])
    assert not torch.equal(trained["bert.encoder.layer.0.attention.self.query.weight"],
                           base["bert.encoder.layer.0.attention.self.query.weight"])


def test_export_and_eval(tiny_span_model, squad_file, tmp_path, capsys):
    from safetensors import safe_open
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    out, export = tmp_path / "run", tmp_path / "models" / "reader"
    assert run(tiny_span_model, squad_file, out, settings=[*TINY[:-4], "--max-steps", "3"]) == 0
    capsys.readouterr()
    assert tr.main(["--out", str(out), "--skip-train", "--no-bf16", "--eval-dev", "10", "--dev", str(squad_file),
                    "--export", str(export)]) == 0
    printed = capsys.readouterr().out
    assert "dev EM" in printed and "exported step 3" in printed

    dev = json.loads((out / "eval_dev.json").read_text())
    assert dev["n"] == 10 and 0 <= dev["exact_match"] <= 100 and 0 <= dev["f1"] <= 100 and dev["step"] == 3

    weights_file = export / "model.safetensors"
    assert weights_file.stat().st_size < tr.MAX_EXPORT_BYTES
    with safe_open(str(weights_file), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    model = AutoModelForQuestionAnswering.from_pretrained(str(export), local_files_only=True)
    assert model.dtype == torch.float32  # config.json says float32: upcast on load
    trained = tr.load_latest_checkpoint(out)[0]["model"]
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], trained[k].half().float()) for k in trained)
    assert AutoTokenizer.from_pretrained(str(export), local_files_only=True)("a question")["input_ids"][0] == 101

    card = (export / "MODEL_CARD.md").read_text()
    assert "CC BY-SA 4.0" in card and "Apache-2.0" in card and "| steps | 3 of 3" in card
    assert f"10 questions:\nEM {dev['exact_match']:.1f}, F1 {dev['f1']:.1f}." in card
    assert "<!-- results:start -->" in card and "<!-- results:end -->" in card  # bench/reader_report.py fills it
    facts = json.loads((export / "training.json").read_text())
    assert facts["global_step"] == 3 and facts["eval_dev"]["n"] == 10
    assert facts["train_file"] == squad_file.name and "/" not in facts["base_model"]  # no paths of this machine

    # The exported directory can be evaluated as it is.
    assert tr.main(["--eval-model", str(export), "--eval-dev", "10", "--dev", str(squad_file), "--no-bf16",
                    "--max-length", "48", "--stride", "8", "--max-question-tokens", "12"]) == 0
    assert "dev EM" in capsys.readouterr().out


def test_export_of_a_continued_run_describes_every_stage(tiny_span_model, squad_file, tmp_path, capsys):
    first, second = tmp_path / "run1", tmp_path / "run2"
    stage1, stage2 = tmp_path / "models" / "stage1", tmp_path / "models" / "stage2"
    assert run(tiny_span_model, squad_file, first, settings=[*TINY[:-4], "--max-steps", "2"]) == 0
    assert tr.main(["--out", str(first), "--skip-train", "--no-bf16", "--export", str(stage1)]) == 0
    # the second stage starts from the first one's export, with another seed and learning rate
    assert run(stage1, squad_file, second, settings=[*TINY[:-4], "--max-steps", "3", "--seed", "5", "--lr", "5e-5"]) == 0
    assert tr.main(["--out", str(second), "--skip-train", "--no-bf16", "--export", str(stage2)]) == 0
    capsys.readouterr()

    facts = json.loads((stage2 / "training.json").read_text())
    assert facts["global_step"] == 3 and facts["settings"]["seed"] == 5
    assert facts["continued_from"]["global_step"] == 2 and facts["continued_from"]["settings"]["seed"] == 0
    assert [f["global_step"] for f in tr.stages(facts)] == [2, 3]
    card = (stage2 / "MODEL_CARD.md").read_text()
    assert "continued training an earlier export (`stage1`)" in card
    assert "- Stage 1 (from " in card and "2 steps of" in card and "- Stage 2 (from stage1): 3 steps of" in card
    assert "lr 5e-05" in card and "initialised at random (seed 0) in stage 1" in card
    # a first-stage card says nothing of stages
    assert "Stage 1" not in (stage1 / "MODEL_CARD.md").read_text()


def test_export_averaged_with_an_earlier_export(tiny_span_model, squad_file, tmp_path, capsys):
    from safetensors.torch import load_file

    first, second = tmp_path / "run1", tmp_path / "run2"
    stage1, averaged = tmp_path / "models" / "stage1", tmp_path / "models" / "averaged"
    assert run(tiny_span_model, squad_file, first, settings=[*TINY[:-4], "--max-steps", "2"]) == 0
    assert tr.main(["--out", str(first), "--skip-train", "--no-bf16", "--export", str(stage1)]) == 0
    assert run(stage1, squad_file, second, settings=[*TINY[:-4], "--max-steps", "3", "--seed", "5"]) == 0
    assert tr.main(["--out", str(second), "--skip-train", "--no-bf16", "--average-with", str(stage1),
                    "--eval-dev", "10", "--dev", str(squad_file), "--export", str(averaged)]) == 0
    assert "weights averaged with" in capsys.readouterr().out

    # the exported weights are the mean of stage 1's export and this run's final weights, both rounded to fp16
    old, new = load_file(str(stage1 / "model.safetensors")), load_file(str(averaged / "model.safetensors"))
    final = tr.load_latest_checkpoint(second)[0]["model"]
    for name, tensor in new.items():
        expected = ((final[name].half().float() + old[name].float()) / 2).half()
        assert torch.equal(tensor, expected), name
    assert any(not torch.equal(new[k], old[k]) for k in new)  # not simply a copy of stage 1
    facts = json.loads((averaged / "training.json").read_text())
    assert facts["averaged_with"] == {"model": "stage1", "weight": 0.5, "global_step": 2, "eval_dev": None}
    card = (averaged / "MODEL_CARD.md").read_text()
    assert "**Weights**: the uniform average" in card
    assert "- Stage 2 (from stage1): 3 steps of" in card and "averaged with `stage1`, at export EM" in card
    assert "average" not in (stage1 / "MODEL_CARD.md").read_text()


def test_average_with_refuses_another_architecture(tiny_span_model, squad_file, tmp_path):
    out, other = tmp_path / "run", tmp_path / "other"
    assert run(tiny_span_model, squad_file, out, settings=[*TINY[:-4], "--max-steps", "1"]) == 0
    other.mkdir()
    with pytest.raises(SystemExit, match="no model.safetensors"):
        tr.main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    from safetensors.torch import save_file

    save_file({"something.else": torch.zeros(2)}, str(other / "model.safetensors"))
    with pytest.raises(SystemExit, match="not the same architecture"):
        tr.main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    # the same names with one weight of another shape
    from safetensors.torch import load_file

    assert tr.main(["--out", str(out), "--skip-train", "--no-bf16", "--export", str(other)]) == 0
    weights = load_file(str(other / "model.safetensors"))
    name = next(k for k in weights if k.endswith("qa_outputs.weight"))
    weights[name] = torch.zeros(weights[name].shape[0] + 1, weights[name].shape[1], dtype=torch.float16)
    save_file(weights, str(other / "model.safetensors"))
    with pytest.raises(SystemExit, match="qa_outputs.weight has shape"):
        tr.main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()
