"""Shared fixtures: the real-novel corpus beside the repository, and small generated PDFs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from folio.config import Settings


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared corpus (FOLIO_CORPUS_DIR, default ../shared/corpus); required under CI."""
    path = Settings.from_env().corpus_dir
    if not (path / "pdfs").is_dir() or not (path / "texts").is_dir():
        message = f"the shared corpus is not at {path} (set FOLIO_CORPUS_DIR to its folder)"
        if _in_ci():
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def bad_dir(corpus_dir: Path) -> Path:
    """The corpus's inputs that must be refused cleanly."""
    return corpus_dir / "pdfs" / "bad"
