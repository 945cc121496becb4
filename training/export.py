"""The exported model directory (fp16 safetensors, config, tokenizer, card, facts) and weight averaging.

Example:
    >>> average_with(model, Path("/work/reader-epoch1"))                                  # doctest: +SKIP
    >>> export_model(model, tokenizer, Path("qa/models/reader"), info, facts)["weights_bytes"]  # doctest: +SKIP
    45144116
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

from training.card import earlier_training, render_card

MAX_EXPORT_BYTES = 50 * 1000 * 1000


def export_model(model, tokenizer, directory: Path, info: dict, facts: dict | None = None) -> dict:
    """Write fp16 safetensors + config + tokenizer + MODEL_CARD.md into ``directory`` (replaced as a whole)."""
    import torch

    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.parent / f".{directory.name}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    half = copy.deepcopy(model).to("cpu", dtype=torch.float16)
    half.save_pretrained(tmp)  # safetensors
    # save_pretrained writes dtype float16 into config.json, and from_pretrained's default (dtype "auto") follows
    # it: float16 matmuls on a CPU are slow. float32 there makes a plain from_pretrained upcast on load.
    config_path = tmp / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config.pop("torch_dtype", None)
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tokenizer.save_pretrained(tmp)
    weights = sorted(tmp.glob("*.safetensors"))
    size = sum(p.stat().st_size for p in weights)
    if not weights:
        raise RuntimeError(f"no safetensors written in {tmp}")
    if size >= MAX_EXPORT_BYTES:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(
            f"error: exported weights are {size / 1e6:.1f} MB, over the {MAX_EXPORT_BYTES / 1e6:.0f} MB limit")
    card = render_card(info, params=sum(p.numel() for p in model.parameters()), size_bytes=size,
                       vocab=len(tokenizer), arch=type(model).__name__)
    (tmp / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    (tmp / "training.json").write_text(json.dumps(facts or info, indent=2, default=str) + "\n", encoding="utf-8")
    for path in tmp.iterdir():
        path.chmod(0o644)  # save_pretrained's temporary files are private (0600)
    old = directory.parent / f".{directory.name}.old{os.getpid()}"
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)
    return {"directory": str(directory), "weights_bytes": size, "files": sorted(p.name for p in directory.iterdir())}


def average_with(model, directory: Path) -> dict:
    """Replace ``model``'s weights by the uniform average of them and the weights exported in ``directory``; return
    what they were averaged with (``training.json``'s ``averaged_with``).

    Weight averaging ("model soup", Wortsman et al. 2022) of two fine-tunings of one model in the same basin (a run
    and the export it continued from) scores like an ensemble at the cost of one model. Both are rounded to float16
    first, as exported, so averaging two exports is reproducible bit for bit.

    >>> average_with(model, Path("/work/reader-epoch1"))  # doctest: +SKIP
    {'model': 'reader-epoch1', 'weight': 0.5, 'global_step': 3043, 'eval_dev': {...}}
    """
    import torch
    from safetensors.torch import load_file

    path = Path(directory) / "model.safetensors"
    if not path.is_file():
        raise SystemExit(f"error: --average-with: no model.safetensors in {directory}")
    other = load_file(str(path))
    state = model.state_dict()
    params = {name for name, _ in model.named_parameters()}
    missing = sorted(params - set(other))
    if missing:
        raise SystemExit(f"error: --average-with: {directory} lacks {len(missing)} weights of this model, e.g. "
                         f"{missing[0]}: not the same architecture")
    shared = [name for name in state if name in other]  # not the buffers that save_pretrained does not write
    for name in shared:  # all checked before any weight changes
        if other[name].shape != state[name].shape:
            raise SystemExit(f"error: --average-with: {name} has shape {tuple(other[name].shape)} in {directory}, "
                             f"{tuple(state[name].shape)} here")
    with torch.no_grad():
        for name in shared:
            tensor = state[name]
            mine = tensor.to(torch.float16).to(torch.float32)
            tensor.copy_(((mine + other[name].to(torch.float32)) / 2).to(tensor.dtype))
    earlier = earlier_training(str(directory))
    return {"model": Path(directory).name, "weight": 0.5,
            "global_step": earlier.get("global_step") if earlier else None,
            "eval_dev": earlier.get("eval_dev") if earlier else None}
