"""Where things live on disk, each overridable by an environment variable.

| what            | default                   | variable        |
| --------------- | ------------------------- | --------------- |
| results folder  | resultados/               | FTDASH_RESULTS  |
| database file   | resultados/estudo.duckdb  | FTDASH_DB       |
| run folders     | resultados/runs/          | (under results) |
| model cache     | resultados/models/        | FTDASH_MODELS   |
| data folder     | dados/                    | FTDASH_DATA     |

Functions (not constants) so that tests can point everything at a temporary folder with
``monkeypatch.setenv`` after import.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    return Path(os.environ.get("FTDASH_RESULTS", PROJECT_ROOT / "resultados"))


def db_path() -> Path:
    return Path(os.environ.get("FTDASH_DB", results_dir() / "estudo.duckdb"))


def runs_dir() -> Path:
    return results_dir() / "runs"


def cache_dir() -> Path:
    return results_dir() / "cache"


def models_dir() -> Path:
    return Path(os.environ.get("FTDASH_MODELS", results_dir() / "models"))


def data_dir() -> Path:
    return Path(os.environ.get("FTDASH_DATA", PROJECT_ROOT / "dados"))


def sample_raw_path() -> Path:
    """The bundled raw sample (trn.json-shaped, gzipped), shown at first start."""
    return PROJECT_ROOT / "dados" / "amostra_trn_20k.json.gz"


def seed_dir() -> Path:
    """The seed study's real train/test split, bundled in dados/seed/."""
    return PROJECT_ROOT / "dados" / "seed"
