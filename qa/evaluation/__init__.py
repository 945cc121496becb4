"""Evaluation against gold questions (JSONL, or SQuAD v1.1/v2.0 JSON): run, score, summarise, report.

Modules, each one job: ``records`` (EvalConfig, Outcome), ``gold_answerer`` (the answerer and index for a gold
file), ``scoring`` (one question), ``summary`` (the typed ``Metrics``), ``run`` (``run_eval``,
``apply_threshold``), ``report`` (predictions.jsonl, metrics.json, report.md and plots).

Example:
    >>> run = run_eval(Path("corpus/gold/default.jsonl"), EvalConfig(limit=10), index_dir=Path(".qa-index"))  # doctest: +SKIP
    >>> from qa.evaluation.report import write_outputs      # matplotlib: imported only to write a report
    >>> write_outputs(run, Path("runs/default"))                                          # doctest: +SKIP
"""

from qa.evaluation.records import EvalConfig, Outcome
from qa.evaluation.run import EvalRun, apply_threshold, make_run, run_eval, sample
from qa.evaluation.summary import Metrics

__all__ = ["EvalConfig", "EvalRun", "Metrics", "Outcome", "apply_threshold", "make_run", "run_eval", "sample"]

