"""Settings read once from the environment (variables prefixed `FOLIO_`)."""

from __future__ import annotations

import functools
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, cast

from flask import current_app
from limits import parse_many

from folio.pipeline.budgets import Budgets
from folio.pipeline.processors.base import Limiter
from folio.pipeline.processors.llm.config import (
    DEFAULT_ALLOWED_MODELS,
    DEFAULT_MODELS,
    FALLBACKS,
    LLMConfig,
)
from folio.pipeline.processors.llm.pricing import DEFAULT_PRICING, ModelPrice, parse_pricing

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "var"
# The corpus of real novels is shared by the checkouts that sit next to this one.
DEFAULT_CORPUS_DIR = (REPO_ROOT / ".." / "shared" / "corpus").resolve()
# The frontend's static export (`make run` builds it), served at `/` (docs/frontend.md).
DEFAULT_FRONTEND_DIR = REPO_ROOT / "frontend" / "out"
MIGRATIONS_DIR = REPO_ROOT / "migrations"
JWT_ISSUER = "folio"

Environment = Literal["development", "production", "test"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "production", "test")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raw(environ: Mapping[str, str], name: str) -> str | None:
    """Return the stripped value of `name`, or None when it is unset or blank."""
    # Blank counts as unset: compose files often write `FOLIO_X=` to mean "use the default".
    value = environ.get(name, "").strip()
    return value or None


def env_str(environ: Mapping[str, str], name: str, default: str) -> str:
    """Read a string variable, falling back to `default`."""
    value = _raw(environ, name)
    return default if value is None else value


def env_int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    """Read an integer variable of at least `minimum`; raise ValueError naming it otherwise."""
    value = _raw(environ, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(
    environ: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0
) -> float:
    """Read a number of at least `minimum`; raise ValueError naming the variable otherwise."""
    value = _raw(environ, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not number >= minimum or number == float("inf"):
        raise ValueError(f"{name} must be a finite number of at least {minimum}, got {value!r}")
    return number


def env_list(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Read a comma-separated list (blank items dropped)."""
    value = _raw(environ, name)
    if value is None:
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a boolean variable (1/0, true/false, yes/no, on/off); raise ValueError otherwise."""
    value = _raw(environ, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {value!r}")


def env_path(environ: Mapping[str, str], name: str, default: Path) -> Path:
    """Read a path variable as an absolute path (`~` expanded, relative to the working dir)."""
    value = _raw(environ, name)
    return (default if value is None else Path(value).expanduser()).resolve()


def env_rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    """Read a rate limit such as "10 per minute" (Flask-Limiter syntax); raise ValueError if bad."""
    value = env_str(environ, name, default)
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"{name} must be a rate limit such as '10 per minute', got {value!r}"
        ) from None
    return value


def database_url(environ: Mapping[str, str], data_dir: Path) -> str:
    """Read FOLIO_DATABASE_URL (default: SQLite in the data dir); PostgreSQL uses psycopg 3."""
    url = env_str(environ, "FOLIO_DATABASE_URL", f"sqlite:///{data_dir / 'folio.db'}")
    # `postgresql://` alone would pick psycopg2, which is not installed.
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def env_choice(
    environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]
) -> str:
    """Read a variable that must be one of `choices` (any case); raise ValueError otherwise."""
    value = env_str(environ, name, default).lower()
    allowed = {choice.lower(): choice for choice in choices}
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return allowed[value]


def llm_config(environ: Mapping[str, str], provider: str) -> LLMConfig:
    """One LLM provider's configuration: FOLIO_GEMINI_* or FOLIO_OPENAI_*, and FOLIO_LLM_*."""
    prefix = f"FOLIO_{provider.upper()}_"
    default_model = DEFAULT_MODELS[provider]
    budget = env_int(environ, "FOLIO_GEMINI_THINKING_BUDGET", 0, minimum=-1)
    return LLMConfig(
        provider=provider,
        model=env_str(environ, prefix + "MODEL", default_model),
        api_key=env_str(environ, prefix + "API_KEY", ""),
        base_url=env_str(environ, prefix + "BASE_URL", ""),
        api_version=env_str(environ, prefix + "API_VERSION", "v1beta")
        if provider == "gemini"
        else "",
        models=env_list(environ, prefix + "MODELS", DEFAULT_ALLOWED_MODELS[provider]),
        timeout_seconds=env_float(environ, "FOLIO_LLM_TIMEOUT_SECONDS", 60.0, minimum=0.01),
        batch_items=env_int(environ, "FOLIO_LLM_BATCH_ITEMS", 20),
        # A chunk's batches in flight at once, all within the shared rate limit (1..64).
        concurrency=env_int(environ, "FOLIO_LLM_CONCURRENCY", 8),
        context_sentences=env_int(environ, "FOLIO_LLM_CONTEXT_SENTENCES", 2, minimum=0),
        max_attempts=env_int(environ, "FOLIO_LLM_MAX_ATTEMPTS", 4),
        backoff_seconds=env_float(environ, "FOLIO_LLM_BACKOFF_SECONDS", 1.0),
        backoff_max_seconds=env_float(environ, "FOLIO_LLM_BACKOFF_MAX_SECONDS", 60.0),
        fallback=env_choice(environ, "FOLIO_LLM_FALLBACK", "local", FALLBACKS),
        drift_threshold=env_float(environ, "FOLIO_LLM_DRIFT_THRESHOLD", 0.7),
        # -1: leave thinking to the model's default (models that cannot turn it off).
        thinking_budget=None if budget == -1 else budget,
    )


def budgets_from_env(environ: Mapping[str, str]) -> Budgets:
    """The sandbox's limits and the per-page budgets (FOLIO_SANDBOX_*, FOLIO_PAGE_*)."""
    default = Budgets()
    return Budgets(
        memory_mb=env_int(environ, "FOLIO_SANDBOX_MEMORY_MB", default.memory_mb, minimum=64),
        seconds=env_float(environ, "FOLIO_SANDBOX_SECONDS", default.seconds, minimum=1.0),
        inspect_seconds=env_float(
            environ, "FOLIO_INSPECT_SECONDS", default.inspect_seconds, minimum=1.0
        ),
        page_seconds=env_float(environ, "FOLIO_PAGE_SECONDS", default.page_seconds, minimum=1.0),
        page_content_mb=env_float(
            environ, "FOLIO_PAGE_MAX_CONTENT_MB", default.page_content_mb, minimum=0.1
        ),
        page_text_objects=env_int(
            environ, "FOLIO_PAGE_MAX_TEXT_OBJECTS", default.page_text_objects
        ),
        page_chars=env_int(environ, "FOLIO_PAGE_MAX_CHARS", default.page_chars),
        page_lines=env_int(environ, "FOLIO_PAGE_MAX_LINES", default.page_lines),
    )


def ratelimit_storage_url(environ: Mapping[str, str], data_dir: Path) -> str:
    """FOLIO_RATELIMIT_STORAGE_URL; by default a SQLite file in the data dir.

    A file, not memory: the API's processes (gunicorn's workers) must share one count.
    """
    default = f"sqlite:///{data_dir / 'ratelimits.db'}"
    return env_str(environ, "FOLIO_RATELIMIT_STORAGE_URL", default)


def llm_limits_url(environ: Mapping[str, str], data_dir: Path) -> str:
    """FOLIO_LLM_LIMITS_URL; by default the rate-limit Redis, else a file in the data dir."""
    storage = ratelimit_storage_url(environ, data_dir)
    # A file, not memory: the worker's pool processes must share one limit.
    file = f"sqlite:///{data_dir / 'llm-limits.db'}"
    default = storage if storage.startswith(("redis://", "rediss://")) else file
    return env_str(environ, "FOLIO_LLM_LIMITS_URL", default)


def llm_pricing(environ: Mapping[str, str]) -> dict[str, ModelPrice]:
    """FOLIO_LLM_PRICING: credits per 1000 tokens by model (see processors.llm.pricing)."""
    return parse_pricing(env_str(environ, "FOLIO_LLM_PRICING", json.dumps(DEFAULT_PRICING)))


@functools.cache
def _process_secret_key() -> str:
    """Return a random secret key, the same for every call within this process."""
    return secrets.token_urlsafe(32)


def _secret_key(environ: Mapping[str, str], env: Environment) -> str:
    """Read FOLIO_SECRET_KEY; required in production, random per process elsewhere."""
    value = _raw(environ, "FOLIO_SECRET_KEY")
    if value is not None:
        return value
    if env == "production":
        raise ValueError("FOLIO_SECRET_KEY is required when FOLIO_ENV=production")
    # Sessions signed with it do not survive a restart, which is fine outside production.
    return _process_secret_key()


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of the application, read once from the environment by `from_env`."""

    env: Environment
    # Kept out of the repr so that logging the settings never prints the key.
    secret_key: str = field(repr=False)
    data_dir: Path
    max_upload_mb: int
    max_pages: int
    log_level: str
    # "json" (one object per line, the production default) or "text" (docs/observability.md).
    log_format: str
    corpus_dir: Path
    frontend_dir: Path
    # URLs may carry passwords: kept out of the repr as well.
    database_url: str = field(repr=False)
    jwt_secret_key: str = field(repr=False)
    jwt_access_minutes: int
    jwt_refresh_days: int
    ratelimit_enabled: bool
    ratelimit_storage_url: str = field(repr=False)
    login_rate_limit: str
    job_rate_limit: str
    trusted_proxies: int
    monthly_credits: int
    signup_credits: int
    credits_per_page: int
    # OCR (docs/ocr.md): the extra price of a page it reads, the most such pages a chunk
    # holds, and this instance's OCR throughput, for the preflight's time estimate.
    ocr_credits_per_page: int
    ocr_chunk_pages: int
    ocr_pages_per_minute: int
    # The task queue (Celery): broker and results, and the fan-out's tuning.
    broker_url: str = field(repr=False)
    result_backend: str = field(repr=False)
    chunk_pages: int
    chunk_lanes: int
    chunk_lease_seconds: int
    chunk_max_attempts: int
    chunk_time_limit: int
    # Chunk workers load the French parser before their pool forks (taskqueue/preload.py).
    preload_parser: bool
    reconcile_seconds: int
    chord_unlock_seconds: int
    upload_ttl_minutes: int
    flower_user: str
    flower_password: str = field(repr=False)
    # LLM processors (docs/llm.md). The API keys live inside and stay out of every repr.
    gemini: LLMConfig
    openai: LLMConfig
    llm_pricing: dict[str, ModelPrice] = field(hash=False)
    llm_limits_url: str = field(repr=False)
    llm_rpm: int
    llm_tpm: int
    llm_limit_window_seconds: float
    # Bearer token of GET /metrics; empty: the endpoint is off (404).
    metrics_token: str = field(repr=False)
    # Bounds of the sandboxes that read documents, and every page's budgets.
    budgets: Budgets = field(default_factory=Budgets)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from `environ` (default: `os.environ`), validating every value."""
        environ = os.environ if environ is None else environ
        env = cast(Environment, env_choice(environ, "FOLIO_ENV", "development", ENVIRONMENTS))
        secret_key = _secret_key(environ, env)
        data_dir = env_path(environ, "FOLIO_DATA_DIR", DEFAULT_DATA_DIR)
        return cls(
            env=env,
            secret_key=secret_key,
            data_dir=data_dir,
            max_upload_mb=env_int(environ, "FOLIO_MAX_UPLOAD_MB", 100),
            max_pages=env_int(environ, "FOLIO_MAX_PAGES", 2000),
            log_level=env_choice(environ, "FOLIO_LOG_LEVEL", "INFO", LOG_LEVELS),
            log_format=env_choice(
                environ, "FOLIO_LOG_FORMAT", "json" if env == "production" else "text", LOG_FORMATS
            ),
            corpus_dir=env_path(environ, "FOLIO_CORPUS_DIR", DEFAULT_CORPUS_DIR),
            frontend_dir=env_path(environ, "FOLIO_FRONTEND_DIR", DEFAULT_FRONTEND_DIR),
            database_url=database_url(environ, data_dir),
            jwt_secret_key=env_str(environ, "FOLIO_JWT_SECRET_KEY", secret_key),
            jwt_access_minutes=env_int(environ, "FOLIO_JWT_ACCESS_MINUTES", 15),
            jwt_refresh_days=env_int(environ, "FOLIO_JWT_REFRESH_DAYS", 14),
            ratelimit_enabled=env_bool(environ, "FOLIO_RATELIMIT_ENABLED", True),
            ratelimit_storage_url=ratelimit_storage_url(environ, data_dir),
            login_rate_limit=env_rate_limit(environ, "FOLIO_LOGIN_RATE_LIMIT", "10 per minute"),
            job_rate_limit=env_rate_limit(environ, "FOLIO_JOB_RATE_LIMIT", "10 per hour"),
            trusted_proxies=env_int(environ, "FOLIO_TRUSTED_PROXIES", 0, minimum=0),
            monthly_credits=env_int(environ, "FOLIO_MONTHLY_CREDITS", 500, minimum=0),
            signup_credits=env_int(environ, "FOLIO_SIGNUP_CREDITS", 100, minimum=0),
            credits_per_page=env_int(environ, "FOLIO_CREDITS_PER_PAGE", 1),
            ocr_credits_per_page=env_int(environ, "FOLIO_OCR_CREDITS_PER_PAGE", 2, minimum=0),
            ocr_chunk_pages=env_int(environ, "FOLIO_OCR_CHUNK_PAGES", 10),
            ocr_pages_per_minute=env_int(environ, "FOLIO_OCR_PAGES_PER_MINUTE", 60),
            broker_url=env_str(environ, "FOLIO_BROKER_URL", "filesystem://"),
            result_backend=env_str(
                environ, "FOLIO_RESULT_BACKEND", f"db+sqlite:///{data_dir / 'celery-results.db'}"
            ),
            chunk_pages=env_int(environ, "FOLIO_CHUNK_PAGES", 25),
            chunk_lanes=env_int(environ, "FOLIO_CHUNK_LANES", 4),
            chunk_lease_seconds=env_int(environ, "FOLIO_CHUNK_LEASE_SECONDS", 15),
            chunk_max_attempts=env_int(environ, "FOLIO_CHUNK_MAX_ATTEMPTS", 3),
            chunk_time_limit=env_int(environ, "FOLIO_CHUNK_TIME_LIMIT", 600),
            preload_parser=env_bool(environ, "FOLIO_PRELOAD_PARSER", True),
            reconcile_seconds=env_int(environ, "FOLIO_RECONCILE_SECONDS", 5),
            chord_unlock_seconds=env_int(environ, "FOLIO_CHORD_UNLOCK_SECONDS", 3600),
            upload_ttl_minutes=env_int(environ, "FOLIO_UPLOAD_TTL_MINUTES", 60),
            flower_user=env_str(environ, "FOLIO_FLOWER_USER", "admin"),
            flower_password=env_str(environ, "FOLIO_FLOWER_PASSWORD", ""),
            gemini=llm_config(environ, "gemini"),
            openai=llm_config(environ, "openai"),
            llm_pricing=llm_pricing(environ),
            llm_limits_url=llm_limits_url(environ, data_dir),
            llm_rpm=env_int(environ, "FOLIO_LLM_RPM", 60),
            llm_tpm=env_int(environ, "FOLIO_LLM_TPM", 1_000_000),
            llm_limit_window_seconds=env_float(
                environ, "FOLIO_LLM_LIMIT_WINDOW_SECONDS", 60.0, minimum=0.1
            ),
            metrics_token=env_str(environ, "FOLIO_METRICS_TOKEN", ""),
            budgets=budgets_from_env(environ),
        )

    @property
    def llm(self) -> dict[str, LLMConfig]:
        """The LLM processors' configurations by processor name (for `ProcessContext.llm`)."""
        return {"gemini": self.gemini, "openai": self.openai}

    def llm_limiter(self) -> Limiter:
        """This process's shared rate limiter for LLM calls (Redis when configured)."""
        from folio.pipeline.processors.llm.limits import shared_limiter

        return shared_limiter(
            self.llm_limits_url, self.llm_rpm, self.llm_tpm, self.llm_limit_window_seconds
        )

    @property
    def chunk_renew_seconds(self) -> float:
        """How often a running chunk's heartbeat renews its lease: five times per lease."""
        return self.chunk_lease_seconds / 5

    @property
    def uploads_dir(self) -> Path:
        """Where uploaded PDFs are stored, under names the server made."""
        return self.data_dir / "uploads"

    @property
    def broker_dir(self) -> Path:
        """The embedded broker's message folder (the `filesystem://` transport)."""
        return self.data_dir / "broker"

    def engine_options(self) -> dict[str, Any]:
        """SQLAlchemy engine options: replace dead connections; fail fast on a dead server."""
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.database_url.startswith("postgresql"):
            # Without it a request waits for the OS's TCP timeout (minutes) when PostgreSQL
            # is unreachable, holding a gunicorn worker; with it the error is a fast 5xx.
            options["connect_args"] = {"connect_timeout": 5}
        return options

    def flask_config(self) -> dict[str, Any]:
        """Return the Flask config mapping, with these settings under `FOLIO_SETTINGS`."""
        return {
            "SECRET_KEY": self.secret_key,
            "MAX_CONTENT_LENGTH": self.max_upload_mb * 1024 * 1024,
            "TESTING": self.env == "test",
            "FOLIO_SETTINGS": self,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            # A connection that the server closed (restart, idle timeout) is replaced, not used.
            "SQLALCHEMY_ENGINE_OPTIONS": self.engine_options(),
            "JWT_SECRET_KEY": self.jwt_secret_key,
            # Pinned on both sides, so a token that names another algorithm (`none`) is refused.
            "JWT_ALGORITHM": "HS256",
            "JWT_DECODE_ALGORITHMS": ["HS256"],
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=self.jwt_access_minutes),
            "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=self.jwt_refresh_days),
            "JWT_ENCODE_ISSUER": JWT_ISSUER,
            "JWT_DECODE_ISSUER": JWT_ISSUER,
            # Never the query string: URLs end up in logs and Referer headers.
            "JWT_TOKEN_LOCATION": ["headers"],
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_url,
            "RATELIMIT_HEADERS_ENABLED": True,
            "API_TITLE": "Folio API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "docs",
            "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        }


def current_settings() -> Settings:
    """The settings of the Flask app in the current app context."""
    settings: Settings = current_app.config["FOLIO_SETTINGS"]
    return settings
