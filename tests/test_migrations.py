"""The migrations are the truth: they build the schema the models describe, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import Column, MetaData, String, inspect

from databases import check_postgres, fresh_postgres_database, make_db_app
from folio.extensions import db


def flask_db(command: list[str], database_url: str, folder: Path) -> None:
    """Run the real `flask --app folio.wsgi db …` command on `database_url`."""
    flask = Path(sys.executable).parent / "flask"
    env = {
        **os.environ,
        "FOLIO_ENV": "test",
        "FOLIO_DATA_DIR": str(folder / "data"),
        "FOLIO_DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [str(flask), "--app", "folio.wsgi", "db", *command],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def differences(database_url: str, folder: Path, metadata: MetaData | None = None) -> list[Any]:
    """What alembic's autogenerate would change to make the database match the models."""
    app = make_db_app(folder / "data", database_url)
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                return list(compare_metadata(context, metadata or db.metadata))
        finally:
            db.engine.dispose()


def tables(database_url: str, folder: Path) -> set[str]:
    """The tables that exist in the database."""
    app = make_db_app(folder / "data", database_url)
    with app.app_context():
        try:
            return set(inspect(db.engine).get_table_names())
        finally:
            db.engine.dispose()


def check_upgrade_and_downgrade(database_url: str, folder: Path) -> None:
    """Upgrade an empty database, find no difference with the models, downgrade to nothing."""
    flask_db(["upgrade"], database_url, folder)
    assert differences(database_url, folder) == []
    assert tables(database_url, folder) >= set(db.metadata.tables)
    flask_db(["downgrade", "base"], database_url, folder)
    assert tables(database_url, folder) == {"alembic_version"}


def test_upgrade_on_empty_sqlite(tmp_path: Path) -> None:
    check_upgrade_and_downgrade(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)


def test_upgrade_on_empty_postgresql(tmp_path: Path) -> None:
    check_postgres()
    with fresh_postgres_database() as url:
        check_upgrade_and_downgrade(url, tmp_path)


def test_a_model_change_without_migration_is_caught(tmp_path: Path, sqlite_template: Path) -> None:
    # The comparison above is not vacuous: a column the migrations lack shows up.
    changed = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["users"].append_column(Column("nickname", String(40)))
    diffs = differences(f"sqlite:///{sqlite_template}", tmp_path, changed)
    assert [(diff[0], diff[3].name) for diff in diffs] == [("add_column", "nickname")]


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_app: Flask) -> None:
    with sqlite_app.app_context(), db.engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 30_000, "foreign_keys": 1}
