"""``python -m training.negatives``: unanswerable training examples made from SQuAD v1.1 train, and a train hold-out.

SQuAD v2.0 train is not available here (v2.0 dev is for measuring only), so the reader learns "no answer" from
examples made out of v1.1 train questions (the kinds: ``training.negative_kinds``). Each line of the output is
``{"id", "kind", "question", "context", "source_question_id", "article_title", "context_title"}``: the question, a
context that does not answer it (``article_title``: the question's article, ``context_title``: the context's).

How they are drawn (all seeded by ``--seed``):
- a hold-out of ``--holdout-articles`` of the articles is set aside: none of its questions or paragraphs go
  into the negatives, and ``python -m training --negatives`` leaves its questions out of the answerable ones;
  ``holdout.jsonl`` gets ``--holdout-questions`` answerable questions of it (gold paragraph, ``"answers"``) and as
  many unanswerable ones of the same kinds and mix, their contexts from hold-out articles only;
- the other questions are shuffled and each is given one kind by the mix; a kind takes its questions in that
  order, up to ``--per-question`` negatives from each, until it has its share of ``--questions`` x
  ``--per-question`` negatives (a question that cannot give its kind, e.g. too short once the answer sentence is
  gone, is passed over and counted);
- retrieval runs on an index of the whole train file built through the runtime (``index.lifecycle.cached_index``,
  as ``qa eval`` indexes a SQuAD file; cached under ``--index-cache``: minutes to embed about 22k chunks on a CPU).

``meta.json`` beside the output records the source file and its sha256, the seed, the mix, the counts of each
kind, the digests of the files written and the hold-out articles; training reads the hold-out from it.

Example:
    python -m training.negatives --out build/negatives/negatives.jsonl --questions 20000 --seed 0
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.negative_kinds import (
    KINDS,
    ParagraphSearch,
    Source,
    answer_removed,
    entity_pool,
    entity_swapped,
    retrieval_negatives,
)
from training.settings import REPO, default_train

DEFAULT_OUT = REPO / "build" / "negatives" / "negatives.jsonl"
DEFAULT_INDEX_CACHE = REPO / "build" / "negatives" / "index"
META_FILE = "meta.json"
HOLDOUT_FILE = "holdout.jsonl"
DEFAULT_MIX = "retrieval=0.4,answer_removed=0.3,question_swapped=0.3"
RETRIEVAL_BATCH = 128  # questions a search_batch call


def parse_mix(text: str) -> dict[str, float]:
    """``"retrieval=0.4,answer_removed=0.3,question_swapped=0.3"`` -> shares summing to 1 (every kind named)."""
    mix = {k: 0.0 for k in KINDS}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, value = part.partition("=")
        if kind.strip() not in mix:
            raise SystemExit(f"error: --mix: unknown kind {kind.strip()!r} (kinds: {', '.join(KINDS)})")
        mix[kind.strip()] = float(value)
    total = sum(mix.values())
    if total <= 0 or min(mix.values()) < 0:
        raise SystemExit(f"error: --mix {text!r}: shares must be >= 0 and not all 0")
    return {k: v / total for k, v in mix.items()}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m training.negatives",
                                description="Unanswerable training examples from SQuAD v1.1 train, and a hold-out.")
    p.add_argument("--train", type=Path, default=None, help=f"SQuAD v1.1 train JSON[.gz] (default {default_train()})")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help="negatives JSONL; meta.json and holdout.jsonl go beside it (default %(default)s)")
    p.add_argument("--questions", type=int, default=20000,
                   help="answerable training questions to make negatives from (default %(default)s)")
    p.add_argument("--per-question", type=int, default=1, help="negatives from one question (default %(default)s)")
    p.add_argument("--mix", default=DEFAULT_MIX, help="share of each kind (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seeds the hold-out, the sample and the kinds (default 0)")
    p.add_argument("--holdout-articles", type=float, default=0.05, metavar="F",
                   help="fraction of the articles held out (default %(default)s; 0: none)")
    p.add_argument("--holdout-questions", type=int, default=300,
                   help="answerable hold-out questions, and as many unanswerable ones (default %(default)s)")
    p.add_argument("--retrieval-k", type=int, default=8, help="hybrid hits looked at a question (default %(default)s)")
    p.add_argument("--index-cache", type=Path, default=DEFAULT_INDEX_CACHE,
                   help="where the train file's index is cached (default %(default)s)")
    args = p.parse_args(argv)
    if args.questions < 0 or args.per_question < 1 or not 0 <= args.holdout_articles < 1:
        raise SystemExit("error: --questions >= 0, --per-question >= 1, --holdout-articles in [0, 1)")
    return args


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def squad_sources(squad) -> list[Source]:
    """Every answerable question of a SQuAD set whose answers lie inside its gold paragraph."""
    sources = []
    for q in squad.questions:
        if not (q.answerable and q.answers and q.paragraph):
            continue
        p0, p1 = q.paragraph
        article = squad.by_id[q.article_id]
        starts = [s - p0 for s in q.answer_starts]
        if all(0 <= s and s + len(a) <= p1 - p0 for a, s in zip(q.answers, starts)):
            sources.append(Source(q.id, q.question, article.title, article.text[p0:p1], list(q.answers), starts,
                                  article.id, (p0, p1)))
    return sources


def holdout_titles(titles: list[str], share: float, seed: int) -> list[str]:
    """A seeded ``share`` of the article titles (sorted), held out of training."""
    unique = sorted(set(titles))
    rng = np.random.default_rng([seed, 1])
    return sorted(unique[i] for i in rng.permutation(len(unique))[: round(share * len(unique))])


def kind_targets(total: int, mix: dict[str, float]) -> dict[str, int]:
    """``total`` split by ``mix`` (largest remainders: the counts sum to ``total``)."""
    raw = {k: total * mix.get(k, 0.0) for k in KINDS}
    counts = {k: int(v) for k, v in raw.items()}
    for k in sorted(KINDS, key=lambda k: counts[k] - raw[k])[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


class Makers:
    """The contexts of each kind for a batch of sources, restricted to one side's articles (train or hold-out)."""

    def __init__(self, paragraphs: ParagraphSearch, side_titles: set[str], retriever, titles: dict[str, str],
                 retrieval_k: int, entities: dict | None = None):
        self.paragraphs, self.retriever, self.titles, self.retrieval_k = paragraphs, retriever, titles, retrieval_k
        self.allowed_rows = np.array([t in side_titles for _, t, _ in paragraphs.paragraphs])
        self.allowed_ids = {a for a, t in titles.items() if t in side_titles}
        self.entities = entities or {}  # entity_swapped's replacements: names and numbers of this side's questions

    def __call__(self, kind: str, batch: list[Source], n: int) -> list[list[tuple]]:
        """(title, context) of each source's negatives of ``kind``; (title, context, question) where the question
        changes (entity_swapped)."""
        if kind == "retrieval":
            return retrieval_negatives(self.retriever, batch, self.allowed_ids, self.retrieval_k, n, self.titles)
        if kind == "answer_removed":
            return [[(s.title, text)] if (text := answer_removed(s)) else [] for s in batch]
        if kind == "entity_swapped":
            return [[(s.title, s.context, q)] if (q := entity_swapped(s, self.entities)) else [] for s in batch]
        return [self.paragraphs.swapped(s, self.allowed_rows, n) for s in batch]


def draw_negatives(sources: list[Source], total: int, per_question: int, mix: dict[str, float], makers: Makers,
                   rng: np.random.Generator, log=print) -> tuple[list[dict], dict]:
    """``total`` negatives of the mix from ``sources`` (shuffled, a kind each), with counts for the meta."""
    targets = kind_targets(total, mix)
    order = rng.permutation(len(sources))
    kind_of = rng.choice(len(KINDS), size=len(sources), p=[mix.get(k, 0.0) for k in KINDS])
    rows, stats = [], {"targets": targets, "counts": {}, "passed_over": {}, "questions": {}}
    for number, kind in enumerate(KINDS):
        stream = [sources[i] for i in order[kind_of == number]]
        made, passed, used, position = [], 0, 0, 0
        t0 = time.perf_counter()
        while len(made) < targets[kind] and position < len(stream):
            batch = stream[position:position + (RETRIEVAL_BATCH if kind == "retrieval" else 256)]
            position += len(batch)
            for source, contexts in zip(batch, makers(kind, batch, per_question)):
                contexts = contexts[: targets[kind] - len(made)]
                if not contexts and len(made) < targets[kind]:
                    passed += 1
                used += bool(contexts)
                made.extend(negative_row(source, kind, j, *context) for j, context in enumerate(contexts))
        if len(made) < targets[kind]:
            log(f"warning: only {len(made)} {kind} negatives of the {targets[kind]} asked (questions ran out)")
        log(f"{kind}: {len(made)} negatives from {used} questions ({passed} passed over, "
            f"{time.perf_counter() - t0:.0f} s)")
        rows.extend(made)
        stats["counts"][kind], stats["passed_over"][kind], stats["questions"][kind] = len(made), passed, used
    stats["retrieval_own_article"] = sum(r["kind"] == "retrieval" and r["context_title"] == r["article_title"]
                                         for r in rows)
    return [rows[i] for i in rng.permutation(len(rows))], stats  # shuffled: any prefix is a mix of the kinds


def negative_row(source: Source, kind: str, j: int, title: str, context: str, question: str | None = None) -> dict:
    return {"id": f"{source.id}-{kind}-{j}", "kind": kind, "question": question or source.question, "context": context,
            "source_question_id": source.id, "article_title": source.title, "context_title": title}


def answerable_row(source: Source) -> dict:
    return {"id": source.id, "kind": "answerable", "question": source.question, "context": source.context,
            "answers": source.answers, "answer_starts": source.answer_starts, "source_question_id": source.id,
            "article_title": source.title, "context_title": source.title}


def write_jsonl(rows: list[dict], path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)
    return sha256_file(path)


def train_retriever(squad, train: Path, cache: Path, needed: bool):
    """The hybrid retriever over the whole train file's index (cached), or None when no retrieval is asked."""
    if not needed:
        return None
    from index.lifecycle import cached_index
    from qa.evaluation.gold_answerer import SQUAD_INDEX_CONFIG
    from qa.retriever import RetrievalConfig, Retriever

    cached = cached_index("squad-train", squad.articles, SQUAD_INDEX_CONFIG, cache, progress=True,
                          sources=[{"path": str(Path(train).resolve()), "sha256": sha256_file(train)[:16]}])
    print(f"{'reused' if cached.reused else 'built'} the train index {cached.directory}", flush=True)
    retriever = Retriever(cached.index, RetrievalConfig(mode="hybrid"))
    if retriever.dense_problem:
        print(f"warning: retrieval falls back to BM25: {retriever.dense_problem}", file=sys.stderr)
    return retriever


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from corpus.squad import load_squad

    train = args.train or default_train()
    mix = parse_mix(args.mix)
    t0 = time.perf_counter()
    squad = load_squad(train)
    sources = squad_sources(squad)
    titles = {a.id: a.title for a in squad.articles}
    held = set(holdout_titles(list(titles.values()), args.holdout_articles, args.seed))
    side = {"train": [s for s in sources if s.title not in held], "holdout": [s for s in sources if s.title in held]}
    paragraphs = ParagraphSearch([(a.id, a.title, a.text[p0:p1]) for a in squad.articles
                                  for p0, p1 in squad.paragraph_spans[a.id]])
    retriever = train_retriever(squad, train, args.index_cache, mix["retrieval"] > 0)
    train_titles = set(titles.values()) - held

    print(f"{len(side['train'])} training questions, {len(side['holdout'])} in {len(held)} hold-out articles",
          flush=True)
    negatives, stats = draw_negatives(side["train"], args.questions * args.per_question, args.per_question, mix,
                                      Makers(paragraphs, train_titles, retriever, titles, args.retrieval_k,
                                             entity_pool(side["train"])),
                                      np.random.default_rng([args.seed, 2]))
    holdout_rows, holdout_stats = [], None
    if held:
        rng = np.random.default_rng([args.seed, 3])
        order = rng.permutation(len(side["holdout"]))
        answerable = [side["holdout"][i] for i in order[: args.holdout_questions]]
        rest = [side["holdout"][i] for i in order[args.holdout_questions:]]
        unanswerable, holdout_stats = draw_negatives(rest, args.holdout_questions, 1, mix,
                                                     Makers(paragraphs, held, retriever, titles, args.retrieval_k,
                                                            entity_pool(side["holdout"])),
                                                     rng)
        holdout_rows = [answerable_row(s) for s in answerable] + [{**r, "answers": []} for r in unanswerable]
    out = args.out
    meta = {
        "source": {"file": Path(train).name, "sha256": sha256_file(train)},
        "seed": args.seed, "mix": mix, "questions": args.questions, "per_question": args.per_question,
        "retrieval": {"mode": "hybrid", "k": args.retrieval_k, "index": "squad-train, chunks within paragraphs"},
        "negatives": {"file": out.name, "sha256": write_jsonl(negatives, out), "total": len(negatives), **stats},
        "holdout": {"share": args.holdout_articles, "articles": sorted(held),
                    "file": HOLDOUT_FILE if held else None,
                    "sha256": write_jsonl(holdout_rows, out.with_name(HOLDOUT_FILE)) if held else None,
                    "answerable": sum(r["kind"] == "answerable" for r in holdout_rows),
                    "unanswerable": sum(r["kind"] != "answerable" for r in holdout_rows),
                    **({"negatives": holdout_stats} if holdout_stats else {})},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out.with_name(META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"{len(negatives)} negatives -> {out} ({stats['counts']}); hold-out: {meta['holdout']['answerable']} "
          f"answerable + {meta['holdout']['unanswerable']} unanswerable -> {out.with_name(HOLDOUT_FILE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
