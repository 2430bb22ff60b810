"""Rate limits: 429 in the JSON error format with Retry-After; per IP, e-mail and user; off."""

from __future__ import annotations

import http.client
import json
import re
import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from databases import copy_sqlite, sqlite_app_from
from factories import PASSWORD, make_user
from folio.app import create_app
from folio.config import Settings
from folio.web.auth import current_user, token_required
from folio.web.ratelimit import limit_job_creation
from runner import SECRET_KEY, clean_environ, free_port, http_status, kill_group, start, wait_until


def limited_app(template: Path, folder: Path, **extra: str) -> Flask:
    """An app with rate limits on (the other tests turn them off)."""
    return sqlite_app_from(template, folder, FOLIO_RATELIMIT_ENABLED="true", **extra)


def login(client: FlaskClient, email: str, ip: str, password: str = PASSWORD) -> int:
    """POST a login from `ip` and return the status."""
    response = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    return response.status_code


def a_loopback_ip() -> str:
    """A random client address, so that runs sharing a Redis never share a count."""
    return f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def assert_rate_limited(client: FlaskClient, email: str, ip: str) -> None:
    """The next login is refused with 429, the JSON error format and a Retry-After."""
    response = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_login_is_limited_per_ip(sqlite_template: Path, tmp_path: Path) -> None:
    app = limited_app(sqlite_template, tmp_path, FOLIO_LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    ip = a_loopback_ip()
    # Failed attempts count: they are what a password-guessing attack sends.
    assert [login(client, f"u{n}@example.com", ip, "wrong!") for n in range(3)] == [401] * 3
    assert_rate_limited(client, "someone@example.com", ip)
    assert login(client, "someone@example.com", a_loopback_ip()) == 401


def test_login_is_limited_per_email_across_ips(sqlite_template: Path, tmp_path: Path) -> None:
    app = limited_app(sqlite_template, tmp_path, FOLIO_LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        make_user("target@example.com")
    client = app.test_client()
    statuses = [
        login(client, email, a_loopback_ip())
        for email in ("target@example.com", "TARGET@example.com", " target@example.com")
    ]
    assert statuses == [200, 200, 200]
    assert_rate_limited(client, "Target@Example.com", a_loopback_ip())


def test_register_is_limited_too(sqlite_template: Path, tmp_path: Path) -> None:
    app = limited_app(sqlite_template, tmp_path, FOLIO_LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    body = {"email": "new@example.com", "password": "a long enough passphrase"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_limits_can_be_turned_off(sqlite_app: Flask) -> None:
    # sqlite_app runs with FOLIO_RATELIMIT_ENABLED=false, the way the test suite does.
    client = sqlite_app.test_client()
    assert {login(client, "x@example.com", "127.0.0.9", "wrong!") for _ in range(15)} == {401}


def test_counts_live_in_redis(sqlite_template: Path, tmp_path: Path, redis_url: str) -> None:
    app = limited_app(
        sqlite_template,
        tmp_path,
        FOLIO_LOGIN_RATE_LIMIT="2 per minute",
        FOLIO_RATELIMIT_STORAGE_URL=redis_url,
    )
    ip = a_loopback_ip()
    email = f"{secrets.token_hex(6)}@example.com"
    client = app.test_client()
    assert [login(client, email, ip) for _ in range(2)] == [401, 401]
    assert_rate_limited(client, email, ip)


def test_job_creation_limit_is_per_user(sqlite_template: Path, tmp_path: Path) -> None:
    app = limited_app(sqlite_template, tmp_path, FOLIO_JOB_RATE_LIMIT="2 per hour")

    @app.post("/test/jobs")
    @token_required()
    @limit_job_creation
    def create_job() -> dict[str, int]:
        return {"user": current_user().id}

    with app.app_context():
        make_user("alice@example.com")
        make_user("bob@example.com")
    client = app.test_client()
    ip = a_loopback_ip()
    headers = {}
    for email in ("alice@example.com", "bob@example.com"):
        token = client.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).get_json()["access_token"]
        headers[email] = {"Authorization": f"Bearer {token}"}
    alice = [
        client.post(
            "/test/jobs", headers=headers["alice@example.com"], environ_base={"REMOTE_ADDR": ip}
        ).status_code
        for _ in range(3)
    ]
    assert alice == [200, 200, 429]
    # Same IP, another user: a count of its own.
    bob = client.post(
        "/test/jobs", headers=headers["bob@example.com"], environ_base={"REMOTE_ADDR": ip}
    )
    assert bob.status_code == 200


def test_bad_limit_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="FOLIO_JOB_RATE_LIMIT"):
        Settings.from_env({"FOLIO_JOB_RATE_LIMIT": "lots"})


def test_behind_a_trusted_proxy_the_forwarded_ip_counts(
    sqlite_template: Path, tmp_path: Path
) -> None:
    app = limited_app(
        sqlite_template, tmp_path, FOLIO_LOGIN_RATE_LIMIT="1 per minute", FOLIO_TRUSTED_PROXIES="1"
    )
    client = app.test_client()
    statuses = [
        client.post(
            "/api/v1/auth/login",
            json={"email": f"u{n}@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": a_loopback_ip()},
            environ_base={"REMOTE_ADDR": "127.0.0.2"},
        ).status_code
        for n in range(3)
    ]
    # Three clients behind one proxy: each has a count of its own.
    assert statuses == [401, 401, 401]


# --- shared by every process on embedded defaults ------------------------------------------


def test_two_processes_share_one_count_by_default(sqlite_template: Path, tmp_path: Path) -> None:
    # Two apps on one data dir stand for two gunicorn workers (the real ones are tested below).
    database = tmp_path / "shared.db"
    copy_sqlite(sqlite_template, database)
    environ = {
        "FOLIO_ENV": "test",
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_DATABASE_URL": f"sqlite:///{database}",
        "FOLIO_LOGIN_RATE_LIMIT": "3 per minute",
    }
    first, second = (create_app(Settings.from_env(environ)).test_client() for _ in range(2))
    ip = a_loopback_ip()
    statuses = [
        login(client, f"u{n}@example.com", ip) for n, client in enumerate([first, second, first])
    ]
    assert statuses == [401, 401, 401]
    assert_rate_limited(second, "someone@example.com", ip)


def login_over_http(port: int, email: str) -> tuple[int, dict[str, Any]]:
    """POST a wrong login to 127.0.0.1:`port`: its status and JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"email": email, "password": "not the password"})
        connection.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_gunicorn_workers_share_the_login_limit(sqlite_template: Path, tmp_path: Path) -> None:
    """`make run`'s API (gunicorn, 2 workers, embedded defaults): the 11th login attempt in a
    minute is refused, whichever worker answers it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    copy_sqlite(sqlite_template, data_dir / "folio.db")
    port = free_port()
    log = tmp_path / "gunicorn.log"
    environ = clean_environ(FOLIO_DATA_DIR=str(data_dir), FOLIO_SECRET_KEY=SECRET_KEY)
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--preload"]
    # Each access line names the worker (pid) that answered.
    argv += ["--access-logfile", "-", "--access-logformat", "worker=%(p)s status=%(s)s"]
    server = start([*argv, "folio.wsgi:app"], environ, log)
    try:
        wait_until(lambda: http_status(port, "/health") == 200, 60, "gunicorn", log)
        # In parallel, so that both workers answer some (each is busy while it hashes).
        with ThreadPoolExecutor(max_workers=5) as pool:
            first = list(pool.map(lambda n: login_over_http(port, f"u{n}@example.com"), range(10)))
        assert [status for status, _ in first] == [401] * 10
        with ThreadPoolExecutor(max_workers=4) as pool:
            refused = list(pool.map(lambda n: login_over_http(port, f"v{n}@example.com"), range(4)))
        assert [(status, body["error"]["code"]) for status, body in refused] == [
            (429, "rate_limited")
        ] * 4
        wait_until(lambda: log.read_text().count("status=") >= 15, 10, "the access log", log)
        answered = re.findall(r"worker=<(\d+)> status=(\d+)", log.read_text())
        workers = {pid for pid, status in answered if status in ("401", "429")}
        assert len(workers) == 2, answered  # both workers counted, and both refused
    finally:
        kill_group(server)
