"""The command-line option that names a dataset file for a benchmark script, one flag name per dataset.

The default comes from ``corpus.datasets`` (``$QA_DATA_DIR``, else ``../shared/data`` beside the checkout), so
no script knows where the data of one machine lives; the option overrides it for one run.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_dataset_option(parser, SQUAD_V11_DEV)
    >>> parser.parse_args(["--squad11-dev", "/tmp/dev.json.gz"]).squad11_dev
    PosixPath('/tmp/dev.json.gz')
"""

from __future__ import annotations

import argparse
from pathlib import Path

from corpus.datasets import (
    BEIR_SCIFACT,
    DATA_DIR_ENV,
    SQUAD_V11_DEV,
    SQUAD_V11_TRAIN,
    SQUAD_V20_DEV,
    dataset_path,
)

# The flag of each dataset, the same in every script (two older scripts keep their `--data`: see ``flag``).
FLAGS = {
    SQUAD_V11_TRAIN: "--squad11-train",
    SQUAD_V11_DEV: "--squad11-dev",
    SQUAD_V20_DEV: "--squad2-dev",
    BEIR_SCIFACT: "--scifact",
}


def add_dataset_option(parser: argparse.ArgumentParser, name: str, flag: str | None = None) -> None:
    """Add ``flag`` (default: the dataset's flag in ``FLAGS``), a path defaulting to ``dataset_path(name)``."""
    parser.add_argument(
        flag or FLAGS[name], type=Path, default=dataset_path(name), metavar="PATH",
        help=f"{name} (default: %(default)s; ${DATA_DIR_ENV} sets the folder)",
    )
