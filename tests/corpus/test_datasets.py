"""Where the datasets are looked for: $QA_DATA_DIR, else ../shared/data beside the checkout."""

from pathlib import Path

from corpus.datasets import DATA_DIR_ENV, SQUAD_V11_DEV, data_dir, dataset_path


def test_default_is_shared_data_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    repo = Path(__file__).resolve().parents[2]
    assert data_dir() == repo.parent / "shared" / "data"
    assert dataset_path(SQUAD_V11_DEV) == repo.parent / "shared" / "data" / "squad-v1.1-dev.json.gz"


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert data_dir() == tmp_path
    assert dataset_path(SQUAD_V11_DEV) == tmp_path / "squad-v1.1-dev.json.gz"
