"""GET /health and GET /ready: each dependency checked for real, stopped and started again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import make_url

import databases
from servers import RedisServer, TcpProxy
from workers import Stack, running_stack, stack_environ, wait_for

# A stopped dependency must be reported within this many seconds.
REPORT_SECONDS = 5.0


def ready(app: Flask) -> tuple[int, dict[str, Any], float]:
    """GET /ready: status, body, and how long it took."""
    started = time.monotonic()
    response = app.test_client().get("/ready")
    return response.status_code, response.get_json(), time.monotonic() - started


def test_health_is_liveness_only(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_ready_on_embedded_defaults_names_the_missing_workers(sqlite_app: Flask) -> None:
    status, body, took = ready(sqlite_app)
    assert status == 503, body
    assert body["status"] == "unavailable"
    components = body["components"]
    assert components["database"]["status"] == "ok"
    assert components["database"]["backend"] == "sqlite"
    assert components["broker"]["status"] == "ok"
    assert components["broker"]["transport"] == "filesystem"
    assert components["storage"]["status"] == "ok"
    assert components["workers"]["status"] == "error"
    assert "no worker answered" in components["workers"]["reason"]
    assert took < REPORT_SECONDS


def test_ready_reports_a_broken_file_store_and_recovers(sqlite_app: Flask, tmp_path: Path) -> None:
    uploads = tmp_path / "data" / "uploads"
    uploads.parent.mkdir(parents=True, exist_ok=True)
    uploads.write_bytes(b"")  # a file where the store's folder should be (root writes anywhere)
    _, body, _ = ready(sqlite_app)
    storage = body["components"]["storage"]
    assert storage["status"] == "error" and "FileExistsError" in storage["reason"], storage

    uploads.unlink()
    _, body, _ = ready(sqlite_app)
    assert body["components"]["storage"]["status"] == "ok"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, RedisServer, TcpProxy]]:
    """A fresh PostgreSQL database reached through a proxy, a Redis of its own, one worker."""
    databases.check_postgres()
    server = RedisServer(tmp_path)
    server.start()
    with databases.fresh_postgres_database() as database_url:
        url = make_url(database_url)
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
        proxy.start()
        environ = stack_environ(tmp_path / "data", database_url, server.url, server.url)
        (tmp_path / "data").mkdir()
        try:
            with running_stack(environ, tmp_path / "data") as stack:
                stack.start_worker("ready", concurrency=1, queues="control")
                # The API side reaches PostgreSQL only through the proxy the test controls.
                proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
                stack.environ = {**environ, "FOLIO_DATABASE_URL": proxied}
                yield stack, server, proxy
        finally:
            proxy.stop()
            server.stop()


def wait_until_ready(app: Flask, timeout: float) -> dict[str, Any]:
    """Poll /ready until it answers 200; its body."""
    answers: list[dict[str, Any]] = []

    def is_ready() -> bool:
        status, body, _ = ready(app)
        answers.append(body)
        return status == 200

    try:
        wait_for(is_ready, timeout, "/ready to answer 200")
    except AssertionError as error:
        raise AssertionError(f"{error}; last answer: {answers[-1:]}") from None
    return answers[-1]


def test_ready_reports_stopped_redis_and_postgresql_and_recovers(
    stack: tuple[Stack, RedisServer, TcpProxy],
) -> None:
    workers, server, proxy = stack
    app = workers.app()

    body = wait_until_ready(app, 20)
    assert body["status"] == "ready"
    assert body["components"]["database"]["backend"] == "postgresql"
    assert body["components"]["broker"]["transport"] == "redis"
    assert any(node.startswith("ready@") for node in body["components"]["workers"]["nodes"])

    server.stop()
    status, body, took = ready(app)
    assert status == 503 and body["status"] == "unavailable", body
    broker = body["components"]["broker"]
    assert broker["status"] == "error" and "Connection" in broker["reason"], broker
    assert body["components"]["database"]["status"] == "ok"
    assert took < REPORT_SECONDS

    server.start()  # the API is not restarted: the next checks see Redis back
    wait_until_ready(app, 30)

    proxy.stop()
    status, body, took = ready(app)
    assert status == 503, body
    database = body["components"]["database"]
    assert database["status"] == "error" and database["reason"], database
    assert body["components"]["broker"]["status"] == "ok"
    assert took < REPORT_SECONDS

    proxy.start()
    wait_until_ready(app, 10)
