"""Fine-tune the span reader (all-MiniLM-L6-v2 + a start/end head) on SQuAD v1.1 train, resumable at any time.

    python -m training                                  # train (or resume) in build/reader-train/
    python -m training --time-limit 50                  # train 50 minutes, checkpoint, exit 75: run again to go on
    python -m training --skip-train --eval-dev 1000 --export qa/models/reader

Above ``qa`` in the layers: it reads SQuAD with ``corpus``, and scores dev with the shipped reader's own
tokenising and decoding (``qa.reader_span``), so the figures it prints are the reader's. Nothing in ``qa``
imports it. One job a module:

  settings     what defines a run (``Settings``), the command line, the check of a resumed run's options
  features     SQuAD questions -> tokenised windows with start/end labels, cached under ``OUT/features/``
  batches      the seeded, length-grouped order of the windows, and the tensors of one batch
  model        device, bf16, seeds, the encoder with a span head, AdamW groups, the learning-rate schedule
  checkpoints  checkpoint files (atomic, resumable), RNG states, the run lock and the run log
  trainer      the training loop (``Trainer``)
  evaluation   EM/F1 on SQuAD dev questions read from their gold paragraph by ``qa.reader_span.SpanReader``
  export       the fp16 model directory, weight averaging
  card         MODEL_CARD.md (from ``model_card_template.md``) and training.json: what went into a model
  run          the command: train, evaluate, export (``python -m training`` runs ``run.main``)

docs/train-reader.md has the details and the measured speeds.
"""

from index.offline import use_offline_defaults

use_offline_defaults()  # every module here may import transformers: nothing downloads
