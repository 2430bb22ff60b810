"""docs/configuration.md and .env.example against what Folio reads, both ways: a variable Folio
reads but neither lists is an undocumented knob; one they list that nothing reads is a lie."""

from __future__ import annotations

import pytest

from envnames import (
    documented_names,
    env_example_names,
    env_example_values,
    product_names,
    settings_names,
    source_names,
    suite_names,
)
from folio.config import Settings


def test_introspection_finds_the_settings() -> None:
    names = settings_names()
    # A few of each kind: plain, built from a prefix at run time, read in one branch only.
    assert {"FOLIO_DATABASE_URL", "FOLIO_CHUNK_LANES", "FOLIO_SECRET_KEY"} <= names
    assert {"FOLIO_GEMINI_MODEL", "FOLIO_OPENAI_MODEL", "FOLIO_GEMINI_API_VERSION"} <= names
    assert {"FOLIO_WAIT_SECONDS", "FOLIO_WORKER_CONCURRENCY"} <= source_names()
    assert "FOLIO_SETTINGS" not in product_names()  # a Flask config key, not a variable


def test_env_example_lists_every_variable_folio_reads() -> None:
    missing = product_names() - env_example_names()
    assert not missing, f"read by Folio but missing from .env.example: {sorted(missing)}"


def test_env_example_lists_no_folio_variable_that_nothing_reads() -> None:
    listed = {name for name in env_example_names() if name.startswith("FOLIO_")}
    unknown = listed - product_names()
    assert not unknown, f"in .env.example but read by nothing: {sorted(unknown)}"


def test_the_configuration_reference_documents_every_variable() -> None:
    missing = (product_names() | suite_names()) - documented_names()
    assert not missing, f"read but not documented in docs/configuration.md: {sorted(missing)}"


def test_the_configuration_reference_documents_nothing_unknown() -> None:
    # Every row names a variable that Folio, the test-suite or a compose file reads, or that
    # .env.example sets for the compose files (tests/test_compose.py checks those are used).
    known = product_names() | suite_names() | env_example_names()
    unknown = documented_names() - known - COMPOSE_ONLY
    assert not unknown, f"documented but read by nothing: {sorted(unknown)}"


# Documented for docker-compose.dev.yml's frontend service; set there, not in .env.
COMPOSE_ONLY = {"API_PROXY_URL"}


def test_every_example_value_is_accepted() -> None:
    # Copying .env.example to .env must give settings that load: each value parses.
    environ = {
        name: value for name, value in env_example_values().items() if name in settings_names()
    }
    settings = Settings.from_env(environ)
    assert settings.env == environ["FOLIO_ENV"]


@pytest.mark.parametrize("name", ["FOLIO_SECRET_KEY", "FOLIO_FLOWER_PASSWORD", "POSTGRES_PASSWORD"])
def test_secrets_are_left_empty_in_the_example(name: str) -> None:
    assert env_example_values()[name] == ""
