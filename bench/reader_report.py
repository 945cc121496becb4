"""The span reader's figures, for its model card and the README: each step is saved and skipped when done.

Steps, in this order (outputs under --out, default bench/results/reader/):
  squad2-calibrate          SQuAD v2.0 dev end to end (hybrid retrieval, k=5), one run: for each confidence the
                            reader gives (qa.reader_span.CONFIDENCES) the threshold that maximises F1 with the
                            questions weighted to --answerable-share (default: the default gold set's share,
                            see below), scored in-sample and 2-fold cross-fitted (each half with the other
                            half's threshold); the confidence with the better cross-fitted weighted F1 and its
                            threshold (fitted on all) are written to MODEL/reader_calibration.json. The
                            threshold best for v2.0's own half-unanswerable mix is reported beside it
  squad2-reader-only        SQuAD v2.0 dev, every question read from its gold paragraph alone (`qa eval
                            --reader-only`), scored as the official v2.0 script: at the shipped threshold, and
                            at thresholds 2-fold cross-fitted for v2.0's own mix and for --answerable-share
  squad11-reader-only       SQuAD v1.1 dev, every question read from its gold paragraph alone, at the shipped
                            threshold (every abstention is wrong: v1.1 has no unanswerable questions) and without
                            abstention (`qa eval --reader-only --threshold 0`)
  squad11-reader-only-int8  the same with the linear layers in int8
  squad11-end-to-end        SQuAD v1.1 dev end to end over its 48 articles (hybrid, k=5), with the calibrated
                            threshold, and without abstention
  gold                      the default gold questions (corpus/gold/default.jsonl), calibrated threshold
  latency                   reading the top 5 chunks of a question, fp32 and int8 side by side (p50/p95)
Why weighted: the best threshold depends on how often "no answer" is right. v2.0 dev is half unanswerable, and a
reader trained on v1.1 separates its adversarial unanswerable questions only weakly, so v2.0's own best threshold
abstains on most answerable questions. The default gold set (questions a reader asks of news articles) is 85%
answerable; the threshold is fitted on v2.0's questions for that mix.
Then the summary table is printed, written to OUT/summary.md and into MODEL/MODEL_CARD.md (between the
results markers). A step is redone when the model's weights changed (their digest is stored with the step).

Example:
    $ .venv/bin/python -m bench.reader_report                       # everything, the shipped model
    $ .venv/bin/python -m bench.reader_report --e2e-limit 3000      # seeded samples for the end-to-end steps
    $ .venv/bin/python -m bench.reader_report --steps squad11-reader-only --model build/reader-step2000

The SQuAD files default to corpus.datasets (``$QA_DATA_DIR``); --squad11-dev and --squad2-dev name others.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.answers import _index_for_default, fit_logistic, measure_span_latency
from bench.data_options import add_dataset_option
from corpus.datasets import SQUAD_V11_DEV, SQUAD_V20_DEV
from corpus.defaults import DEFAULT_GOLD
from corpus.gold_sets import load_gold_jsonl
from qa.answerer import SHIPPED_READER_DIR
from qa.evaluation import (
    EvalConfig,
    EvalRun,
    Metrics,
    apply_threshold,
    make_run,
    run_eval,
)
from qa.evaluation.report import write_outputs
from qa.metrics import best_threshold
from qa.reader_span import (
    CALIBRATION_FILE,
    CONFIDENCES,
    SpanReaderConfig,
    null_gap_probability,
)

RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("squad2-calibrate", "squad2-reader-only", "squad11-reader-only", "squad11-reader-only-int8",
         "squad11-end-to-end", "gold", "latency")
STEP_FILE = "step.json"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def weights_digest(model: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(Path(model).glob("*.safetensors")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def done(out: Path, digest: str, settings: dict) -> dict | None:
    """The step's saved record when it was run on these weights with these settings."""
    path = out / STEP_FILE
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    return record if record.get("digest") == digest and record.get("settings") == settings else None


def save(out: Path, digest: str, settings: dict, figures: dict, seconds: float) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    record = {"digest": digest, "settings": settings, "seconds": round(seconds, 1), "figures": figures}
    (out / STEP_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return record


def scores(m: Metrics, share: float | None = None) -> dict:
    """The headline figures of a run's metrics, in percent; with ``share``, also its F1 weighted to that share
    of answerable questions (``weighted_f1``)."""
    pct = lambda v: None if v is None else round(100 * v, 2)  # noqa: E731
    a = m.abstention
    return {
        "questions": m.questions,
        "exact_match": pct(m.scores.exact_match),
        "f1": pct(m.scores.f1),
        "has_answer_f1": pct(m.has_answer.scores.f1) if m.has_answer.count else None,
        "abstain_precision": pct(a.precision),
        "abstain_recall": pct(a.recall),
        "abstained": a.abstained,
        "threshold": m.abstain_threshold,
        "latency_p50_ms": m.latency_ms.p50,
        **({"weighted_f1": weighted_f1(m, share)} if share is not None else {}),
    }


def with_confidence(run: EvalRun, signal: str) -> EvalRun:
    """The run as if the reader's confidence had been ``signal`` (one of the candidate's ``signals``)."""
    outcomes = [replace(o, answered=replace(o.answered, candidate=replace(
        o.answered.candidate, confidence=o.answered.candidate.signals.get(signal, 0.0)))) for o in run.outcomes]
    return apply_threshold(replace(run, outcomes=outcomes), run.threshold)


def platt_scaled(run: EvalRun, signal: str, feature: str) -> tuple[EvalRun, float, float]:
    """Fit p(answer right) = sigmoid(a * feature + b) on the run (right: answerable and candidate F1 >= 0.5) and
    give every candidate that as its ``signal`` (feature: "null_gap_logit" for "null_gap", "joint_log" for "joint").
    A monotone map: it changes no abstention decision at the matching threshold, only makes the confidence shown
    a probability."""
    run, (a,), b = logistic_scaled(run, signal, (feature,))
    return run, a, b


def logistic_scaled(run: EvalRun, signal: str, features: tuple[str, ...]) -> tuple[EvalRun, list[float], float]:
    """Fit p(answer right) = sigmoid(w . features + b) on the run (right: answerable and candidate F1 >= 0.5) and
    give every candidate that as its ``signal``; with several features, signals combined into one confidence
    ("joint_null": the span's log-probability and its null gap). The weights are fitted on the whole run; only the threshold is cross-fitted
    (3 parameters on 2,000 questions)."""
    xs = np.array([[o.answered.candidate.signals.get(f, 0.0) for f in features] for o in run.outcomes])
    right = np.array([float(o.gold.answerable and o.candidate_credit["f1"] >= 0.5) for o in run.outcomes])
    weights, shift = fit_logistic(xs, right)
    outcomes = []
    for o, x in zip(run.outcomes, xs):
        signals = {**o.answered.candidate.signals,
                   signal: null_gap_probability(float(np.dot(weights, x)) + float(shift))}
        outcomes.append(replace(o, answered=replace(o.answered, candidate=replace(o.answered.candidate, signals=signals))))
    return replace(run, outcomes=outcomes), [float(w) for w in weights], float(shift)


def answerable_share(gold: Path = DEFAULT_GOLD) -> float:
    """The share of a JSONL gold set's questions that are answerable."""
    questions = load_gold_jsonl(gold)
    return sum(q.answerable for q in questions) / len(questions)


def fitted_threshold(run: EvalRun, share: float | None) -> float:
    """The run's F1-best threshold, with the questions weighted to ``share`` answerable (None: as they are)."""
    return best_threshold([o.answered.candidate.confidence for o in run.outcomes],
                          [o.candidate_credit["f1"] for o in run.outcomes],
                          [o.gold.answerable for o in run.outcomes], share).threshold


def weighted_f1(metrics: Metrics, share: float) -> float | None:
    """The F1 expected where ``share`` of the questions are answerable: the run's F1 on its answerable and on
    its unanswerable questions, mixed in that proportion (None when it lacks either kind)."""
    has, no = metrics.has_answer, metrics.no_answer
    if not has.count or not no.count:
        return None
    return round(100 * (share * has.scores.f1 + (1 - share) * no.scores.f1), 2)


def cross_fitted(run: EvalRun, seed: int = 0, share: float | None = None) -> EvalRun:
    """Each half of the questions scored with the threshold fitted on the other half (weighted to ``share``
    answerable, as ``fitted_threshold``): an estimate of the calibrated reader on questions its threshold never
    saw."""
    order = np.random.default_rng(seed).permutation(len(run.outcomes))
    halves = [sorted(order[: len(order) // 2]), sorted(order[len(order) // 2:])]
    outcomes = []
    for fit, score in ((halves[0], halves[1]), (halves[1], halves[0])):
        threshold = fitted_threshold(replace(run, outcomes=[run.outcomes[i] for i in fit]), share)
        part = replace(run, outcomes=[run.outcomes[i] for i in score])
        outcomes.extend(apply_threshold(part, threshold).outcomes)
    return make_run(run.gold_path, run.config, run.reader, float("nan"), outcomes, run.index_note,
                    run.metrics.questions_in_file)


def run_steps(args) -> dict:
    model = Path(args.model)
    digest = weights_digest(model)
    out_root = Path(args.out)
    index_dir = _index_for_default(Path(args.index))
    e2e_int8 = args.e2e_int8
    records = {}
    for step in STEPS:
        if step not in args.steps:
            continue
        out = out_root / step
        if "reader-only" in step:
            settings = {"int8": step.endswith("int8"), "limit": args.reader_only_limit, "seed": args.seed}
        elif step == "latency":
            settings = {"repeat": args.repeat, "threads": args.latency_threads}
        else:
            settings = {"int8": e2e_int8, "limit": None if step == "gold" else args.e2e_limit, "seed": args.seed}
        if step == "squad2-calibrate":
            settings["answerable_share"] = (args.answerable_share if args.answerable_share is not None
                                            else round(answerable_share(), 4))
        if "reader-only" not in step and step != "latency":  # read several chunks: the prior counts
            settings["rank_prior"] = SpanReaderConfig().rank_prior
        if step == "squad2-reader-only":
            settings["answerable_share"] = (args.answerable_share if args.answerable_share is not None
                                            else round(answerable_share(), 4))
        if step != "squad2-calibrate" and step != "latency":  # scored at the calibration: redo when it changes
            settings["threshold"] = calibrated_threshold(model)
            settings["confidence"] = calibrated_confidence(model)
        record = done(out, digest, settings)
        if record and not args.force:
            print(f"== {step}: done before ({out / STEP_FILE})")
            records[step] = record
            continue
        print(f"== {step}: running ({settings})", flush=True)
        t0 = time.perf_counter()
        if step.startswith("squad11-reader-only"):
            config = EvalConfig(reader="span", model=str(model), int8=settings["int8"], reader_only=True,
                                limit=settings["limit"], seed=args.seed, progress=not args.quiet)
            run = run_eval(args.squad11_dev, config, index_dir=index_dir)
            write_outputs(run, out)
            figures = {"all": scores(apply_threshold(run, 0.0).metrics), "calibrated": scores(run.metrics)}
        elif step == "squad2-reader-only":
            config = EvalConfig(reader="span", model=str(model), int8=e2e_int8, reader_only=True,
                                limit=settings["limit"], seed=args.seed, progress=not args.quiet)
            run = run_eval(args.squad2_dev, config, index_dir=index_dir)
            write_outputs(run, out)
            figures = reader_only_v2_figures(run, settings["answerable_share"])
        elif step == "squad2-calibrate":
            config = EvalConfig(reader="span", model=str(model), int8=e2e_int8, limit=settings["limit"],
                                seed=args.seed, progress=not args.quiet)
            run = run_eval(args.squad2_dev, config, index_dir=index_dir)
            run, scale, shift = platt_scaled(run, "null_gap", "null_gap_logit")
            run, joint_scale, joint_shift = platt_scaled(run, "joint", "joint_log")
            run, joint_null_weights, joint_null_shift = logistic_scaled(run, "joint_null",
                                                                        ("joint_log", "null_gap_logit"))
            share = settings["answerable_share"]
            by_signal = {}
            for signal in CONFIDENCES:
                signal_run = with_confidence(run, signal)
                threshold = fitted_threshold(signal_run, share)
                calibrated = apply_threshold(signal_run, threshold)
                own = fitted_threshold(signal_run, None)  # best for v2.0's own mix, for reference
                figures = {"in_sample": scores(calibrated.metrics, share),
                           "cross_fitted": scores(cross_fitted(signal_run, share=share).metrics, share),
                           "v2_own_share": {**scores(apply_threshold(signal_run, own).metrics, share),
                                            "threshold": own}}
                by_signal[signal] = {"run": calibrated, "threshold": threshold, "figures": figures}
            chosen = max(CONFIDENCES, key=lambda s: by_signal[s]["figures"]["cross_fitted"]["weighted_f1"])
            threshold = by_signal[chosen]["threshold"]
            (model / CALIBRATION_FILE).write_text(json.dumps({
                "confidence": chosen, "abstain_threshold": threshold, "null_gap_scale": scale, "null_gap_shift": shift,
                "joint_scale": joint_scale, "joint_shift": joint_shift,
                "joint_null_weights": joint_null_weights, "joint_null_shift": joint_null_shift,
                "criterion": "f1", "answerable_share": share, "data": args.squad2_dev.name,
                "questions": len(run.outcomes), "mode": "hybrid", "k": config.k, "int8": e2e_int8,
                "cross_fitted_weighted_f1": {s: by_signal[s]["figures"]["cross_fitted"]["weighted_f1"]
                                             for s in CONFIDENCES},
                "command": "python -m bench.reader_report --steps squad2-calibrate"
                           + (f" --e2e-limit {settings['limit']} --seed {args.seed}" if settings["limit"] else "")
                           + (f" --answerable-share {share}" if args.answerable_share is not None else ""),
            }, indent=2) + "\n")
            write_outputs(by_signal[chosen]["run"], out)
            figures = {"chosen": chosen, "answerable_share": share, **by_signal[chosen]["figures"],
                       "no_abstention": scores(apply_threshold(run, 0.0).metrics, share),
                       "by_confidence": {s: {"threshold": by_signal[s]["threshold"], **by_signal[s]["figures"]}
                                         for s in CONFIDENCES}}
            print(f"   confidence {chosen}, threshold {threshold:.4f} (answerable share {share:.3f}) written to "
                  f"{model / CALIBRATION_FILE}")
        elif step in ("squad11-end-to-end", "gold"):
            gold = args.squad11_dev if step == "squad11-end-to-end" else DEFAULT_GOLD
            config = EvalConfig(reader="span", model=str(model), int8=e2e_int8, limit=settings["limit"],
                                seed=args.seed, progress=not args.quiet)
            run = run_eval(gold, config, index_dir=index_dir)
            write_outputs(run, out)
            figures = {"calibrated": scores(run.metrics), "no_abstention": scores(apply_threshold(run, 0.0).metrics),
                       "retrieval": run.metrics.to_dict()["retrieval"], "by_kind": run.metrics.to_dict().get("by_kind")}
        else:
            figures = measure_span_latency(model, ["fp32", "int8"], args.repeat, 5, Path(args.index),
                                           args.latency_threads)
        records[step] = save(out, digest, settings, figures, time.perf_counter() - t0)
        print(f"   {json.dumps(figures, default=str)[:600]}", flush=True)
    return records


def reader_only_v2_figures(run: EvalRun, share: float) -> dict:
    """A SQuAD v2.0 gold-paragraph run's figures: at the shipped threshold, 2-fold cross-fitted for v2.0's own mix
    and for ``share`` answerable, without abstention, and the official script's (best_f1 is fitted on all)."""
    own = cross_fitted(run)
    return {"calibrated": scores(run.metrics, share),
            "squad_v2": run.metrics.to_dict().get("squad_v2"),
            "cross_fitted_v2_own_share": scores(own.metrics, share),
            "cross_fitted_v2_own_share_official": own.metrics.to_dict().get("squad_v2"),
            "cross_fitted": scores(cross_fitted(run, share=share).metrics, share),
            "no_abstention": scores(apply_threshold(run, 0.0).metrics, share)}


def calibrated_threshold(model: Path) -> float | None:
    path = model / CALIBRATION_FILE
    return json.loads(path.read_text()).get("abstain_threshold") if path.exists() else None


def calibrated_confidence(model: Path) -> str:
    path = model / CALIBRATION_FILE
    return (json.loads(path.read_text()).get("confidence") if path.exists() else None) or "joint"


def summary(records: dict, model: Path) -> str:
    def f(v, digits=1):
        return "-" if v is None else f"{v:.{digits}f}"

    rows = []

    def row(name, s, extra=""):
        rows.append(f"| {name} | {s['questions']:,} | {f(s['exact_match'])} | {f(s['f1'])} | {extra} |")

    if "squad2-reader-only" in records:
        fig = records["squad2-reader-only"]["figures"]
        share = records["squad2-reader-only"]["settings"]["answerable_share"]
        for label, s, official in (
                ("shipped threshold", fig["calibrated"], fig.get("squad_v2")),
                ("threshold for v2.0's own mix, cross-fitted on halves", fig["cross_fitted_v2_own_share"],
                 fig.get("cross_fitted_v2_own_share_official")),
                (f"threshold for {100 * share:.0f}% answerable, cross-fitted on halves", fig["cross_fitted"], None),
                ("no abstention", fig["no_abstention"], None)):
            notes = []
            if official:
                notes.append(f"HasAns F1 {f(official.get('HasAns_f1'))}, NoAns F1 {f(official.get('NoAns_f1'))}")
            if s["abstain_precision"] is not None:
                notes.append(f"abstention P {f(s['abstain_precision'])} / R {f(s['abstain_recall'])}")
            if s.get("weighted_f1") is not None:
                notes.append(f"F1 at {100 * share:.0f}% answerable {f(s['weighted_f1'])}")
            if label == "shipped threshold" and official and official.get("best_f1") is not None:
                notes.append(f"official best_f1 {f(official['best_f1'])} (threshold fitted on all)")
            row(f"SQuAD v2.0 dev, gold paragraph, {label}", s, "; ".join(notes))
    for step, precision in (("squad11-reader-only", "fp32"), ("squad11-reader-only-int8", "int8")):
        if step in records:
            fig = records[step]["figures"]
            row(f"SQuAD v1.1 dev, gold paragraph, {precision}, no abstention", fig["all"])
            if "calibrated" in fig:
                c = fig["calibrated"]
                row(f"SQuAD v1.1 dev, gold paragraph, {precision}, shipped threshold", c,
                    f"abstained on {c['abstained']:,} ({100 * c['abstained'] / c['questions']:.1f}%; all are "
                    "answerable)")
    int8_note = lambda r: " (int8)" if r["settings"].get("int8") else ""  # noqa: E731
    if "squad11-end-to-end" in records:
        r = records["squad11-end-to-end"]
        c, n = r["figures"]["calibrated"], r["figures"]["no_abstention"]
        row(f"SQuAD v1.1 dev end to end, hybrid k=5{int8_note(r)}, no abstention", n)
        row(f"SQuAD v1.1 dev end to end, hybrid k=5{int8_note(r)}, calibrated threshold", c,
            f"abstained on {c['abstained']:,} (all are answerable)" if c.get("abstained") is not None else "")
    if "squad2-calibrate" in records:
        r = records["squad2-calibrate"]
        fig = r["figures"]
        share = fig.get("answerable_share")
        at = f"{100 * share:.0f}% answerable" if share is not None else "v2.0's mix"
        rows_v2 = [(f"{c} confidence, threshold for {at}, cross-fitted on halves", c, fig["by_confidence"][c]["cross_fitted"])
                   for c in fig["by_confidence"]]
        rows_v2.append((f"{fig['chosen']} confidence, threshold for {at}, fitted on it (shipped)", fig["chosen"],
                        fig["in_sample"]))
        if "v2_own_share" in fig:
            rows_v2.append((f"{fig['chosen']} confidence, threshold best for v2.0's own 50% mix "
                            f"({fig['v2_own_share']['threshold']:.3f})", None, fig["v2_own_share"]))
        rows_v2.append(("no abstention", None, fig["no_abstention"]))
        for label, confidence, s in rows_v2:
            notes = []
            if s["abstain_precision"] is not None:
                notes.append(f"abstention P {f(s['abstain_precision'])} / R {f(s['abstain_recall'])}")
            if s.get("weighted_f1") is not None and share is not None:
                notes.append(f"F1 at {100 * share:.0f}% answerable {f(s['weighted_f1'])}")
            if confidence == fig["chosen"] and "cross-fitted" in label:
                notes.append("chosen")
            row(f"SQuAD v2.0 dev end to end, hybrid k=5{int8_note(r)}, {label}", s, "; ".join(notes))
    if "gold" in records:
        r = records["gold"]
        s = r["figures"]["calibrated"]
        row(f"default news gold set, hybrid k=5{int8_note(r)}, calibrated threshold", s,
            f"abstention P {f(s['abstain_precision'])} / R {f(s['abstain_recall'])}")
    lines = [
        f"Model weights digest `{weights_digest(model)}`; confidence {calibrated_confidence(model)}, threshold "
        f"{f(calibrated_threshold(model), 4) if calibrated_threshold(model) is not None else 'not calibrated'}. "
        "Produced by `python -m bench.reader_report`.",
        "",
        "| evaluation | questions | EM | F1 | notes |",
        "|---|---|---|---|---|",
        *rows,
    ]
    if "latency" in records:
        r = records["latency"]["figures"]
        lines += ["", f"Latency of reading the top 5 chunks of a question ({r['questions']} default gold questions x "
                      f"{r['repeat']}, {r['threads']} torch thread(s), fp32 and int8 interleaved in one run):", "",
                  "| precision | p50 ms | p95 ms | windows |", "|---|---|---|---|"]
        for p in ("fp32", "int8"):
            if p in r:
                lines.append(f"| {p} | {r[p]['p50_ms']:.0f} | {r[p]['p95_ms']:.0f} | {r[p]['windows_per_question']:.1f} |")
        if "fp32" in r and "int8" in r:
            lines.append(f"\nint8 / fp32: p50 x{r['int8']['p50_ms'] / r['fp32']['p50_ms']:.2f}, "
                         f"p95 x{r['int8']['p95_ms'] / r['fp32']['p95_ms']:.2f}.")
    return "\n".join(lines) + "\n"


def write_into_card(card: Path, text: str) -> bool:
    if not card.exists():
        return False
    content = card.read_text(encoding="utf-8")
    if START not in content or END not in content:
        return False
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    card.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(SHIPPED_READER_DIR), help="span model directory (default: the shipped one)")
    p.add_argument("--out", default=str(RESULTS / "reader"))
    p.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    p.add_argument("--e2e-limit", type=int, help="seeded sample of N questions for the SQuAD end-to-end steps")
    p.add_argument("--reader-only-limit", type=int, help="seeded sample for the reader-only steps (default: all)")
    p.add_argument("--e2e-int8", action="store_true", help="end-to-end steps with the int8 reader")
    p.add_argument("--answerable-share", type=float,
                   help="calibrate for this share of answerable questions (default: the default gold set's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="latency: passes over the gold questions")
    p.add_argument("--latency-threads", type=int, default=2)
    p.add_argument("--threads", type=int, default=2, help="torch threads for the evaluations")
    p.add_argument("--index", default=".qa-index", help="the default corpus index (built when missing)")
    p.add_argument("--force", action="store_true", help="redo the chosen steps even when done")
    p.add_argument("--quiet", action="store_true")
    add_dataset_option(p, SQUAD_V11_DEV)
    add_dataset_option(p, SQUAD_V20_DEV)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    model = Path(args.model)
    if not (model / "config.json").exists():
        raise SystemExit(f"error: no span model at {model} (train and export one: docs/train-reader.md)")
    records = run_steps(args)
    # the summary covers every step done on these weights, not only this run's
    digest = weights_digest(model)
    for step in STEPS:
        path = Path(args.out) / step / STEP_FILE
        if step not in records and path.exists():
            record = json.loads(path.read_text())
            if record.get("digest") == digest:
                records[step] = record
    text = summary(records, model)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "summary.md").write_text(text)
    print("\n" + text)
    if write_into_card(model / "MODEL_CARD.md", text):
        print(f"wrote the table into {model / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
