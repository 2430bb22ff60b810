"""Hostile requests get a clear answer in the one JSON error format: bodies nested too deeply,
oversized request lines and headers, any case of the bearer scheme; and every answer carries
the headers that stop content sniffing and framing."""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from apiclient import Account
from databases import sqlite_app_from
from runner import clean_environ, free_port, http_status, kill_group, start, wait_until


def nested(depth: int) -> bytes:
    """A JSON body of `depth` nested arrays inside an object with an e-mail address."""
    deep = b"[" * depth + b"]" * depth
    return b'{"email": "a@example.com", "password": "x", "deep": ' + deep + b"}"


def error_code(response: Any) -> str:
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, response.data[:200]
    code: str = body["error"]["code"]
    return code


# --- JSON nested too deeply ----------------------------------------------------------------


@pytest.mark.parametrize("limits", ["off", "on"])
@pytest.mark.parametrize("depth", [100_000, 200])
@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register"])
def test_a_body_nested_too_deeply_is_400(
    sqlite_template: Path, tmp_path: Path, limits: str, depth: int, path: str
) -> None:
    enabled = "true" if limits == "on" else "false"
    app = sqlite_app_from(sqlite_template, tmp_path, FOLIO_RATELIMIT_ENABLED=enabled)
    response = app.test_client().post(path, data=nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "json_too_deep"


def test_a_job_body_nested_too_deeply_is_400(sqlite_app: Flask) -> None:
    alice = Account(sqlite_app, granted=5)
    response = alice.client.post(
        "/api/v1/jobs", data=nested(100_000), content_type="application/json", headers=alice.headers
    )
    assert (response.status_code, error_code(response)) == (400, "json_too_deep")


def test_an_ordinary_nesting_is_left_to_validation(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().post(
        "/api/v1/auth/login", data=nested(5), content_type="application/json"
    )
    # Parsed, then refused by the schema as any unknown field is.
    assert (response.status_code, error_code(response)) == (422, "validation_error")


# --- headers against sniffing and framing --------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/health", 200),
        ("get", "/api/v1/openapi.json", 200),
        ("get", "/api/v1/docs", 200),
        ("get", "/api/v1/nothing-here", 404),
        ("get", "/api/v1/jobs", 401),
        ("delete", "/health", 405),
    ],
)
def test_every_answer_forbids_sniffing_and_framing(
    sqlite_app: Flask, method: str, path: str, status: int
) -> None:
    response = getattr(sqlite_app.test_client(), method)(path)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_json_answers_allow_no_content_at_all(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/health")
    policy = response.headers["Content-Security-Policy"]
    assert policy == "default-src 'none'; frame-ancestors 'none'"


def test_a_download_forbids_sniffing_and_framing(sqlite_app: Flask) -> None:
    alice = Account(sqlite_app, granted=5)
    job_id = alice.finished(["Une phrase.", "Une autre."])
    response = alice.client.get(f"/api/v1/jobs/{job_id}/download?format=csv", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


# --- the bearer scheme, in any case (RFC 9110 11.1, RFC 6750) ------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_api_takes_the_bearer_scheme_in_any_case(sqlite_app: Flask, scheme: str) -> None:
    alice = Account(sqlite_app, granted=5)
    token = alice.headers["Authorization"].split(" ", 1)[1]
    response = alice.client.get("/api/v1/auth/me", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_metrics_take_the_bearer_scheme_in_any_case(sqlite_app: Flask, scheme: str) -> None:
    settings = sqlite_app.config["FOLIO_SETTINGS"]
    token = "metrics-token-of-some-length"
    sqlite_app.config["FOLIO_SETTINGS"] = dataclasses.replace(settings, metrics_token=token)
    response = sqlite_app.test_client().get(
        "/metrics", headers={"Authorization": f"{scheme} {token}"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "bearertoken", "Token abc"])
def test_other_schemes_are_still_refused(sqlite_app: Flask, header: str) -> None:
    response = sqlite_app.test_client().get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_code(response) in ("token_missing", "token_invalid")


# --- oversized request lines and headers: gunicorn answers them itself ---------------------


def raw_http(port: int, request: bytes) -> tuple[int, str, bytes]:
    """Send `request` as is; the status, Content-Type and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


def get(path: bytes, headers: bytes = b"") -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"Connection: close\r\n\r\n"


def test_gunicorn_answers_oversized_requests_as_docs_api_md_says(tmp_path: Path) -> None:
    """docs/api.md, "Hostile requests": what gunicorn refuses before Folio sees the request
    (its defaults: a 4094-byte request line, 100 header fields of 8190 bytes each)."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    environ = clean_environ(FOLIO_ENV="test", FOLIO_DATA_DIR=str(tmp_path / "data"))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = start([gunicorn, "--bind", f"127.0.0.1:{port}", "folio.wsgi:app"], environ, log)
    try:
        wait_until(lambda: http_status(port, "/health") == 200, 60, "gunicorn", log)
        # Within the limits, Folio answers, in JSON.
        status, kind, body = raw_http(port, get(b"/api/v1/nothing?q=" + b"a" * 4000))
        assert (status, kind) == (404, "application/json")
        assert json.loads(body)["error"]["code"] == "not_found"
        # Over them, gunicorn answers in HTML, with no Folio header.
        status, kind, body = raw_http(port, get(b"/api/v1/nothing?q=" + b"a" * 5000))
        assert (status, kind) == (400, "text/html")
        assert b"Request Line is too large" in body
        status, kind, _ = raw_http(port, get(b"/health", b"X-Big: " + b"a" * 9000 + b"\r\n"))
        assert (status, kind) == (431, "text/html")
        many = b"".join(b"X-%d: a\r\n" % n for n in range(120))
        status, kind, _ = raw_http(port, get(b"/health", many))
        assert (status, kind) == (431, "text/html")
    finally:
        kill_group(server)
