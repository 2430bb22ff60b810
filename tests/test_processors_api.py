"""`/api/v1/processors`: the processors and models a job may choose, as this server is set up."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

import databases
from factories import make_user
from test_credits_api import access_token

KEY = "AIza-test-key-not-a-secret"


def processors(app: Flask) -> list[dict[str, object]]:
    """GET the list as a signed-in user."""
    with app.app_context():
        make_user("reader@example.com")
    client = app.test_client()
    response = client.get("/api/v1/processors", headers=access_token(client, "reader@example.com"))
    assert response.status_code == 200, response.get_json()
    assert KEY not in response.get_data(as_text=True)
    return list(response.get_json())


def test_without_llm_keys_only_local_is_available(sqlite_app: Flask) -> None:
    local, gemini, openai = processors(sqlite_app)
    assert local == {"name": "local", "available": True, "default_model": "", "models": []}
    assert (gemini["name"], gemini["available"], gemini["default_model"]) == (
        "gemini",
        False,
        "gemini-2.5-flash",
    )
    assert (openai["name"], openai["available"]) == ("openai", False)


def test_a_configured_llm_lists_its_models(sqlite_template: Path, tmp_path: Path) -> None:
    app = databases.sqlite_app_from(
        sqlite_template,
        tmp_path,
        FOLIO_GEMINI_API_KEY=KEY,
        FOLIO_GEMINI_MODELS="gemini-2.5-flash,gemini-2.5-flash-lite",
        FOLIO_OPENAI_BASE_URL="http://127.0.0.1:8080/v1",
        FOLIO_OPENAI_MODEL="local-model",
    )
    gemini, openai = processors(app)[1:]
    assert gemini == {
        "name": "gemini",
        "available": True,
        "default_model": "gemini-2.5-flash",
        "models": ["gemini-2.5-flash", "gemini-2.5-flash-lite"],
    }
    assert openai == {
        "name": "openai",
        "available": True,
        "default_model": "local-model",
        "models": ["local-model"],
    }


def test_anonymous_is_refused(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/api/v1/processors")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"]
