"""GET /metrics: off without a token, refused without the right one, and the numbers of a
finished job read from the database and queue depths from the broker."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

import databases
from factories import make_chunks, make_job, make_user
from folio.config import Settings
from folio.extensions import db
from folio.models import ChunkStatus, JobStatus
from folio.models.base import utcnow
from folio.services import credits

TOKEN = "scrape-token-0123456789"
REDIS_TEST_URL = databases.REDIS_URL.rsplit("/", 1)[0] + "/10"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def with_token(app: Flask, token: str = TOKEN) -> Flask:
    """`app` with FOLIO_METRICS_TOKEN set to `token`."""
    settings: Settings = app.config["FOLIO_SETTINGS"]
    app.config["FOLIO_SETTINGS"] = dataclasses.replace(settings, metrics_token=token)
    return app


def scrape(app: Flask) -> Samples:
    """GET /metrics with the token; every sample by name and labels."""
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value."""
    return samples[(name, frozenset(labels.items()))]


def test_metrics_are_off_without_a_token(sqlite_app: Flask) -> None:
    response = sqlite_app.test_client().get("/metrics")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_metrics_refuse_a_scraper_without_the_token(sqlite_app: Flask, header: str | None) -> None:
    client = with_token(sqlite_app).test_client()
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "metrics_unauthorized"
    assert "folio_jobs" not in response.get_data(as_text=True)


def test_metrics_count_a_finished_job(db_app: Flask) -> None:
    app = with_token(db_app)
    with app.app_context():
        user = make_user(granted=100)
        job = make_job(user, page_count=9)
        credits.reserve(user.id, job.id, 9)
        chunks = make_chunks(job, [ChunkStatus.DONE, ChunkStatus.DONE, ChunkStatus.FAILED])
        now = utcnow()
        for chunk, seconds in zip(chunks, (0.3, 4.0, 0.05), strict=True):
            chunk.seconds, chunk.finished_at = seconds, now
        job.status, job.updated_at = JobStatus.PARTIAL, now
        job.model, job.llm_calls, job.tokens_in, job.tokens_out = "gemini-x", 3, 1200, 300
        db.session.commit()
        credits.settle(job.id, 6)
        make_job(user)  # a second job, still queued

    samples = scrape(app)

    assert value(samples, "folio_jobs", status="partial") == 1
    assert value(samples, "folio_jobs", status="queued") == 1
    assert value(samples, "folio_jobs", status="completed") == 0
    assert value(samples, "folio_credits_reserved_total") == 9
    assert value(samples, "folio_credits_charged_total") == 6
    assert value(samples, "folio_llm_calls_total", model="gemini-x") == 3
    assert value(samples, "folio_llm_tokens_total", model="gemini-x", direction="in") == 1200
    assert value(samples, "folio_llm_tokens_total", model="gemini-x", direction="out") == 300
    histogram = "folio_chunk_duration_seconds_bucket"
    assert value(samples, histogram, le="0.1") == 1
    assert value(samples, histogram, le="0.5") == 2
    assert value(samples, histogram, le="2.5") == 2
    assert value(samples, histogram, le="5.0") == 3
    assert value(samples, histogram, le="+Inf") == 3
    assert value(samples, "folio_chunk_duration_seconds_gcount") == 3
    assert value(samples, "folio_chunk_duration_seconds_gsum") == pytest.approx(4.35)
    assert value(samples, "folio_metrics_source_up", source="database") == 1


def test_queue_depth_counts_the_embedded_brokers_files(sqlite_app: Flask) -> None:
    app = with_token(sqlite_app)
    app.extensions["celery"].send_task("folio.reconcile", queue="chunks-2")
    samples = scrape(app)
    assert value(samples, "folio_queue_depth", queue="chunks-2") == 1
    assert value(samples, "folio_queue_depth", queue="control") == 0
    assert value(samples, "folio_metrics_source_up", source="broker") == 1


@pytest.fixture
def redis_app(tmp_path: Path, sqlite_template: Path) -> Iterator[Flask]:
    """An app whose broker is the test Redis, database 10 (emptied before and after)."""
    databases.check_redis()
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield databases.sqlite_app_from(
        sqlite_template, tmp_path, FOLIO_BROKER_URL=REDIS_TEST_URL, FOLIO_METRICS_TOKEN=TOKEN
    )
    client.flushdb()


def test_queue_depth_reads_redis(redis_app: Flask) -> None:
    celery = redis_app.extensions["celery"]
    for _ in range(2):
        celery.send_task("folio.reconcile", queue="chunks-1")
    samples = scrape(redis_app)
    assert value(samples, "folio_queue_depth", queue="chunks-1") == 2
    assert value(samples, "folio_queue_depth", queue="chunks-0") == 0


def test_a_broker_that_is_down_hides_only_its_own_metrics(
    tmp_path: Path, sqlite_template: Path
) -> None:
    app = databases.sqlite_app_from(
        sqlite_template,
        tmp_path,
        FOLIO_BROKER_URL="redis://:secret-pw@127.0.0.1:1/0",
        FOLIO_METRICS_TOKEN=TOKEN,
    )
    samples = scrape(app)
    assert value(samples, "folio_metrics_source_up", source="broker") == 0
    assert value(samples, "folio_metrics_source_up", source="database") == 1
    assert not any(name == "folio_queue_depth" for name, _ in samples)
    assert value(samples, "folio_jobs", status="queued") == 0
