"""Shared fixtures: the real-novel corpus beside the repository, and small generated PDFs;
apps on real databases (SQLite, PostgreSQL) and Redis."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

import databases
from folio.config import Settings


def _in_ci() -> bool:
    return databases.in_ci()


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


# --- databases and services: see tests/databases.py --------------------------------------


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL database of this session, migrated; dropped at the end."""
    databases.check_postgres()
    with databases.fresh_postgres_database() as url:
        databases.migrate(tmp_path_factory.mktemp("pg-migrate"), url)
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database that each test copies (migrating once is faster)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    databases.migrate(folder, f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_app(tmp_path: Path, sqlite_template: Path) -> Flask:
    """An app on its own migrated SQLite file (WAL), rate limits off."""
    return databases.sqlite_app_from(sqlite_template, tmp_path)


@pytest.fixture
def pg_app(tmp_path: Path, postgres_url: str) -> Iterator[Flask]:
    """An app on the session's PostgreSQL database, emptied after the test."""
    app = databases.make_db_app(tmp_path / "data", postgres_url)
    yield app
    databases.empty_tables(app)


@pytest.fixture(params=["sqlite_app", "pg_app"], ids=["sqlite", "postgresql"])
def db_app(request: pytest.FixtureRequest) -> Flask:
    """The test runs once on SQLite and once on PostgreSQL."""
    app: Flask = request.getfixturevalue(request.param)
    return app


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL (a database of its own)."""
    databases.check_redis()
    return databases.REDIS_URL


@pytest.fixture(scope="session")
def tesseract() -> None:
    """Tesseract with its French model: skipped without it, but required under CI."""
    from folio.pipeline.sources.pdf import ocr

    missing = shutil.which("tesseract") is None
    if not missing:
        try:
            ocr.check_available("fra")
        except Exception:
            missing = True
    if missing:
        message = "tesseract with its French model is not installed (make tesseract)"
        if _in_ci():
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
