"""Where the public measuring and training datasets (SQuAD, BEIR SciFact) live on this machine.

They are not shipped with the project. ``$QA_DATA_DIR`` names their folder; without it the default is
``../shared/data`` beside the checkout (the layout of the development machines). Training and the benchmarks
take their defaults from here and accept an explicit path as an option.

Example:
    >>> dataset_path("squad-v1.1-dev.json.gz")          # doctest: +SKIP
    PosixPath('/work/shared/data/squad-v1.1-dev.json.gz')
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "QA_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"

SQUAD_V11_TRAIN = "squad-v1.1-train.json.gz"
SQUAD_V11_DEV = "squad-v1.1-dev.json.gz"
SQUAD_V20_DEV = "squad-v2.0-dev.json.gz"
BEIR_SCIFACT = "beir-scifact"


def data_dir() -> Path:
    """The datasets folder: ``$QA_DATA_DIR`` when set, else ``../shared/data`` beside the checkout."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_DATA_DIR


def dataset_path(name: str) -> Path:
    """The path of one dataset file or folder (``SQUAD_V11_DEV``, ...) inside :func:`data_dir`."""
    return data_dir() / name
