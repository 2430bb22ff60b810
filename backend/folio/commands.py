"""Admin commands on the Flask CLI: `flask --app folio.wsgi users …` and `… credits …`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import AppGroup

from folio.models import Role
from folio.models.base import utcnow
from folio.services import credits, users
from folio.services.errors import ServiceError

users_cli = AppGroup("users", help="Manage accounts.")
credits_cli = AppGroup("credits", help="Grant credits.")


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when omitted (keeps it out of the shell history).",
)
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--credits", "amount", type=click.IntRange(0), default=0, help="Credits to grant.")
def create_user(email: str, password: str, admin: bool, amount: int) -> None:
    """Create an account (no signup credits: grant them with --credits)."""
    problems = users.password_problems(password, email)
    if problems:
        raise click.BadParameter(" ".join(problems), param_hint="--password")
    with _as_click_errors():
        user = users.create_user(email, password, Role.ADMIN if admin else Role.USER, amount)
    click.echo(f"Created {user.role} {user.email} (id {user.id}) with {user.balance} credits.")


@credits_cli.command("grant")
@click.argument("email")
@click.argument("amount", type=click.IntRange(1))
@click.option("--note", default=None, help="Why, for the ledger.")
def grant(email: str, amount: int, note: str | None) -> None:
    """Grant AMOUNT credits to the account EMAIL."""
    with _as_click_errors():
        user = users.get_user_by_email(email)
        entry = credits.admin_grant(user.id, amount, note)
    click.echo(f"Granted {amount} credits to {user.email}; balance {entry.balance_after}.")


@credits_cli.command("monthly")
def monthly() -> None:
    """Grant this month's credits to every account that has not had them yet."""
    report = credits.grant_monthly_to_all(utcnow())
    click.echo(
        f"Monthly grant {report.period}: {report.granted} accounts granted, "
        f"{report.already_granted} already had it."
    )


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """Show a service refusal (e-mail taken, unknown account) as a one-line CLI error."""
    try:
        yield
    except ServiceError as error:
        raise click.ClickException(error.message) from None


def register_commands(app: Flask) -> None:
    """Add the admin command groups to `app.cli`."""
    app.cli.add_command(users_cli)
    app.cli.add_command(credits_cli)
