"""The application factory, its settings, the JSON error format and /health."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort, request
from flask.testing import FlaskClient
from werkzeug.exceptions import TooManyRequests

from folio.app import create_app
from folio.config import Settings, env_bool
from folio.errors import FolioError
from folio.pipeline.errors import NotAPdf, TooManyPages
from folio.web.errors import INTERNAL_ERROR_MESSAGE, error_response

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_app(tmp_path: Path, **extra: str) -> Flask:
    """Build an app from an explicit environment, never the real one."""
    environ = {"FOLIO_ENV": "test", "FOLIO_DATA_DIR": str(tmp_path / "data"), **extra}
    return create_app(Settings.from_env(environ))


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def error_of(body: Any) -> dict[str, Any]:
    """Return the `error` object of a JSON error answer, checking its shape."""
    assert isinstance(body, dict) and set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


# --- create_app and /health -------------------------------------------------------------


def test_create_app_applies_settings_and_creates_data_dir(tmp_path: Path) -> None:
    app = make_app(tmp_path, FOLIO_MAX_UPLOAD_MB="3")
    settings = app.config["FOLIO_SETTINGS"]
    assert isinstance(settings, Settings)
    assert app.config["SECRET_KEY"] == settings.secret_key
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * 1024 * 1024
    assert app.config["TESTING"] is True
    assert (tmp_path / "data").is_dir()


def test_health(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "version": version("folio")}


# --- the JSON error format ---------------------------------------------------------------


def test_unknown_url_is_json_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.is_json
    assert error_of(response.get_json())["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(client: FlaskClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    assert response.is_json
    assert error_of(response.get_json())["code"] == "method_not_allowed"
    assert {"GET", "HEAD", "OPTIONS"} <= set(response.allow)


def test_folio_error_keeps_code_message_status_and_details(app: Flask) -> None:
    @app.get("/test/api-error")
    def raise_api_error() -> str:
        raise FolioError(
            "No job has this id.", {"job_id": "abc"}, code="job_not_found", http_status=404
        )

    response = app.test_client().get("/test/api-error")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {
            "code": "job_not_found",
            "message": "No job has this id.",
            "details": {"job_id": "abc"},
        }
    }


def test_folio_error_without_details_has_no_details_key(app: Flask) -> None:
    @app.get("/test/api-error")
    def raise_api_error() -> str:
        raise FolioError("Minimum words is above the maximum.", code="bad_settings")

    response = app.test_client().get("/test/api-error")
    assert response.status_code == 400
    assert error_of(response.get_json()) == {
        "code": "bad_settings",
        "message": "Minimum words is above the maximum.",
    }


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotAPdf("This file is not a PDF."), 415, "not_a_pdf"),
        (
            TooManyPages("This PDF has 3000 pages; the limit is 2000."),
            413,
            "too_many_pages",
        ),
    ],
)
def test_pipeline_error_uses_its_own_code_and_status(
    app: Flask, error: Exception, status: int, code: str
) -> None:
    @app.get("/test/pipeline-error")
    def raise_pipeline_error() -> str:
        raise error

    response = app.test_client().get("/test/pipeline-error")
    assert response.status_code == status
    assert error_of(response.get_json()) == {"code": code, "message": str(error)}


def test_unexpected_error_is_generic_500_and_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/test/crash")
    def crash() -> str:
        raise RuntimeError("db password is hunter2")

    response = app.test_client().get("/test/crash")
    assert response.status_code == 500
    assert error_of(response.get_json()) == {
        "code": "internal_error",
        "message": INTERNAL_ERROR_MESSAGE,
    }
    assert b"hunter2" not in response.data
    # The traceback goes to the log instead.
    assert "RuntimeError: db password is hunter2" in caplog.text


def test_body_over_max_content_length_is_413(tmp_path: Path) -> None:
    app = make_app(tmp_path, FOLIO_MAX_UPLOAD_MB="1")

    @app.post("/test/upload")
    def upload() -> dict[str, int]:
        return {"size": len(request.data)}

    client = app.test_client()
    assert client.post("/test/upload", data=b"x" * 1024).get_json() == {"size": 1024}
    response = client.post("/test/upload", data=b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert error_of(response.get_json())["code"] == "file_too_large"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "bad_request"),
        (415, "unsupported_media_type"),
        (401, "unauthorized"),
        (422, "unprocessable_entity"),
        (418, "im_a_teapot"),
        (505, "http_version_not_supported"),
    ],
)
def test_other_http_errors_are_json(app: Flask, status: int, code: str) -> None:
    @app.get("/test/abort")
    def abort_route() -> str:
        abort(status)

    response = app.test_client().get("/test/abort")
    assert response.status_code == status
    assert response.is_json
    assert error_of(response.get_json())["code"] == code


def test_abort_description_becomes_the_message(app: Flask) -> None:
    @app.get("/test/abort")
    def abort_route() -> str:
        abort(404, description="No job has this id.")

    error = error_of(app.test_client().get("/test/abort").get_json())
    assert error == {"code": "not_found", "message": "No job has this id."}


def test_rate_limited_keeps_retry_after(app: Flask) -> None:
    @app.get("/test/limited")
    def limited() -> str:
        raise TooManyRequests(retry_after=30)

    response = app.test_client().get("/test/limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.content_type == "application/json"
    assert error_of(response.get_json())["code"] == "rate_limited"


def test_error_response_outside_handlers(app: Flask) -> None:
    with app.app_context():
        response, status = error_response("conflict", "Already running.", 409, {"job": 1})
    assert status == 409
    assert response.get_json() == {
        "error": {
            "code": "conflict",
            "message": "Already running.",
            "details": {"job": 1},
        }
    }


# --- Settings.from_env -------------------------------------------------------------------


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.data_dir == REPO_ROOT / "var"
    assert settings.max_upload_mb == 100
    assert settings.max_pages == 2000
    assert settings.log_level == "INFO"
    assert settings.corpus_dir == (REPO_ROOT / ".." / "shared" / "corpus").resolve()
    assert len(settings.secret_key) >= 32
    # One random key per process, so every app built in this process signs alike.
    assert Settings.from_env({"FOLIO_ENV": "test"}).secret_key == settings.secret_key


def test_values_are_read_and_normalised(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "FOLIO_ENV": "Production",
            "FOLIO_SECRET_KEY": "s3cret",
            "FOLIO_DATA_DIR": str(tmp_path / "d" / ".." / "data"),
            "FOLIO_MAX_UPLOAD_MB": " 5 ",
            "FOLIO_MAX_PAGES": "10",
            "FOLIO_LOG_LEVEL": "debug",
            "FOLIO_CORPUS_DIR": str(tmp_path),
        }
    )
    assert settings.env == "production"
    assert settings.secret_key == "s3cret"
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert (settings.max_upload_mb, settings.max_pages) == (5, 10)
    assert settings.log_level == "DEBUG"
    assert settings.corpus_dir == tmp_path.resolve()
    assert "s3cret" not in repr(settings)


def test_blank_value_means_default() -> None:
    assert Settings.from_env({"FOLIO_MAX_PAGES": "  "}).max_pages == 2000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FOLIO_MAX_UPLOAD_MB", "ten"),
        ("FOLIO_MAX_PAGES", "1.5"),
        ("FOLIO_MAX_PAGES", "0"),
        ("FOLIO_ENV", "staging"),
        ("FOLIO_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_value_raises_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_production_requires_secret_key() -> None:
    with pytest.raises(ValueError, match="FOLIO_SECRET_KEY"):
        Settings.from_env({"FOLIO_ENV": "production"})
    with pytest.raises(ValueError, match="FOLIO_SECRET_KEY"):
        Settings.from_env({"FOLIO_ENV": "production", "FOLIO_SECRET_KEY": " "})


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.max_pages = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    # The default is True, so only the blank value reads as the default.
    [("1", True), ("YES", True), ("off", False), ("0", False), ("", True)],
)
def test_env_bool(value: str, expected: bool) -> None:
    assert env_bool({"FOLIO_FLAG": value}, "FOLIO_FLAG", True) is expected


def test_env_bool_rejects_other_words() -> None:
    with pytest.raises(ValueError, match="FOLIO_FLAG"):
        env_bool({"FOLIO_FLAG": "maybe"}, "FOLIO_FLAG", False)


# --- the real WSGI server ----------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float) -> Any:
    """Poll `url` until it answers 200 and return its JSON; fail with the log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # Not listening yet, or still loading the app on a busy machine.
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout} s:\n{log.read_text()}")


def test_gunicorn_serves_health(tmp_path: Path) -> None:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    port = free_port()
    env = {**os.environ, "FOLIO_ENV": "test", "FOLIO_DATA_DIR": str(tmp_path / "data")}
    command = [
        str(gunicorn),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "folio.wsgi:app",
    ]
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            body = wait_for_health(f"http://127.0.0.1:{port}/health", server, log_path, timeout=20)
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert body == {"status": "ok", "version": version("folio")}
    assert (tmp_path / "data").is_dir()
    assert server.returncode == 0, log_path.read_text()
