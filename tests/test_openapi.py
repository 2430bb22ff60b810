"""The OpenAPI document, generated from the code, and its docs page served without a CDN."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def client(sqlite_app: Flask) -> FlaskClient:
    return sqlite_app.test_client()


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_document_lists_every_route(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/credits/balance",
        "/api/v1/credits/ledger",
        "/api/v1/uploads",
        "/api/v1/uploads/{upload_id}",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/cancel",
        "/api/v1/jobs/{job_id}/retry",
        "/api/v1/jobs/{job_id}/chunks",
        "/api/v1/jobs/{job_id}/sentences",
        "/api/v1/jobs/{job_id}/download",
        "/api/v1/processors",
    }


def test_schemas_describe_requests_and_responses(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["Register"]["required"]) == {"email", "password"}
    assert set(schemas["User"]["properties"]) == {"id", "email", "role", "balance"}
    assert "password_hash" not in str(schemas)
    ledger = document["paths"]["/api/v1/credits/ledger"]["get"]
    assert {p["name"] for p in ledger["parameters"]} == {"before", "limit"}


def test_errors_are_documented_in_the_project_format(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    body = document["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]) == {"code", "message", "details"}
    validation = document["components"]["responses"]["UNPROCESSABLE_ENTITY"]
    assert validation["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_protected_routes_declare_the_bearer_scheme(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    me = document["paths"]["/api/v1/auth/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]


def test_docs_page_loads_its_assets_locally(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/api/v1/docs/assets/") for asset in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 1000


def test_unknown_asset_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs/assets/../../../etc/passwd")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
