"""The settings of accounts, tokens, rate limits and credits (FOLIO_* variables)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from folio.config import REPO_ROOT, Settings


def test_defaults() -> None:
    settings = Settings.from_env({"FOLIO_SECRET_KEY": "k" * 40})
    assert settings.database_url == f"sqlite:///{REPO_ROOT / 'var' / 'folio.db'}"
    assert settings.jwt_secret_key == "k" * 40
    assert (settings.jwt_access_minutes, settings.jwt_refresh_days) == (15, 14)
    assert settings.ratelimit_enabled is True
    # A file every API process shares (gunicorn's workers must count together).
    assert settings.ratelimit_storage_url == f"sqlite:///{REPO_ROOT / 'var' / 'ratelimits.db'}"
    assert settings.login_rate_limit == "10 per minute"
    assert settings.job_rate_limit == "10 per hour"
    assert settings.trusted_proxies == 0
    assert (settings.monthly_credits, settings.signup_credits, settings.credits_per_page) == (
        500,
        100,
        1,
    )


def test_values_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "FOLIO_DATA_DIR": str(tmp_path),
            "FOLIO_JWT_SECRET_KEY": "jwt-only",
            "FOLIO_JWT_ACCESS_MINUTES": "5",
            "FOLIO_JWT_REFRESH_DAYS": "30",
            "FOLIO_RATELIMIT_ENABLED": "false",
            "FOLIO_RATELIMIT_STORAGE_URL": "redis://:pw@127.0.0.1:6379/0",
            "FOLIO_LOGIN_RATE_LIMIT": "5/minute;20/hour",
            "FOLIO_TRUSTED_PROXIES": "1",
            "FOLIO_SIGNUP_CREDITS": "0",
            "FOLIO_MONTHLY_CREDITS": "0",
            "FOLIO_CREDITS_PER_PAGE": "2",
        }
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'folio.db'}"
    assert settings.jwt_secret_key == "jwt-only"
    assert (settings.jwt_access_minutes, settings.jwt_refresh_days) == (5, 30)
    assert settings.ratelimit_enabled is False
    assert settings.login_rate_limit == "5/minute;20/hour"
    assert settings.trusted_proxies == 1
    assert (settings.signup_credits, settings.monthly_credits, settings.credits_per_page) == (
        0,
        0,
        2,
    )
    # Secrets and URLs that may hold passwords never show in the repr.
    assert "jwt-only" not in repr(settings) and ":pw@" not in repr(settings)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://folio:pw@db:5432/folio", "postgresql+psycopg://folio:pw@db:5432/folio"),
        ("postgres://folio@db/folio", "postgresql+psycopg://folio@db/folio"),
        ("postgresql+psycopg://db/folio", "postgresql+psycopg://db/folio"),
        ("sqlite:////srv/folio.db", "sqlite:////srv/folio.db"),
    ],
)
def test_database_url_uses_psycopg_3(given: str, used: str) -> None:
    assert Settings.from_env({"FOLIO_DATABASE_URL": given}).database_url == used


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FOLIO_SIGNUP_CREDITS", "-1"),
        ("FOLIO_CREDITS_PER_PAGE", "0"),
        ("FOLIO_JWT_ACCESS_MINUTES", "0"),
        ("FOLIO_LOGIN_RATE_LIMIT", "ten a minute"),
        ("FOLIO_RATELIMIT_ENABLED", "perhaps"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_flask_config_pins_hs256_and_lifetimes() -> None:
    config = Settings.from_env({"FOLIO_JWT_ACCESS_MINUTES": "7"}).flask_config()
    assert config["JWT_ALGORITHM"] == "HS256"
    assert config["JWT_DECODE_ALGORITHMS"] == ["HS256"]
    assert config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=7)
    assert config["JWT_REFRESH_TOKEN_EXPIRES"] == timedelta(days=14)
    assert config["JWT_TOKEN_LOCATION"] == ["headers"]
    assert config["RATELIMIT_HEADERS_ENABLED"] is True
