"""Rate limits: 429 in the JSON error format with Retry-After; per IP, e-mail and user; off."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from databases import sqlite_app_from
from factories import PASSWORD, make_user
from folio.config import Settings
from folio.web.auth import current_user, token_required
from folio.web.ratelimit import limit_job_creation


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
