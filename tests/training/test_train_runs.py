"""Training runs on a tiny random BERT (hidden 32, 2 layers) and 40 synthetic SQuAD questions: checkpoints,
an exact resume, refused settings, dropout and frozen embeddings. A run stopped and resumed must end with the
very weights of an uninterrupted run.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
import torch
from tiny_training import TINY, log_events, run, weights

from training.checkpoints import list_checkpoints
from training.model import load_base_model
from training.run import main
from training.settings import EXIT_STOPPED_EARLY, Settings, parse_args, resolve_settings


def test_run_checkpoints_and_resumes_exactly(tiny_span_model, squad_file, tmp_path, capsys):
    whole, split = tmp_path / "whole", tmp_path / "split"

    assert run(tiny_span_model, squad_file, whole) == 0
    assert [p.name for p in list_checkpoints(whole)] == ["ckpt-00000005.pt", "ckpt-00000006.pt"]  # keep 2
    logged = log_events(whole, "log")
    assert [r["step"] for r in logged] == [1, 2, 3, 4, 5, 6]
    assert all(np.isfinite(r["loss"]) and r["examples_per_s"] > 0 for r in logged)
    assert log_events(whole, "features")[0]["source"] == "built"

    # "Killed" after step 3: stop there; then leave a damaged newer checkpoint and a half-written one behind.
    assert run(tiny_span_model, squad_file, split, "--stop-at-step", "3") == EXIT_STOPPED_EARLY
    assert list_checkpoints(split)[-1].name == "ckpt-00000003.pt"
    (split / "ckpt-00000004.pt").write_bytes(b"not a checkpoint")
    (split / "ckpt-00000005.pt.tmp999").write_bytes(b"half written")

    # The next run names no settings: they come from the checkpoint.
    resumed = ["--model", str(tiny_span_model), "--train", str(squad_file), "--out", str(split), "--no-bf16",
               "--device", "cpu", "--log-every", "1"]
    assert main(resumed) == 0
    assert (split / "ckpt-00000004.pt.bad").exists() and not list(split.glob("*.tmp*"))
    assert log_events(split, "resume")[-1]["step"] == 3
    assert log_events(split, "features")[-1]["source"] == "cache"
    assert [(r["step"], r["batch"]) for r in log_events(split, "log")] == [(r["step"], r["batch"]) for r in logged]

    a, b = weights(whole), weights(split)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["qa_outputs.weight"], load_base_model(str(tiny_span_model), 3).qa_outputs.weight)

    # A finished run does nothing more; a run asking for other settings in the same directory is refused.
    assert main(resumed) == 0
    assert list_checkpoints(split)[-1].name == "ckpt-00000006.pt"
    with pytest.raises(SystemExit, match="--lr 0.5"):
        main([*resumed, "--lr", "0.5"])


def test_dropout_setting_reaches_the_model_and_old_runs_keep_theirs(tiny_span_model):
    model = load_base_model(str(tiny_span_model), 0, dropout=0.0)
    assert model.config.hidden_dropout_prob == 0.0 and model.config.attention_probs_dropout_prob == 0.0
    assert load_base_model(str(tiny_span_model), 0, dropout=0.25).config.hidden_dropout_prob == 0.25
    # A checkpoint written before the setting existed trained with the model's own 0.1; resuming keeps it.
    stored = {k: v for k, v in asdict(Settings()).items() if k != "dropout"}
    args = parse_args(["--out", "x"])
    assert resolve_settings(args, stored).dropout == 0.1
    assert resolve_settings(args, None).dropout == Settings().dropout == 0.0


def test_freeze_embeddings_keeps_the_word_embeddings(tiny_span_model, squad_file, tmp_path):
    out = tmp_path / "frozen"
    assert run(tiny_span_model, squad_file, out, "--freeze-embeddings", "--bf16",
               settings=[*TINY[:-4], "--max-steps", "2"]) == 0
    trained = weights(out)
    base = load_base_model(str(tiny_span_model), 0).state_dict()
    key = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(trained[key], base[key])
    assert not torch.equal(trained["bert.encoder.layer.0.attention.self.query.weight"],
                           base["bert.encoder.layer.0.attention.self.query.weight"])
