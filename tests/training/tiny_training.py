"""Helpers of the training tests: a synthetic SQuAD file of 40 questions, tiny run settings, one run a call.

Windows are kept short (48 tokens, stride 8) so that most paragraphs span several windows and many answers lie in
a second or later window only. Runs go through ``training.run.main`` in this process, on CPU with bf16 off,
where training is deterministic.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from training.checkpoints import LOG_FILE, load_latest_checkpoint
from training.run import main

NAMES = ["Alice Moreau", "Bruno Keller", "Chen Wei", "Dara Okafor", "Emil Novak", "Farah Haddad", "Greta Lind",
         "Hugo Silva", "Ines Duarte", "Jonas Berg"]
PLACES = ["bridge", "tower", "market", "harbour", "chapel", "library", "mill", "school", "theatre", "museum"]
TOWNS = ["Lyon", "Porto", "Bergen", "Graz", "Turin", "Ghent", "Cork", "Split", "Malmo", "Brno"]

TINY = ["--max-length", "48", "--stride", "8", "--max-question-tokens", "12", "--batch-size", "4",
        "--mega-batch", "2", "--epochs", "1", "--dropout", "0.1", "--max-steps", "6", "--seed", "3"]


def synthetic_squad(path: Path, seed: int = 0) -> Path:
    """4 articles x 2 paragraphs of 10 sentences; 5 questions a paragraph on sentences spread over it (40 in all)."""
    rng = random.Random(seed)
    facts = [[[(rng.choice(NAMES), PLACES[k], rng.choice(TOWNS), rng.randint(1850, 1990)) for k in range(10)]
              for _ in range(2)] for _ in range(4)]
    return town_squad(path, facts, asked=(0, 3, 5, 8, 9))


def town_squad(path: Path, facts: list[list[list[tuple[str, str, str, int]]]], asked: tuple[int, ...]) -> Path:
    """A SQuAD file of ``facts[article][paragraph]``, (name, place, town, year) each: a sentence a fact, and
    questions on the facts ``asked`` of every paragraph, for the year and for the name in turn."""
    data = []
    for a, article in enumerate(facts):
        paragraphs = []
        for paragraph in article:
            sentences = [f"In {year}, {name} opened the {place} of {town}." for name, place, town, year in paragraph]
            context = " ".join(sentences)
            qas = []
            for j, k in enumerate(asked):
                name, place, town, year = paragraph[k]
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


def run(tiny_span_model, squad_file, out, *extra, settings=TINY) -> int:
    argv = ["--model", str(tiny_span_model), "--train", str(squad_file), "--out", str(out), "--no-bf16",
            "--device", "cpu", "--log-every", "1", "--checkpoint-steps", "1", *settings, *extra]
    return main(argv)


def log_events(out: Path, event: str) -> list[dict]:
    lines = (out / LOG_FILE).read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def weights(out: Path) -> dict:
    ckpt, _ = load_latest_checkpoint(out)
    return ckpt["model"]
