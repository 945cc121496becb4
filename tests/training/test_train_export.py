"""Export, evaluation and weight averaging of tiny training runs: fp16 safetensors that load as float32, the
model card and training.json (every stage of a continued run, the averaging), the refusals of --average-with."""

from __future__ import annotations

import json

import pytest
import torch
from tiny_training import TINY, run

from training.card import stages
from training.checkpoints import load_latest_checkpoint
from training.export import MAX_EXPORT_BYTES
from training.run import main


def test_export_and_eval(tiny_span_model, squad_file, tmp_path, capsys):
    from safetensors import safe_open
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    out, export = tmp_path / "run", tmp_path / "models" / "reader"
    assert run(tiny_span_model, squad_file, out, settings=[*TINY[:-4], "--max-steps", "3"]) == 0
    capsys.readouterr()
    assert main(["--out", str(out), "--skip-train", "--no-bf16", "--eval-dev", "10", "--dev", str(squad_file),
                    "--export", str(export)]) == 0
    printed = capsys.readouterr().out
    assert "dev EM" in printed and "exported step 3" in printed

    dev = json.loads((out / "eval_dev.json").read_text())
    assert dev["n"] == 10 and 0 <= dev["exact_match"] <= 100 and 0 <= dev["f1"] <= 100 and dev["step"] == 3

    weights_file = export / "model.safetensors"
    assert weights_file.stat().st_size < MAX_EXPORT_BYTES
    with safe_open(str(weights_file), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}
    model = AutoModelForQuestionAnswering.from_pretrained(str(export), local_files_only=True)
    assert model.dtype == torch.float32  # config.json says float32: upcast on load
    trained = load_latest_checkpoint(out)[0]["model"]
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
    assert main(["--eval-model", str(export), "--eval-dev", "10", "--dev", str(squad_file), "--no-bf16",
                    "--max-length", "48", "--stride", "8", "--max-question-tokens", "12"]) == 0
    assert "dev EM" in capsys.readouterr().out


def test_export_of_a_continued_run_describes_every_stage(tiny_span_model, squad_file, tmp_path, capsys):
    first, second = tmp_path / "run1", tmp_path / "run2"
    stage1, stage2 = tmp_path / "models" / "stage1", tmp_path / "models" / "stage2"
    assert run(tiny_span_model, squad_file, first, settings=[*TINY[:-4], "--max-steps", "2"]) == 0
    assert main(["--out", str(first), "--skip-train", "--no-bf16", "--export", str(stage1)]) == 0
    # the second stage starts from the first one's export, with another seed and learning rate
    assert run(stage1, squad_file, second, settings=[*TINY[:-4], "--max-steps", "3", "--seed", "5", "--lr", "5e-5"]) == 0
    assert main(["--out", str(second), "--skip-train", "--no-bf16", "--export", str(stage2)]) == 0
    capsys.readouterr()

    facts = json.loads((stage2 / "training.json").read_text())
    assert facts["global_step"] == 3 and facts["settings"]["seed"] == 5
    assert facts["continued_from"]["global_step"] == 2 and facts["continued_from"]["settings"]["seed"] == 0
    assert [f["global_step"] for f in stages(facts)] == [2, 3]
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
    assert main(["--out", str(first), "--skip-train", "--no-bf16", "--export", str(stage1)]) == 0
    assert run(stage1, squad_file, second, settings=[*TINY[:-4], "--max-steps", "3", "--seed", "5"]) == 0
    assert main(["--out", str(second), "--skip-train", "--no-bf16", "--average-with", str(stage1),
                    "--eval-dev", "10", "--dev", str(squad_file), "--export", str(averaged)]) == 0
    assert "weights averaged with" in capsys.readouterr().out

    # the exported weights are the mean of stage 1's export and this run's final weights, both rounded to fp16
    old, new = load_file(str(stage1 / "model.safetensors")), load_file(str(averaged / "model.safetensors"))
    final = load_latest_checkpoint(second)[0]["model"]
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
        main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    from safetensors.torch import save_file

    save_file({"something.else": torch.zeros(2)}, str(other / "model.safetensors"))
    with pytest.raises(SystemExit, match="not the same architecture"):
        main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    # the same names with one weight of another shape
    from safetensors.torch import load_file

    assert main(["--out", str(out), "--skip-train", "--no-bf16", "--export", str(other)]) == 0
    weights = load_file(str(other / "model.safetensors"))
    name = next(k for k in weights if k.endswith("qa_outputs.weight"))
    weights[name] = torch.zeros(weights[name].shape[0] + 1, weights[name].shape[1], dtype=torch.float16)
    save_file(weights, str(other / "model.safetensors"))
    with pytest.raises(SystemExit, match="qa_outputs.weight has shape"):
        main(["--out", str(out), "--skip-train", "--no-bf16", "--average-with", str(other),
                 "--export", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()
