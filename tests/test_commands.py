"""The admin commands: `flask users create`, `flask credits grant`, `flask credits monthly`."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from factories import make_user
from folio.extensions import db
from folio.models import LedgerEntry, LedgerKind, Role, User

STRONG = "a long enough passphrase"


def test_users_create_admin_with_credits(sqlite_app: Flask) -> None:
    result = sqlite_app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "Admin@Example.com",
            "--password",
            STRONG,
            "--admin",
            "--credits",
            "50",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin admin@example.com" in result.output
    with sqlite_app.app_context():
        user = db.session.scalars(select(User)).one()
        assert (user.role, user.balance) == (Role.ADMIN, 50)
        entry = db.session.scalars(select(LedgerEntry)).one()
        assert (entry.kind, entry.delta) == (LedgerKind.ADMIN_GRANT, 50)
    login = sqlite_app.test_client().post(
        "/api/v1/auth/login", json={"email": "admin@example.com", "password": STRONG}
    )
    assert login.get_json()["user"]["role"] == "admin"


def test_users_create_without_credits_has_an_empty_ledger(sqlite_app: Flask) -> None:
    result = sqlite_app.test_cli_runner().invoke(
        args=["users", "create", "plain@example.com", "--password", STRONG]
    )
    assert result.exit_code == 0, result.output
    with sqlite_app.app_context():
        assert db.session.scalar(select(User.role)) == Role.USER
        assert db.session.scalars(select(LedgerEntry)).all() == []


def test_users_create_refuses_weak_password_and_taken_email(sqlite_app: Flask) -> None:
    runner = sqlite_app.test_cli_runner()
    weak = runner.invoke(args=["users", "create", "a@example.com", "--password", "short"])
    assert weak.exit_code == 2
    assert "at least 10 characters" in weak.output
    assert (
        runner.invoke(args=["users", "create", "a@example.com", "--password", STRONG]).exit_code
        == 0
    )
    taken = runner.invoke(args=["users", "create", "A@example.com", "--password", STRONG])
    assert taken.exit_code == 1
    assert "already uses this e-mail address" in taken.output


def test_credits_grant(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        make_user("reader@example.com", granted=5)
    runner = sqlite_app.test_cli_runner()
    result = runner.invoke(args=["credits", "grant", "READER@example.com", "25", "--note", "gift"])
    assert result.exit_code == 0, result.output
    assert "balance 30" in result.output
    unknown = runner.invoke(args=["credits", "grant", "nobody@example.com", "25"])
    assert unknown.exit_code == 1
    assert "No user has the e-mail address" in unknown.output
    assert runner.invoke(args=["credits", "grant", "reader@example.com", "0"]).exit_code == 2


def test_credits_monthly_grants_once_per_month(sqlite_app: Flask) -> None:
    with sqlite_app.app_context():
        make_user()
        make_user()
    runner = sqlite_app.test_cli_runner()
    first = runner.invoke(args=["credits", "monthly"])
    assert first.exit_code == 0, first.output
    assert "2 accounts granted, 0 already had it" in first.output
    second = runner.invoke(args=["credits", "monthly"])
    assert "0 accounts granted, 2 already had it" in second.output
    with sqlite_app.app_context():
        assert db.session.scalars(select(User.balance)).all() == [500, 500]
