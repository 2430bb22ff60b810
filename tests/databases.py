"""Real databases for the tests: a fresh PostgreSQL database per session, SQLite files, Redis.

Tests that need PostgreSQL or Redis skip with the reason when the service is unreachable,
and fail instead under CI=true, where a skipped guarantee would pass unnoticed.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import flask_migrate
import psycopg
import pytest
import redis
from flask import Flask
from psycopg import sql
from sqlalchemy import make_url, text

from folio.app import create_app
from folio.config import Settings
from folio.extensions import db

# The server's maintenance database: test databases are created and dropped from it.
POSTGRES_ADMIN_URL = os.environ.get(
    "FOLIO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("FOLIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TABLES = (
    "job_sentences",
    "job_chunks",
    "uploads",
    "credit_ledger",
    "refresh_tokens",
    "jobs",
    "users",
)


def in_ci() -> bool:
    """Whether the tests run under CI (CI=true), where a missing service is a failure."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(message: str) -> None:
    """Skip the test for `message`, or fail it under CI."""
    if in_ci():
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def check_postgres() -> None:
    """Skip (fail under CI) unless the PostgreSQL server answers."""
    try:
        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL} ({error})")


def check_redis() -> None:
    """Skip (fail under CI) unless the Redis server answers."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        unavailable(f"Redis is unreachable at {REDIS_URL} ({error})")


def sqlalchemy_url(database: str) -> str:
    """The SQLAlchemy URL of `database` on the test PostgreSQL server."""
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database with a random name, yield its URL, then drop it."""
    name = f"folio_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield sqlalchemy_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            # FORCE: a test that failed half-way may have left a connection open.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def make_db_app(data_dir: Path, database_url: str, **extra: str) -> Flask:
    """An app on `database_url`, rate limits off unless `extra` turns them on."""
    environ = {
        "FOLIO_ENV": "test",
        "FOLIO_DATA_DIR": str(data_dir),
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_RATELIMIT_ENABLED": "false",
        **extra,
    }
    return create_app(Settings.from_env(environ))


def migrate(data_dir: Path, database_url: str) -> None:
    """Run every migration on `database_url`, as `flask db upgrade` does."""
    app = make_db_app(data_dir, database_url)
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def sqlite_app_from(template: Path, folder: Path, **extra: str) -> Flask:
    """An app on a fresh copy, in `folder`, of the migrated SQLite database `template`."""
    path = folder / "folio.db"
    copy_sqlite(template, path)
    return make_db_app(folder / "data", f"sqlite:///{path}", **extra)


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database file consistently (WAL content included)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def empty_tables(app: Flask) -> None:
    """Delete every row the test wrote, so that the next test starts from empty tables."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        db.engine.dispose()
