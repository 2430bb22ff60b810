"""The frontend's static export served at `/` (folio.web.frontend), on a tiny fake export.

No Node build is needed: each test writes the few files an export has into tmp_path.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from folio.app import create_app
from folio.config import DEFAULT_FRONTEND_DIR, REPO_ROOT, Settings

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
INLINE = "self.__next_f=self.__next_f||[]"


def make_app(tmp_path: Path, frontend: Path) -> Flask:
    environ = {
        "FOLIO_ENV": "test",
        "FOLIO_DATA_DIR": str(tmp_path / "data"),
        "FOLIO_FRONTEND_DIR": str(frontend),
    }
    return create_app(Settings.from_env(environ))


def page(title: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        '<script src="/_next/static/chunks/app.js" async=""></script></head>'
        f"<body><h1>{title}</h1><script>{INLINE}</script></body></html>"
    )


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An export as `next build` with `output: 'export'` lays it out (no trailing slash)."""
    root = tmp_path / "out"
    files = {
        "index.html": page("Upload"),
        "history.html": page("History"),
        "jobs/view.html": page("Results"),
        "jobs/view/__next._full.txt": "rsc",
        "404.html": page("Page not found"),
        "_next/static/chunks/app.js": "console.log(1)",
        "favicon.ico": "icon",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def client(tmp_path: Path, export: Path) -> FlaskClient:
    return make_app(tmp_path, export).test_client()


def test_the_default_export_is_the_repository_frontend() -> None:
    assert DEFAULT_FRONTEND_DIR == REPO_ROOT / "frontend" / "out"
    assert Settings.from_env({}).frontend_dir == DEFAULT_FRONTEND_DIR


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Upload"),
        ("/index.html", "Upload"),
        ("/history", "History"),
        ("/history/", "History"),
        ("/history.html", "History"),
        ("/jobs/view", "Results"),
    ],
)
def test_pages_are_served_at_their_paths(client: FlaskClient, path: str, title: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_page_revalidates_with_its_etag(client: FlaskClient) -> None:
    first = client.get("/history")
    again = client.get("/history", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_hashed_assets_are_immutable_and_the_rest_revalidates(client: FlaskClient) -> None:
    asset = client.get("/_next/static/chunks/app.js")
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
    payload = client.get("/jobs/view/__next._full.txt")
    assert payload.status_code == 200
    assert payload.headers["Cache-Control"] == "no-cache"


def test_a_page_allows_only_its_own_inline_scripts(client: FlaskClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    digest = base64.b64encode(hashlib.sha256(INLINE.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_an_unknown_page_is_the_export_404_for_browsers(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers=HTML)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


def test_an_unknown_path_is_still_json_404_for_api_clients(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing", "/api/v1/jobs/not-a-uuid", "/api", "/health/x", "/metrics", "/flower/"],
)
def test_the_api_and_operator_paths_are_never_pages(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_routes_are_not_shadowed(client: FlaskClient) -> None:
    assert client.get("/health", headers=HTML).get_json()["status"] == "ok"
    wrong_method = client.post("/health", headers=HTML)
    assert wrong_method.status_code == 405
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/jobs").status_code == 401


def test_only_get_and_head_serve_pages(client: FlaskClient) -> None:
    assert client.head("/history").status_code == 200
    response = client.post("/history", headers=HTML)
    assert response.status_code == 404
    assert response.is_json


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"])
def test_no_file_outside_the_export(tmp_path: Path, client: FlaskClient, path: str) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    response = client.get(path, headers=HTML)
    assert response.status_code == 404
    assert "secret" not in response.get_data(as_text=True)


def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    client = make_app(tmp_path, tmp_path / "missing").test_client()
    html = client.get("/", headers=HTML)
    assert html.status_code == 503
    assert "make run" in html.get_data(as_text=True)
    as_json = client.get("/")
    assert as_json.status_code == 503
    assert as_json.get_json()["error"]["code"] == "frontend_not_built"
    # Other unknown paths stay the API's JSON 404, and the API itself works.
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/health").status_code == 200
