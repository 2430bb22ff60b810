"""`/api/v1/auth`: sign-up, sign-in, rotation, sign-out, and every JWT attack refused."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token
from sqlalchemy import delete, select

from databases import sqlite_app_from
from factories import PASSWORD, make_user
from folio.extensions import db
from folio.models import LedgerEntry, LedgerKind, User
from folio.services.users import INVALID_CREDENTIALS_MESSAGE

STRONG = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for `token`."""
    return {"Authorization": f"Bearer {token}"}


def error_code(response: Any) -> str:
    """The `code` of a JSON error answer."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    code: str = body["error"]["code"]
    return code


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log in and return the token answer, checking it succeeded."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture
def client(sqlite_app: Flask) -> FlaskClient:
    return sqlite_app.test_client()


@pytest.fixture
def account(sqlite_app: Flask) -> User:
    with sqlite_app.app_context():
        return make_user("reader@example.com")


# --- register ----------------------------------------------------------------------------


def test_register_signs_in_with_signup_credits_once(client: FlaskClient, sqlite_app: Flask) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": " New.Reader@Example.COM ", "password": STRONG}
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["user"]["email"] == "new.reader@example.com"
    assert body["user"]["balance"] == 100
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert "password" not in json.dumps(body)
    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.get_json() == {
        "id": body["user"]["id"],
        "email": "new.reader@example.com",
        "role": "user",
        "balance": 100,
    }
    with sqlite_app.app_context():
        kinds = db.session.scalars(select(LedgerEntry.kind)).all()
        assert kinds == [LedgerKind.SIGNUP_GRANT]
        stored = db.session.scalar(select(User.password_hash))
        assert stored is not None and stored.startswith("$argon2id$")


def test_register_duplicate_email_in_any_case_is_409(client: FlaskClient, account: User) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": "READER@example.com", "password": STRONG}
    )
    assert response.status_code == 409
    assert error_code(response) == "email_taken"


@pytest.mark.parametrize(
    "password", ["short", "aaaaaaaaaaaaaaa", "reader@example.com!!", "x" * 129]
)
def test_register_weak_password_is_422(client: FlaskClient, password: str) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"email": "reader@example.com", "password": password}
    )
    assert response.status_code == 422
    body = response.get_json()["error"]
    assert body["code"] == "validation_error"
    assert set(body["details"]) == {"password"}


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"email": "not-an-address", "password": STRONG}, {"email"}),
        ({"password": STRONG}, {"email"}),
        ({"email": "a@example.com", "password": STRONG, "role": "admin"}, {"role"}),
    ],
)
def test_register_invalid_body_is_422_with_field_messages(
    client: FlaskClient, payload: dict[str, str], fields: set[str]
) -> None:
    response = client.post("/api/v1/auth/register", json=payload)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == fields


# --- login -------------------------------------------------------------------------------


def test_login_records_last_login(client: FlaskClient, account: User, sqlite_app: Flask) -> None:
    body = sign_in(client, "Reader@Example.com")
    assert body["user"]["email"] == "reader@example.com"
    with sqlite_app.app_context():
        assert db.session.scalar(select(User.last_login_at)) is not None


@pytest.mark.parametrize(
    ("email", "password"),
    [("reader@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)],
)
def test_wrong_password_and_unknown_email_answer_alike(
    client: FlaskClient, account: User, email: str, password: str
) -> None:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.get_json()["error"] == {
        "code": "invalid_credentials",
        "message": INVALID_CREDENTIALS_MESSAGE,
    }


# --- refresh and logout ------------------------------------------------------------------


def test_refresh_rotates_the_pair(client: FlaskClient, account: User) -> None:
    first = sign_in(client, "reader@example.com")
    response = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200
    # The access token from before the rotation still works until it expires.
    assert client.get("/api/v1/auth/me", headers=bearer(first["access_token"])).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(
    client: FlaskClient, account: User
) -> None:
    first = sign_in(client, "reader@example.com")
    second = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])).get_json()
    reuse = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    assert reuse.status_code == 401
    assert error_code(reuse) == "token_revoked"
    # Whoever held the newer pair is signed out too: one of the two was a thief.
    newer_refresh = client.post("/api/v1/auth/refresh", headers=bearer(second["refresh_token"]))
    assert error_code(newer_refresh) == "token_revoked"
    newer_access = client.get("/api/v1/auth/me", headers=bearer(second["access_token"]))
    assert error_code(newer_access) == "token_revoked"


def test_logout_revokes_refresh_and_access_tokens(client: FlaskClient, account: User) -> None:
    session = sign_in(client, "reader@example.com")
    other_session = sign_in(client, "reader@example.com")
    response = client.post("/api/v1/auth/logout", headers=bearer(session["access_token"]))
    assert response.status_code == 204
    refresh = client.post("/api/v1/auth/refresh", headers=bearer(session["refresh_token"]))
    assert (refresh.status_code, error_code(refresh)) == (401, "token_revoked")
    me = client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))
    assert (me.status_code, error_code(me)) == (401, "token_revoked")
    # Another device's session (another family) is untouched.
    assert (
        client.get("/api/v1/auth/me", headers=bearer(other_session["access_token"])).status_code
        == 200
    )


def test_logout_with_the_refresh_token(client: FlaskClient, account: User) -> None:
    session = sign_in(client, "reader@example.com")
    response = client.post("/api/v1/auth/logout", headers=bearer(session["refresh_token"]))
    assert response.status_code == 204
    me = client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))
    assert error_code(me) == "token_revoked"


# --- JWT attacks -------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = pyjwt.decode(token, options={"verify_signature": False})
    return claims


def test_expired_access_token(client: FlaskClient, account: User, sqlite_app: Flask) -> None:
    claims = _claims(sign_in(client, "reader@example.com")["access_token"])
    with sqlite_app.app_context():
        token = create_access_token(
            claims["sub"],
            expires_delta=timedelta(seconds=-5),
            additional_claims={"fam": claims["fam"]},
        )
    response = client.get("/api/v1/auth/me", headers=bearer(token))
    assert (response.status_code, error_code(response)) == (401, "token_expired")


def test_tampered_signature(client: FlaskClient, account: User) -> None:
    token = sign_in(client, "reader@example.com")["access_token"]
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    response = client.get("/api/v1/auth/me", headers=bearer(forged))
    assert (response.status_code, error_code(response)) == (401, "token_invalid")


def test_tampered_claims_keep_no_signature(client: FlaskClient, account: User) -> None:
    token = sign_in(client, "reader@example.com")["access_token"]
    head, _, signature = token.split(".")
    claims = {**_claims(token), "sub": "2"}
    response = client.get("/api/v1/auth/me", headers=bearer(f"{head}.{_b64(claims)}.{signature}"))
    assert (response.status_code, error_code(response)) == (401, "token_invalid")


def test_alg_none_is_refused(client: FlaskClient, account: User) -> None:
    claims = _claims(sign_in(client, "reader@example.com")["access_token"])
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    response = client.get("/api/v1/auth/me", headers=bearer(unsigned))
    assert (response.status_code, error_code(response)) == (401, "token_invalid")


# PyJWT warns that the app's key is short for HS512: this test signs with it on purpose.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize(("key", "algorithm"), [("the right key", "HS512"), ("wrong", "HS256")])
def test_other_algorithm_or_key_is_refused(
    client: FlaskClient, account: User, sqlite_app: Flask, key: str, algorithm: str
) -> None:
    claims = _claims(sign_in(client, "reader@example.com")["access_token"])
    secret = sqlite_app.config["JWT_SECRET_KEY"] if key == "the right key" else "x" * 32
    token = pyjwt.encode(claims, secret, algorithm=algorithm)
    response = client.get("/api/v1/auth/me", headers=bearer(token))
    assert (response.status_code, error_code(response)) == (401, "token_invalid")


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
def test_missing_or_malformed_token(client: FlaskClient, header: str) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert error_code(response) in {"token_missing", "token_invalid"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_header_is_token_missing(client: FlaskClient) -> None:
    assert error_code(client.get("/api/v1/credits/balance")) == "token_missing"


def test_refresh_token_used_as_access_token(client: FlaskClient, account: User) -> None:
    session = sign_in(client, "reader@example.com")
    response = client.get("/api/v1/auth/me", headers=bearer(session["refresh_token"]))
    assert (response.status_code, error_code(response)) == (401, "wrong_token_type")
    response = client.post("/api/v1/auth/refresh", headers=bearer(session["access_token"]))
    assert (response.status_code, error_code(response)) == (401, "wrong_token_type")


def test_token_of_a_deleted_user(client: FlaskClient, account: User, sqlite_app: Flask) -> None:
    session = sign_in(client, "reader@example.com")
    with sqlite_app.app_context():
        db.session.execute(delete(User).where(User.email == "reader@example.com"))
        db.session.commit()
    me = client.get("/api/v1/auth/me", headers=bearer(session["access_token"]))
    assert (me.status_code, error_code(me)) == (401, "user_not_found")
    refresh = client.post("/api/v1/auth/refresh", headers=bearer(session["refresh_token"]))
    assert (refresh.status_code, error_code(refresh)) == (401, "user_not_found")


def test_no_signup_credits_when_the_setting_is_zero(sqlite_template: Path, tmp_path: Path) -> None:
    app = sqlite_app_from(sqlite_template, tmp_path, FOLIO_SIGNUP_CREDITS="0")
    response = app.test_client().post(
        "/api/v1/auth/register", json={"email": "free@example.com", "password": STRONG}
    )
    assert response.status_code == 201
    assert response.get_json()["user"]["balance"] == 0
    with app.app_context():
        assert db.session.scalars(select(LedgerEntry)).all() == []
        assert db.session.scalar(select(User.email)) == "free@example.com"
