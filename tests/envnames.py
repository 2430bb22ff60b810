"""The environment variables Folio reads, and those that .env.example and the docs name.

What Folio reads is found two ways: `Settings.from_env` is run on a mapping that records every
name it asks for (so names built at run time, such as FOLIO_GEMINI_MODEL, are found too), and
the rest of the product — celery-entrypoint.sh, the dependency wait, the dev supervisor, the
heartbeat — is searched for the reads it makes of the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from folio.config import ENVIRONMENTS, Settings

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO / "celery-entrypoint.sh"
ENV_EXAMPLE = REPO / ".env.example"
CONFIGURATION_DOC = REPO / "docs" / "configuration.md"

NAME = r"[A-Z][A-Z0-9_]*[A-Z0-9]"
FOLIO_NAME = re.compile(r"\bFOLIO_[A-Z0-9_]*[A-Z0-9]\b")
# `environ.get("X"`, `os.getenv("X"`, `env_int(environ, "X"`, `environ["X"]`.
PYTHON_READ = re.compile(
    r"""(?:(?:environ\.get|getenv|env_[a-z]+)\(\s*(?:environ,\s*)?|environ\[)["'](FOLIO_[A-Z0-9_]+)["']"""
)
TEST_READ = re.compile(r"""(?:environ\.get|getenv)\(\s*["'](FOLIO_[A-Z0-9_]+)["']""")
# A documented variable is a table row whose first cell is the name: | `FOLIO_X` | … |
DOC_ROW = re.compile(rf"^\|\s*`({NAME})`\s*\|", re.MULTILINE)
ENV_LINE = re.compile(rf"^({NAME})=", re.MULTILINE)


class _Recorder(dict[str, str]):
    """A mapping that records every key read from it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)


def settings_names() -> set[str]:
    """Every FOLIO_* name `Settings.from_env` reads, in each environment."""
    names: set[str] = set()
    for env in ENVIRONMENTS:
        recorder = _Recorder({"FOLIO_ENV": env, "FOLIO_SECRET_KEY": "x" * 48})
        Settings.from_env(recorder)
        names |= {name for name in recorder.read if name.startswith("FOLIO_")}
    return names


def _python_files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*.py")) if "__pycache__" not in path.parts)


def source_names() -> set[str]:
    """FOLIO_* names read by the product outside Settings: its modules and the entrypoint."""
    names = set(FOLIO_NAME.findall(ENTRYPOINT.read_text(encoding="utf-8")))
    for path in _python_files(REPO / "backend" / "folio"):
        names |= set(PYTHON_READ.findall(path.read_text(encoding="utf-8")))
    return names


def product_names() -> set[str]:
    """Every FOLIO_* variable Folio itself reads: what .env.example must list."""
    return settings_names() | source_names()


def suite_names() -> set[str]:
    """FOLIO_* variables only the tests and benchmarks read (the test servers' addresses)."""
    names: set[str] = set()
    for folder in (REPO / "tests", REPO / "bench"):
        for path in _python_files(folder):
            names |= set(TEST_READ.findall(path.read_text(encoding="utf-8")))
    return names - product_names()


def env_example_names() -> set[str]:
    """Every variable .env.example sets (commented-out lines do not count)."""
    return set(ENV_LINE.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))


def env_example_values() -> dict[str, str]:
    """The values .env.example gives, by name."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if ENV_LINE.match(line):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def documented_names() -> set[str]:
    """Every variable docs/configuration.md documents in a table row of its own."""
    return set(DOC_ROW.findall(CONFIGURATION_DOC.read_text(encoding="utf-8")))
