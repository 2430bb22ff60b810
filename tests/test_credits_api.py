"""`/api/v1/credits`: the caller's balance and ledger, paginated, and nobody else's."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from factories import PASSWORD, make_job, make_user
from folio.services import credits


def access_token(client: FlaskClient, email: str) -> dict[str, str]:
    """Sign in as `email` and return the Authorization header."""
    body = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {body.get_json()['access_token']}"}


def ledger(client: FlaskClient, headers: dict[str, str], query: str = "") -> Any:
    """GET the ledger and return its JSON, checking the status."""
    response = client.get(f"/api/v1/credits/ledger{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_balance_and_ledger_show_only_the_callers_rows(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        alice, bob = make_user("alice@example.com", granted=50), make_user("bob@example.com")
        credits.admin_grant(bob.id, 7, "bob's")
        job = make_job(alice)
        credits.reserve(alice.id, job.id, 20)
        credits.settle(job.id, charged=15)
        job_id = str(job.id)
    client = sqlite_app.test_client()
    alice_headers = access_token(client, "alice@example.com")
    assert client.get("/api/v1/credits/balance", headers=alice_headers).get_json() == {
        "balance": 35
    }
    page = ledger(client, alice_headers)
    assert [(row["kind"], row["delta"], row["balance_after"]) for row in page["items"]] == [
        ("settle", 5, 35),
        ("reserve", -20, 30),
        ("admin_grant", 50, 50),
    ]
    assert page["items"][0]["job_id"] == job_id
    assert page["next_before"] is None
    bob_page = ledger(client, access_token(client, "bob@example.com"))
    assert [row["note"] for row in bob_page["items"]] == ["bob's"]


def test_ledger_pages_with_a_cursor(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        user = make_user("reader@example.com")
        for amount in range(1, 6):
            credits.admin_grant(user.id, amount)
    client = sqlite_app.test_client()
    headers = access_token(client, "reader@example.com")
    first = ledger(client, headers, "?limit=2")
    assert [row["delta"] for row in first["items"]] == [5, 4]
    second = ledger(client, headers, f"?limit=2&before={first['next_before']}")
    assert [row["delta"] for row in second["items"]] == [3, 2]
    last = ledger(client, headers, f"?limit=2&before={second['next_before']}")
    assert [row["delta"] for row in last["items"]] == [1]
    assert last["next_before"] is None


def test_ledger_query_is_validated(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        make_user("reader@example.com")
    client = sqlite_app.test_client()
    headers = access_token(client, "reader@example.com")
    response = client.get("/api/v1/credits/ledger?limit=1000", headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], list(error["details"])) == ("validation_error", ["limit"])


def test_credit_endpoints_need_a_token(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    for path in ("/api/v1/credits/balance", "/api/v1/credits/ledger"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "token_missing"


def test_insufficient_credits_answers_402_with_the_numbers(sqlite_app: Flask) -> None:
    @sqlite_app.post("/test/reserve")
    def reserve_too_much() -> dict[str, int]:
        user = make_user(granted=3)
        entry = credits.reserve(user.id, make_job(user).id, 5)
        return {"balance": entry.balance_after}

    response = sqlite_app.test_client().post("/test/reserve")
    assert response.status_code == 402
    assert response.get_json()["error"] == {
        "code": "insufficient_credits",
        "message": "This needs 5 credits; the balance is 3.",
        "details": {"balance": 3, "needed": 5},
    }
